"""Domain signals of lower apps (docs/architecture.md) → our tasks. Progress is recorded in the
background so submitting a sitting never waits for (or fails with) program bookkeeping;
the receivers only enqueue, and only when the event can concern a program."""

from typing import Any
from uuid import UUID

from django.dispatch import receiver

from catalogue.models import Enrollment, Product
from catalogue.signals import enrollment_changed
from programs.models import MilestoneTest
from programs.tasks import (
    refresh_progress_for_enrollment,
    refresh_progress_for_test,
    refresh_progress_for_tests,
)
from sessions_app.models import ExamSession
from sessions_app.signals import session_scored, sittings_scored


@receiver(session_scored, dispatch_uid="programs-session-scored")
def _session_scored(
    sender: type[ExamSession], *, user_id: int, test_id: int, **kwargs: Any
) -> None:
    if MilestoneTest.objects.filter(test_id=test_id).exists():
        refresh_progress_for_test.enqueue(user_id, test_id)


@receiver(sittings_scored, dispatch_uid="programs-sittings-scored")
def _sittings_scored(
    sender: type[ExamSession], *, sittings: list[tuple[UUID, int, int]], **kwargs: Any
) -> None:
    """The expiry sweep scored a batch: one query for which tests count towards a program,
    one task for the learners who sat them."""
    tests = {test_id for _session_id, _user_id, test_id in sittings}
    linked = set(MilestoneTest.objects.filter(test_id__in=tests).values_list("test_id", flat=True))
    pairs = sorted({(user_id, test_id) for _s, user_id, test_id in sittings if test_id in linked})
    if pairs:
        refresh_progress_for_tests.enqueue([list(pair) for pair in pairs])


@receiver(enrollment_changed, sender=Enrollment, dispatch_uid="programs-enrollment-changed")
def _enrollment_changed(
    sender: type[Enrollment], *, enrollment_id: UUID, product_id: int, **kwargs: Any
) -> None:
    if Product.objects.filter(pk=product_id, program__isnull=False).exists():
        refresh_progress_for_enrollment.enqueue(str(enrollment_id))
