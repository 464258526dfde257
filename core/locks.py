"""Row locks that more than one app takes, and the one order every transaction takes row
locks in.

Two transactions that lock the same rows in opposite orders deadlock, and PostgreSQL aborts
one of them. So a transaction that holds several row locks takes them in this order, never
a lock of an earlier kind after one of a later kind:

1. webhook event (``payments.WebhookEvent``: ``webhook_process`` claims it first)
2. order (``payments.Order``), then its payment or refund rows, then the order's coupon
3. one-time code (``accounts.OTPChallenge``: its redemption then reaches the account)
4. project submission (``programs.ProjectSubmission``: a review then records progress)
5. **the user** (``lock_user``): the per-learner lock. It serialises what one learner
   does across apps — enrolments (``catalogue``), starts (``sessions_app``), program
   progress (``programs``), profile, password and devices (``accounts``) — and a purchase
   takes it through ``catalogue.services.enrollment_add`` while holding the order
6. enrollment (``catalogue.Enrollment``)
7. product (``catalogue.Product``; ``product_sync_derived`` updates it after an enrollment)
8. exam session (``sessions_app.ExamSession``), then its answers
9. device (``accounts.Device``)
10. invoice sequence (``payments.InvoiceSequence``: numbered last, in the paying transaction)

Several rows of one kind are locked in one statement, in primary-key order
(``.select_for_update().order_by("pk")``). A lock taken on its own (a product edit, a test
publish, a question edit) is free of the order, and ``SKIP LOCKED`` sweeps never wait. A
row of another app's model is locked through a function here, never by hand.

Two places take user locks outside this order, as they always have: refreshing a token
(``accounts.services._rotate``) locks the device together with its user in one statement
(``select_related`` under ``FOR UPDATE``), and moving a verified phone
(``contact_change_verify``) locks the learner, then the account that held the number.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection


def lock_user(pk: Any) -> Any:
    """Lock the user row (step 5 above) until the transaction ends and return it. Call it
    inside ``transaction.atomic``, before any lock of a later kind."""
    return get_user_model().objects.select_for_update().get(pk=pk)


@cache
def lock_user_sql() -> str:
    """``lock_user`` as one statement reading only the key (parameter: the user's pk), for
    hot paths that batch it with their reads on a prepared cursor."""
    table = get_user_model()._meta.db_table
    # Field.column is None only for fields without one (many-to-many); never for a key.
    column: str = get_user_model()._meta.pk.column  # type: ignore[assignment]
    quote = connection.ops.quote_name
    return f"SELECT 1 FROM {quote(table)} WHERE {quote(column)} = %s FOR UPDATE"  # noqa: S608 — our names
