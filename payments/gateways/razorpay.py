"""Razorpay through its official SDK (``razorpay``).

The SDK sets no HTTP timeout and keeps only the description of an error, so every call goes
through :meth:`RazorpayGateway._call`, which passes our timeout and keeps the last HTTP
response to read Razorpay's error body and status. Retries are for reads only: a retried
create, capture or refund could move money twice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import razorpay
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from razorpay.errors import BadRequestError, ServerError, SignatureVerificationError
from razorpay.errors import GatewayError as SdkGatewayError
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from payments.gateways.base import GatewayError, GatewayRejected

RECEIPT_MAX_LENGTH = 40
RECEIPT_TOO_LONG = f"receipt: the length must be no more than {RECEIPT_MAX_LENGTH}."

# Reads (GET) are retried on a 5xx by urllib3 (the SDK's own retry covers only timeouts and
# connection errors, and is enabled on the reads client alone). Never used for writes.
READ_RETRY = Retry(
    total=2,
    connect=0,
    read=0,
    other=0,
    status=2,
    status_forcelist=(500, 502, 503, 504),
    allowed_methods=frozenset({"GET"}),
    backoff_factor=0.25,
    raise_on_status=False,
    respect_retry_after_header=False,  # a "Retry-After: 3600" must not hang a request
)
READ_ATTEMPTS = 3  # the SDK's retry on timeouts and connection errors, reads only
READ_RETRY_DELAY_SECONDS = 0.25
READ_RETRY_MAX_DELAY_SECONDS = 1.0


def normalise_notes(entity: dict[str, Any]) -> dict[str, Any]:
    """Razorpay sends an empty ``notes`` as ``[]``; everything of ours expects a dict."""
    if not entity.get("notes"):
        entity["notes"] = {}
    return entity


class RazorpayGateway:
    name: ClassVar[str] = "razorpay"

    def __init__(self) -> None:
        if not (settings.RAZORPAY_KEY_ID and settings.RAZORPAY_KEY_SECRET):
            raise ImproperlyConfigured("RazorpayGateway needs RAZORPAY_KEY_ID and _KEY_SECRET.")
        self._key_id = settings.RAZORPAY_KEY_ID
        auth = (settings.RAZORPAY_KEY_ID, settings.RAZORPAY_KEY_SECRET)
        self._timeout = settings.RAZORPAY_TIMEOUT_SECONDS
        # Writes: one attempt, whatever happens (the SDK's retry is off by default).
        self._writes = razorpay.Client(auth=auth)
        # Reads: a session that retries a 5xx, and the SDK's retry for timeouts.
        reads_session = requests.Session()
        reads_session.mount("https://", HTTPAdapter(max_retries=READ_RETRY))
        self._reads = razorpay.Client(
            session=reads_session,
            auth=auth,
            max_retries=READ_ATTEMPTS,
            initial_delay=READ_RETRY_DELAY_SECONDS,
            max_delay=READ_RETRY_MAX_DELAY_SECONDS,
        )
        self._reads.enable_retry(True)

    @property
    def key_id(self) -> str:
        return self._key_id

    def create_order(
        self, *, amount_paise: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> dict[str, Any]:
        if len(receipt) > RECEIPT_MAX_LENGTH:
            raise GatewayRejected(
                "BAD_REQUEST_ERROR",
                f"receipt: the length must be no more than {RECEIPT_MAX_LENGTH}.",
            )
        data = {"amount": amount_paise, "currency": currency, "receipt": receipt, "notes": notes}
        return normalise_notes(self._call(self._writes.order.create, data))

    def fetch_order_payments(self, gateway_order_id: str) -> list[dict[str, Any]]:
        collection = self._call(self._reads.order.payments, gateway_order_id, {})
        return [normalise_notes(item) for item in collection.get("items", [])]

    def fetch_payment(self, gateway_payment_id: str) -> dict[str, Any]:
        return normalise_notes(self._call(self._reads.payment.fetch, gateway_payment_id, {}))

    def capture_payment(
        self, gateway_payment_id: str, *, amount_paise: int, currency: str
    ) -> dict[str, Any]:
        # A fresh dict: the SDK writes ``amount`` into its (mutable default) data argument.
        payment = self._call(
            self._writes.payment.capture, gateway_payment_id, amount_paise, {"currency": currency}
        )
        return normalise_notes(payment)

    def refund_payment(
        self, gateway_payment_id: str, *, amount_paise: int, notes: dict[str, str]
    ) -> dict[str, Any]:
        data = {"amount": amount_paise, "notes": notes}
        return normalise_notes(self._call(self._writes.payment.refund, gateway_payment_id, data))

    def verify_payment_signature(
        self, *, gateway_order_id: str, gateway_payment_id: str, signature: str
    ) -> bool:
        # hmac.compare_digest raises TypeError on non-ASCII str: a forged header is just wrong.
        if not signature or not signature.isascii():
            return False
        try:
            self._writes.utility.verify_payment_signature(
                {
                    "razorpay_order_id": gateway_order_id,
                    "razorpay_payment_id": gateway_payment_id,
                    "razorpay_signature": signature,
                }
            )
        except SignatureVerificationError:
            return False
        return True

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        """One SDK call with our timeout; failures become GatewayError / GatewayRejected."""
        responses: list[requests.Response] = []

        def keep(response: requests.Response, *_args: Any, **_kwargs: Any) -> None:
            responses.append(response)

        try:
            return method(*args, timeout=self._timeout, hooks={"response": [keep]})
        except (
            BadRequestError,
            ServerError,
            SdkGatewayError,
            requests.RequestException,  # timeouts, connection errors, a body that is not JSON
        ) as exc:
            last = responses[-1] if responses else None
            if last is not None and 400 <= last.status_code < 500 and last.status_code != 429:
                raise GatewayRejected(*_error_of(last)) from exc
            status = f"HTTP {last.status_code}" if last is not None else type(exc).__name__
            raise GatewayError(f"Razorpay failed ({status}): {exc}") from exc


def _error_of(response: requests.Response) -> tuple[str, str]:
    """Razorpay's ``{"error": {"code", "description", …}}``, or what we can tell without it."""
    try:
        error = response.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = str(error.get("code") or f"HTTP_{response.status_code}")
    description = str(error.get("description") or response.text[:300])
    return code, description
