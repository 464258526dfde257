"""A gateway that behaves like Razorpay's test mode, so the whole flow runs on a laptop and
in tests: ids of Razorpay's shape, Razorpay-shaped entities kept in
:class:`payments.models.GatewayRecord` (its "account"), the checkout callback signed like
Razorpay's, and signed webhooks in Razorpay's envelope delivered to our own webhook service.

Besides the :class:`~payments.gateways.base.Gateway` interface, the checkout page calls
:meth:`SimulatedGateway.simulate_checkout` (its "Pay" and "Fail" buttons).
"""

from __future__ import annotations

import hmac
import json
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone

from payments.gateways.base import GatewayRejected, sign, webhook_secret
from payments.gateways.razorpay import RECEIPT_MAX_LENGTH, RECEIPT_TOO_LONG
from payments.models import GatewayRecord

KEY_ID = "rzp_test_simulated"
ACCOUNT_ID = "acc_SimulatedAcct0"
MIN_AMOUNT_PAISE = 100
FEE_PERCENT = 2  # Razorpay's standard fee, plus 18 % GST on the fee
GST_PERCENT = 18

NOT_FOUND = "The id provided does not exist"
BAD_REQUEST = "BAD_REQUEST_ERROR"

_ALPHANUMERIC = string.ascii_letters + string.digits


@dataclass(frozen=True)
class SimulatedWebhook:
    body: bytes
    headers: dict[str, str]

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


# Where the signed webhooks go once the current transaction commits. ``None`` (the default):
# handed to the delivery that ``PaymentsConfig.ready()`` installs (``deliver_webhooks_with``:
# it enqueues ``payments.tasks.deliver_simulated_webhook``, which hands them to our webhook
# service). A list (tests): collected there instead, and nothing is delivered. The gateways
# sit below the services, so this module names neither the task nor the service.
webhook_outbox: list[SimulatedWebhook] | None = None
_delivery: Callable[[SimulatedWebhook], None] | None = None


def deliver_webhooks_with(delivery: Callable[[SimulatedWebhook], None]) -> None:
    """Install what delivers the signed webhooks (once, at start-up)."""
    global _delivery
    _delivery = delivery


def new_id(prefix: str) -> str:
    """Razorpay's id shape: a prefix, an underscore and 14 alphanumerics."""
    return f"{prefix}_" + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(14))


def _now() -> int:
    return int(timezone.now().timestamp())


def _digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))


def _razorpay_notes(notes: dict[str, str]) -> dict[str, str] | list[Any]:
    # Razorpay sends empty notes as [], and so do we: consumers must cope.
    return dict(notes) if notes else []


def _api_shape(data: dict[str, Any]) -> dict[str, Any]:
    """What the gateway interface returns: a copy, with ``notes`` always a dict."""
    entity = json.loads(json.dumps(data))
    if not entity.get("notes"):
        entity["notes"] = {}
    return entity


class SimulatedGateway:
    name: ClassVar[str] = "simulated"

    @property
    def key_id(self) -> str:
        return KEY_ID

    # --- the Gateway interface ---------------------------------------------------------

    def create_order(
        self, *, amount_paise: int, currency: str, receipt: str, notes: dict[str, str]
    ) -> dict[str, Any]:
        if amount_paise < MIN_AMOUNT_PAISE:
            raise GatewayRejected(BAD_REQUEST, "The amount must be at least INR 1.00")
        if len(receipt) > RECEIPT_MAX_LENGTH:
            raise GatewayRejected(BAD_REQUEST, RECEIPT_TOO_LONG)
        order: dict[str, Any] = {
            "id": new_id("order"),
            "entity": "order",
            "amount": amount_paise,
            "amount_paid": 0,
            "amount_due": amount_paise,
            "currency": currency,
            "receipt": receipt,
            "offer_id": None,
            "status": "created",
            "attempts": 0,
            "notes": _razorpay_notes(notes),
            "created_at": _now(),
        }
        GatewayRecord.objects.create(id=order["id"], kind="order", data=order)
        return _api_shape(order)

    def fetch_order_payments(self, gateway_order_id: str) -> list[dict[str, Any]]:
        self._get("order", gateway_order_id)
        records = GatewayRecord.objects.filter(kind="payment", parent=gateway_order_id)
        return [_api_shape(r.data) for r in records.order_by("-created_at", "-id")]

    def fetch_payment(self, gateway_payment_id: str) -> dict[str, Any]:
        return _api_shape(self._get("payment", gateway_payment_id).data)

    @transaction.atomic
    def capture_payment(
        self, gateway_payment_id: str, *, amount_paise: int, currency: str
    ) -> dict[str, Any]:
        record = self._get("payment", gateway_payment_id, lock=True)
        payment = record.data
        if payment["status"] in ("captured", "refunded"):
            raise GatewayRejected(BAD_REQUEST, "This payment has already been captured")
        if payment["status"] != "authorized":
            raise GatewayRejected(
                BAD_REQUEST,
                "Only payments which have been authorized and not yet captured can be captured",
            )
        if amount_paise != payment["amount"]:
            raise GatewayRejected(
                BAD_REQUEST, "Capture amount must be equal to the amount authorized"
            )
        if currency != payment["currency"]:
            raise GatewayRejected(BAD_REQUEST, "The currency should be same as payment currency")
        order_record = self._get("order", payment["order_id"], lock=True)
        self._capture(payment, order_record.data)
        record.save(update_fields=["data"])
        order_record.save(update_fields=["data"])
        self._send_paid_events(payment, order_record.data)
        return _api_shape(payment)

    @transaction.atomic
    def refund_payment(
        self, gateway_payment_id: str, *, amount_paise: int, notes: dict[str, str]
    ) -> dict[str, Any]:
        record = self._get("payment", gateway_payment_id, lock=True)
        payment = record.data
        if not payment["captured"]:
            raise GatewayRejected(
                BAD_REQUEST, "The payment has not been captured, so it cannot be refunded"
            )
        if amount_paise < MIN_AMOUNT_PAISE:
            raise GatewayRejected(BAD_REQUEST, "The refund amount must be at least INR 1.00")
        refundable = payment["amount"] - payment["amount_refunded"]
        if amount_paise > refundable:
            raise GatewayRejected(
                BAD_REQUEST, "The refund amount provided is greater than amount not yet refunded"
            )
        refund = {
            "id": new_id("rfnd"),
            "entity": "refund",
            "amount": amount_paise,
            "receipt": None,
            "currency": payment["currency"],
            "payment_id": gateway_payment_id,
            "notes": _razorpay_notes(notes),
            "acquirer_data": {"arn": _digits(14)},
            "created_at": _now(),
            "batch_id": None,
            "status": "processed",
            "speed_processed": "normal",
            "speed_requested": "normal",
        }
        GatewayRecord.objects.create(
            id=refund["id"], kind="refund", parent=gateway_payment_id, data=refund
        )
        payment["amount_refunded"] += amount_paise
        fully = payment["amount_refunded"] == payment["amount"]
        payment["refund_status"] = "full" if fully else "partial"
        if fully:
            payment["status"] = "refunded"
        record.save(update_fields=["data"])
        self._send_event("refund.processed", refund=refund, payment=payment)
        return _api_shape(refund)

    def verify_payment_signature(
        self, *, gateway_order_id: str, gateway_payment_id: str, signature: str
    ) -> bool:
        expected = sign(
            settings.SIMULATED_GATEWAY_SECRET, f"{gateway_order_id}|{gateway_payment_id}"
        )
        # Bytes, so a signature with non-ASCII characters is unequal rather than a TypeError.
        return bool(signature) and hmac.compare_digest(
            expected.encode(), signature.encode("utf-8", "replace")
        )

    # --- the checkout page --------------------------------------------------------------

    @transaction.atomic
    def simulate_checkout(
        self,
        gateway_order_id: str,
        *,
        succeed: bool,
        method: str = "upi",
        auto_capture: bool | None = None,
    ) -> dict[str, Any]:
        """The learner pays (``succeed``) or the payment fails, as in Razorpay Checkout.

        Returns what Checkout hands to its handler: on success ``razorpay_order_id``,
        ``razorpay_payment_id`` and ``razorpay_signature``; on failure ``{"error": …}``. A
        successful payment is captured at once when the account auto-captures
        (``auto_capture``, by default ``settings.RAZORPAY_AUTO_CAPTURE``), otherwise left
        authorized for :meth:`capture_payment`. The webhooks Razorpay would send follow the
        commit.
        """
        if auto_capture is None:
            auto_capture = settings.RAZORPAY_AUTO_CAPTURE
        order_record = self._get("order", gateway_order_id, lock=True)
        order = order_record.data
        if order["status"] == "paid":
            raise GatewayRejected(BAD_REQUEST, "Order has already been paid")
        payment = self._new_payment(order, method=method, succeed=succeed)
        order["attempts"] += 1
        if order["status"] == "created":
            order["status"] = "attempted"
        if succeed and auto_capture:
            self._capture(payment, order)
        GatewayRecord.objects.create(
            id=payment["id"], kind="payment", parent=gateway_order_id, data=payment
        )
        order_record.save(update_fields=["data"])

        if not succeed:
            self._send_event("payment.failed", payment=payment)
            return {
                "error": {
                    "code": payment["error_code"],
                    "description": payment["error_description"],
                    "source": payment["error_source"],
                    "step": payment["error_step"],
                    "reason": payment["error_reason"],
                    "metadata": {"order_id": gateway_order_id, "payment_id": payment["id"]},
                }
            }
        if auto_capture:
            self._send_paid_events(payment, order)
        else:
            self._send_event("payment.authorized", payment=payment)
        signature = sign(settings.SIMULATED_GATEWAY_SECRET, f"{gateway_order_id}|{payment['id']}")
        return {
            "razorpay_order_id": gateway_order_id,
            "razorpay_payment_id": payment["id"],
            "razorpay_signature": signature,
        }

    # --- internals ----------------------------------------------------------------------

    def _get(self, kind: str, object_id: str, *, lock: bool = False) -> GatewayRecord:
        records = GatewayRecord.objects.filter(kind=kind)
        if lock:
            records = records.select_for_update()
        try:
            return records.get(id=object_id)
        except GatewayRecord.DoesNotExist:
            raise GatewayRejected(BAD_REQUEST, NOT_FOUND) from None

    @staticmethod
    def _new_payment(order: dict[str, Any], *, method: str, succeed: bool) -> dict[str, Any]:
        return {
            "id": new_id("pay"),
            "entity": "payment",
            "amount": order["amount"],
            "currency": order["currency"],
            "status": "authorized" if succeed else "failed",
            "order_id": order["id"],
            "invoice_id": None,
            "international": False,
            "method": method,
            "amount_refunded": 0,
            "refund_status": None,
            "captured": False,
            "description": None,
            "card_id": None,
            "bank": None,
            "wallet": None,
            # Razorpay's test-mode UPI ids for a payment that succeeds or fails.
            "vpa": ("success@razorpay" if succeed else "failure@razorpay")
            if method == "upi"
            else None,
            "email": "void@razorpay.com",
            "contact": "+919000090000",
            "notes": order["notes"],
            "fee": None,
            "tax": None,
            "error_code": None if succeed else BAD_REQUEST,
            "error_description": None if succeed else "Payment failed",
            "error_source": None if succeed else "customer",
            "error_step": None if succeed else "payment_authorization",
            "error_reason": None if succeed else "payment_failed",
            "acquirer_data": {"rrn": _digits(12)} if succeed and method == "upi" else {},
            "created_at": _now(),
        }

    @staticmethod
    def _capture(payment: dict[str, Any], order: dict[str, Any]) -> None:
        """Mutates both entities as Razorpay does when a payment is captured."""
        fee = payment["amount"] * FEE_PERCENT // 100
        tax = round(fee * GST_PERCENT / 100)
        payment.update(status="captured", captured=True, fee=fee + tax, tax=tax)
        order.update(status="paid", amount_paid=order["amount"], amount_due=0)

    def _send_paid_events(self, payment: dict[str, Any], order: dict[str, Any]) -> None:
        self._send_event("payment.captured", payment=payment)
        self._send_event("order.paid", payment=payment, order=order)

    @staticmethod
    def _send_event(event: str, **entities: dict[str, Any]) -> None:
        """Razorpay's event envelope, signed over its exact bytes with the webhook secret,
        sent once the current transaction commits (never for a rolled-back change)."""
        envelope = {
            "entity": "event",
            "account_id": ACCOUNT_ID,
            "event": event,
            "contains": list(entities),
            "payload": {name: {"entity": entity} for name, entity in entities.items()},
            "created_at": _now(),
        }
        body = json.dumps(envelope).encode()
        headers = {
            "X-Razorpay-Signature": sign(webhook_secret(), body.decode()),
            "X-Razorpay-Event-Id": new_id("evt"),
            "Content-Type": "application/json",
        }
        webhook = SimulatedWebhook(body=body, headers=headers)
        transaction.on_commit(lambda: _deliver(webhook))


def _deliver(webhook: SimulatedWebhook) -> None:
    if webhook_outbox is not None:
        webhook_outbox.append(webhook)
        return
    if _delivery is None:
        raise ImproperlyConfigured("no webhook delivery installed (PaymentsConfig.ready())")
    _delivery(webhook)
