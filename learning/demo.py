"""Demo mastery: the demo learners' topic mastery recomputed from their scored demo
sittings (the background worker may not run under ``make run``), so ``GET me/mastery/``
and ``GET me/recommendations/`` show real numbers for the demo learner. Idempotent: a
recompute gives the same rows."""

from __future__ import annotations

from typing import TextIO

from django.contrib.auth import get_user_model

from accounts.demo import DEMO_LEARNER
from learning import services
from sessions_app.demo import LEARNERS


def seed(out: TextIO) -> None:
    emails = {DEMO_LEARNER["email"], *(email for email, _, _ in LEARNERS)}
    users = get_user_model().objects.filter(email__in=emails).order_by("pk")
    rows = {user.email: services.mastery_recompute(user_id=user.pk) for user in users}
    out.write(
        f"demo mastery: {sum(rows.values())} topic rows for {len(rows)} learners "
        f"({rows.get(DEMO_LEARNER['email'], 0)} for the demo learner)\n"
    )
