"""Optional error reporting to Sentry (production settings call ``init_sentry``).

Sentry receives no personal data (``send_default_pii=False``: no cookies, user emails or
client addresses), and ``before_send`` drops what the SDK would still attach that could
hold a credential: the Authorization header, and the bodies of the auth endpoints
(passwords, one-time codes, refresh tokens) and of the payment webhook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentry_sdk.types import Event, Hint

# Requests whose bodies carry secrets: logins, codes, tokens, signed webhooks.
_SECRET_BODY_PATHS = ("/api/v1/auth/", "/api/v1/payments/razorpay/webhook/", "/checkout/")
_SECRET_HEADERS = {"authorization", "cookie", "x-razorpay-signature"}


def before_send(event: Event, hint: Hint) -> Event:
    request = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value
                for name, value in headers.items()
                if name.lower() not in _SECRET_HEADERS
            }
        url = str(request.get("url", ""))
        if any(part in url for part in _SECRET_BODY_PATHS):
            request.pop("data", None)
            request.pop("query_string", None)
        request.pop("cookies", None)
    return event


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> bool:
    """Starts the SDK when a DSN is configured; returns whether it did."""
    if not dsn:
        return False
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration()],
        before_send=before_send,
    )
    return True
