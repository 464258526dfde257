"""The rules of :mod:`sessions_app.policy` where they must run in the database.

- **The access rule** is written here once, as the queryset :func:`accessible_tests`
  (the learner's test list, a withdrawal of access, the sittings whose solutions are
  open), and compiled from it once per process into the prepared statement every start
  asks (:func:`has_access`).
- **The listing's ``?status=`` filter** (:func:`status_filter`) is the start rule of
  ``policy.start_refusal`` and ``policy.in_status`` over the facts
  :func:`sessions_app.selectors.learner_tests` annotates, so a page of the list is one
  query however many tests the learner may sit.

tests/sessions_app/test_policy_sql.py holds each SQL form equal to its rule over every
combination of the facts it reads.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from catalogue.models import Plan, ProductTest
from catalogue.selectors import Learner, live_enrollments
from core.sql import Compiled, compile_query, prepared_cursor
from testengine.models import Test

# --- the access rule -------------------------------------------------------------------------


def accessible_tests(*, user: Learner | None, now: datetime | None = None) -> QuerySet[Test]:
    """The access rule, written once: published tests (never a learner's practice test)
    that ``user`` may sit at ``now``. A test is open to a learner when a product containing
    it grants it — the learner holds a live enrollment of that product, or the product is
    published and free outright (no active paid plan: a ₹0 trial plan next to paid plans
    gives access through its expiring enrollment, not to all) — and that product's unlock
    date for it has passed. Anonymous callers get the free tests only. One ``EXISTS`` per
    test row."""
    now = now or timezone.now()
    unlocked = Q(unlock_at__isnull=True) | Q(unlock_at__lte=now)
    paid_plan = Plan.objects.filter(
        product_id=OuterRef("product_id"), is_active=True, price_paise__gt=0
    )
    grant = Q(product__is_published=True, product__is_free=True) & Q(~Exists(paid_plan))
    if user is not None and user.is_authenticated:
        owned = live_enrollments(user=user, at=now).filter(product_id=OuterRef("product_id"))
        grant |= Q(Exists(owned))
    grants = ProductTest.objects.filter(unlocked, grant, test_id=OuterRef("pk"))
    return Test.objects.curated().filter(Exists(grants), is_published=True)


def has_access(user, test, *, now: datetime | None = None) -> bool:
    """May ``user`` sit ``test`` now? :func:`accessible_tests` for one test (one query).

    Asked by every start at the opening of a mock, so the query is compiled once per
    process (:func:`_access_statement`) and run as a prepared statement: building the
    ORM query cost more than the rest of a start. Same SQL, same rule."""
    authenticated = user is not None and user.is_authenticated
    statement = _access_statement(authenticated)
    params = statement.params(
        user=user.pk if authenticated else None, test=test.pk, now=now or timezone.now()
    )
    with prepared_cursor() as cursor:
        cursor.execute(statement.sql, params)
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class _Learner:
    pk: int
    is_authenticated: bool = True


def learner(user_id: int) -> _Learner:
    """A learner by id, as the access rule needs one (no query for the user row)."""
    return _Learner(user_id)


_USER_PK, _TEST_PK = -7_300_000_000_000_001, -7_300_000_000_000_002
_NOW = datetime(1971, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC)
_SENTINELS = {_USER_PK: "user", _TEST_PK: "test", _NOW: "now"}


@functools.cache
def _access_statement(authenticated: bool) -> Compiled:
    """``has_access``'s SQL as the ORM compiles it from :func:`accessible_tests`."""
    queryset = accessible_tests(user=learner(_USER_PK) if authenticated else None, now=_NOW)
    query = queryset.filter(pk=_TEST_PK).query.exists(limit=True)
    required = {"user", "test", "now"} if authenticated else {"test", "now"}
    return compile_query(query, _SENTINELS, required=required)


# --- the listing's status filter -------------------------------------------------------------


def status_filter(status: str, *, now: datetime) -> Q:
    """``policy.in_status`` as a filter of :func:`sessions_app.selectors.learner_tests`:
    ``open``, a sitting to resume; ``completed``, a submitted attempt; ``available``,
    ``policy.start_refusal`` refuses nothing — the window is open, and a sitting resumes
    or an attempt is left and the minimum gap since the last attempt has passed."""
    if status == "open":
        return Q(open_session__isnull=False)
    if status == "completed":
        return Q(has_submitted=True)
    if status != "available":
        raise ValueError(f"no such status: {status!r}")
    window = (Q(available_from__isnull=True) | Q(available_from__lte=now)) & (
        Q(available_until__isnull=True) | Q(available_until__gt=now)
    )
    attempt_left = Q(max_attempts__isnull=True) | Q(
        max_attempts__gt=F("attempts_used") - F("extra_attempts")
    )
    gap_opens = ExpressionWrapper(
        F("last_ended_at") + F("min_gap_seconds") * Value(timedelta(seconds=1)),
        output_field=DateTimeField(),
    )
    gap_passed = (
        Q(last_ended_at__isnull=True)
        | Q(min_gap_seconds=0)
        | Q(LessThanOrEqual(gap_opens, Value(now, output_field=DateTimeField())))
    )
    return window & (Q(open_session__isnull=False) | (attempt_left & gap_passed))
