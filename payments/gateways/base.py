"""The gateway interface. Every method speaks Razorpay's shapes (the dicts Razorpay's REST
API returns), so our services cannot tell the simulated gateway from the real one.

Every call that goes over the network raises :class:`GatewayError` on a timeout, a
connection error or a 5xx, and :class:`GatewayRejected` when the gateway refuses the
request (4xx, with Razorpay's error code and description)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, ClassVar, Protocol

from django.conf import settings


class GatewayError(Exception):
    """The gateway could not be reached or failed (timeout, connection, 5xx)."""


class GatewayRejected(GatewayError):
    """The gateway answered with a 4xx: the request itself was refused."""

    def __init__(self, code: str, description: str) -> None:
        self.code, self.description = code, description
        super().__init__(f"{code}: {description}")


class Gateway(Protocol):
    name: ClassVar[str]  # "razorpay" or "simulated": Order.Gateway

    @property
    def key_id(self) -> str:
        """The public key id Checkout needs."""
        ...

    def create_order(
        self, *, amount_paise: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> dict[str, Any]:
        """POST /v1/orders → Razorpay's order entity (``id`` = ``order_…``)."""
        ...

    def fetch_order_payments(self, gateway_order_id: str) -> list[dict[str, Any]]:
        """GET /v1/orders/{id}/payments → the payment entities (``items``)."""
        ...

    def fetch_payment(self, gateway_payment_id: str) -> dict[str, Any]:
        """GET /v1/payments/{id} → the payment entity."""
        ...

    def capture_payment(
        self, gateway_payment_id: str, *, amount_paise: int, currency: str
    ) -> dict[str, Any]:
        """POST /v1/payments/{id}/capture → the captured payment entity."""
        ...

    def refund_payment(
        self, gateway_payment_id: str, *, amount_paise: int, notes: dict[str, str]
    ) -> dict[str, Any]:
        """POST /v1/payments/{id}/refund → the refund entity (``id`` = ``rfnd_…``)."""
        ...

    def verify_payment_signature(
        self, *, gateway_order_id: str, gateway_payment_id: str, signature: str
    ) -> bool:
        """Checkout's callback signature: HMAC-SHA256(order_id|payment_id, key secret),
        compared in constant time. ``gateway_order_id`` must be the one we stored."""
        ...


def webhook_secret() -> str:
    return settings.RAZORPAY_WEBHOOK_SECRET or settings.RAZORPAY_WEBHOOK_SECRET_DEV_DEFAULT


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_webhook_signature(raw_body: bytes, signature: str) -> bool:
    """``X-Razorpay-Signature`` over the raw body with the webhook secret, whatever the
    gateway: a Razorpay-format event signed with that secret works in either mode."""
    import razorpay
    from razorpay.errors import SignatureVerificationError

    if not signature or not signature.isascii():
        return False  # hmac.compare_digest raises TypeError on a non-ASCII str
    try:
        body = raw_body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    client = razorpay.Client(auth=("", ""))
    try:
        client.utility.verify_webhook_signature(body, signature, webhook_secret())
    except SignatureVerificationError:
        return False
    return True
