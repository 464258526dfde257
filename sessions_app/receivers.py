"""Domain signals of lower apps → our services: access withdrawn through a refund or a
revoke closes the learner's sittings of what they lost; access granted again restores
them (``sessions_app.policy``)."""

from typing import Any

from django.dispatch import receiver

from catalogue.models import Enrollment
from catalogue.signals import enrollment_changed, enrollment_ended
from sessions_app import services


@receiver(enrollment_ended, sender=Enrollment, dispatch_uid="sessions-enrollment-ended")
def _enrollment_ended(
    sender: type[Enrollment], *, user_id: int, product_id: int, **kwargs: Any
) -> None:
    services.sittings_access_withdrawn(user_id=user_id, product_id=product_id)


@receiver(enrollment_changed, sender=Enrollment, dispatch_uid="sessions-enrollment-changed")
def _enrollment_changed(
    sender: type[Enrollment], *, user_id: int, product_id: int, **kwargs: Any
) -> None:
    services.sittings_access_restored(user_id=user_id, product_id=product_id)
