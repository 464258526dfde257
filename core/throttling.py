"""Throttles keyed by client address and by the account or destination being targeted.

DRF throttles keep their history in the cache (Redis in production). They are a shield
against floods, not a guarantee: limits that must hold exactly (OTP attempts) live in the
database under a row lock.
"""

from __future__ import annotations

import hashlib

from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView


class ScopedIPThrottle(SimpleRateThrottle):
    """Per client address, for the view's ``<scope>``; set ``scope`` on a subclass."""

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ScopedFieldThrottle(SimpleRateThrottle):
    """Per value of a request field (an email or phone), normalised and hashed so the
    cache never holds the address itself. Requests without the field are not counted
    here (the IP throttle still is)."""

    fields: tuple[str, ...] = ("email",)

    def normalise(self, field: str, value: str) -> str | None:
        """The value as the service will see it, so spelling variants share one bucket;
        None when it is invalid (the request fails validation anyway)."""
        return "".join(value.split()).lower()

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        data = request.data if isinstance(request.data, dict) else {}
        for field in self.fields:
            value = data.get(field)
            if isinstance(value, str) and value.strip():
                normalised = self.normalise(field, value)
                if normalised is None:
                    return None
                digest = hashlib.sha256(f"{field}:{normalised}".encode()).hexdigest()[:32]
                return self.cache_format % {"scope": self.scope, "ident": digest}
        return None
