"""Base viewsets. Learner-facing viewsets inherit :class:`OwnedViewSet` so that scoping
to ``request.user`` cannot be forgotten (the PostHog idea, in our own words)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import permissions, viewsets


class OwnedViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]  # any model
    """Everything it serves belongs to the requesting user; others' objects are 404.

    Subclasses implement :meth:`get_owned_queryset`; ``get_queryset`` always applies the
    owner filter on top, using ``owner_field``.
    """

    permission_classes = [permissions.IsAuthenticated]
    owner_field = "user"

    def get_owned_queryset(self) -> QuerySet[Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.get_owned_queryset()
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.filter(**{self.owner_field: self.request.user})
