"""Read queries of the accounts domain."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Device, User


def device_list_live(*, user: User) -> QuerySet[Device]:
    """The user's devices that can still refresh: not revoked, refresh token not expired."""
    return Device.objects.filter(
        user=user, revoked_at__isnull=True, expires_at__gt=timezone.now()
    ).order_by("-last_used_at")
