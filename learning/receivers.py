"""Domain signals of lower apps (docs/architecture.md) → our tasks. Mastery is recomputed in the
background, so submitting a sitting never waits for (or fails with) the estimate."""

from typing import Any
from uuid import UUID

from django.dispatch import receiver

from learning.tasks import update_mastery, update_mastery_for_sittings
from sessions_app.models import ExamSession
from sessions_app.signals import session_scored, sittings_scored


@receiver(session_scored, dispatch_uid="learning-session-scored")
def _session_scored(
    sender: type[ExamSession], *, session_id: UUID, user_id: int, **kwargs: Any
) -> None:
    update_mastery.enqueue(user_id, str(session_id))


@receiver(sittings_scored, dispatch_uid="learning-sittings-scored")
def _sittings_scored(
    sender: type[ExamSession], *, sittings: list[tuple[UUID, int, int]], **kwargs: Any
) -> None:
    """The expiry sweep scored a batch: one task for all of it."""
    update_mastery_for_sittings.enqueue(
        [[user_id, str(session_id)] for session_id, user_id, _test_id in sittings]
    )
