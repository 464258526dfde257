"""Domain signals of lower apps (docs/architecture.md) → our tasks. Mastery is recomputed in the
background, so submitting a sitting never waits for (or fails with) the estimate."""

from django.dispatch import receiver

from learning.tasks import update_mastery
from sessions_app.signals import session_scored


@receiver(session_scored, dispatch_uid="learning-session-scored")
def _session_scored(sender, *, session_id, user_id, **kwargs) -> None:
    update_mastery.enqueue(user_id, str(session_id))
