"""Background tasks of the learning app (django-tasks; each calls a service)."""

from __future__ import annotations

from django_tasks import task

from learning import services


@task()
def update_mastery(user_id: int, session_id: str) -> int:
    """A sitting was scored: re-estimate the learner's mastery of the topics it touched."""
    return services.mastery_update(user_id=user_id, session_id=session_id)


@task()
def update_mastery_for_sittings(sittings: list[list]) -> int:
    """A sweep scored a batch of sittings (``[user_id, session_id]`` each): re-estimate each
    learner's mastery of the topics their sitting touched, as :func:`update_mastery` does
    for one. Returns the number of topics written."""
    return services.mastery_update_many(sittings=[(user, session) for user, session in sittings])
