"""Background tasks of programs (django-tasks; each calls a service)."""

from __future__ import annotations

from django_tasks import task

from programs import services


@task()
def refresh_progress_for_test(user_id: int, test_id: int) -> int:
    """A sitting of ``test_id`` was scored: record the milestones it completes."""
    return services.progress_refresh_for_test(user_id=user_id, test_id=test_id)


@task()
def refresh_progress_for_tests(sittings: list[list[int]]) -> int:
    """A sweep scored a batch of sittings (``[user_id, test_id]`` each, of tests some
    milestone links to): record the milestones they complete."""
    return services.progress_refresh_for_tests(
        sittings=[(user_id, test_id) for user_id, test_id in sittings]
    )


@task()
def refresh_progress_for_enrollment(enrollment_id: str) -> bool:
    """An enrollment was created or changed track: record what earlier work completes."""
    return services.progress_refresh_for_enrollment(enrollment_id=enrollment_id)
