"""Facts about the calling client, read the same way everywhere."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None
    user_agent: str

    @classmethod
    def from_request(cls, request: Request) -> ClientInfo:
        # DRF's throttle identity honours NUM_PROXIES, so device records and rate limits
        # agree on who the client is.
        ident = (BaseThrottle().get_ident(request) or "").strip()
        try:
            ip_address: str | None = str(ipaddress.ip_address(ident))
        except ValueError:
            ip_address = None
        return cls(
            ip_address=ip_address,
            user_agent=request.headers.get("User-Agent", "")[:255],
        )
