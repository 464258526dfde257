"""Fixtures for the payment gateways: a stand-in for Razorpay's REST API (``responses``, no
network) that answers in the shapes Razorpay documents (tests/payments/razorpay/), and
the collection of the simulated gateway's webhooks."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from payments.gateways import simulated
from payments.gateways.base import sign

API = "https://api.razorpay.com/v1"
KEY_ID = "rzp_test_Contract0000001"
KEY_SECRET = "contract-key-secret"
WEBHOOK_SECRET = "contract-webhook-secret"
TIMEOUT_SECONDS = 3.5

# Razorpay's shapes, from tests/payments/razorpay/ (ids, amounts and times replaced).
ORDER = {
    "id": "order_DESlLckIVRkHWj",
    "entity": "order",
    "amount": 49900,
    "amount_paid": 0,
    "amount_due": 49900,
    "currency": "INR",
    "receipt": "6f1c2d3e-0000-4000-8000-000000000042",
    "offer_id": None,
    "status": "created",
    "attempts": 0,
    "notes": [],
    "created_at": 1567674581,
}
PAYMENT = {
    "id": "pay_DESlfW9H8K9uqM",
    "entity": "payment",
    "amount": 49900,
    "currency": "INR",
    "status": "captured",
    "order_id": "order_DESlLckIVRkHWj",
    "invoice_id": None,
    "international": False,
    "method": "upi",
    "amount_refunded": 0,
    "refund_status": None,
    "captured": True,
    "description": "Backend Engineering Internship Program - 1 month",
    "card_id": None,
    "bank": None,
    "wallet": None,
    "vpa": "learner@okaxis",
    "email": "learner@example.com",
    "contact": "+919876543210",
    "notes": {"order": "6f1c2d3e-0000-4000-8000-000000000042"},
    "fee": 1178,
    "tax": 180,
    "error_code": None,
    "error_description": None,
    "error_source": None,
    "error_step": None,
    "error_reason": None,
    "acquirer_data": {"rrn": "0125836177"},
    "created_at": 1567674599,
}
REFUND = {
    "id": "rfnd_FP8QHiV938haTz",
    "entity": "refund",
    "amount": 49900,
    "receipt": None,
    "currency": "INR",
    "payment_id": "pay_DESlfW9H8K9uqM",
    "notes": [],
    "acquirer_data": {"arn": "10000000000000"},
    "created_at": 1597078866,
    "batch_id": None,
    "status": "processed",
    "speed_processed": "normal",
    "speed_requested": "normal",
}
ERROR_BAD_REQUEST = {
    "error": {
        "code": "BAD_REQUEST_ERROR",
        "description": "The amount must be at least INR 1.00",
        "source": "business",
        "step": "payment_initiation",
        "reason": "input_validation_failed",
        "metadata": {},
        "field": "amount",
    }
}
WEBHOOK_ENVELOPE_KEYS = {"entity", "account_id", "event", "contains", "payload", "created_at"}


def razorpay_error(description: str, code: str = "BAD_REQUEST_ERROR") -> dict[str, Any]:
    error = copy.deepcopy(ERROR_BAD_REQUEST)
    error["error"].update(code=code, description=description, field=None)
    return error


class FakeRazorpayApi:
    """Razorpay's Orders, Payments and Refunds endpoints, with the state a test needs:
    orders created through the API, payments made by :meth:`pay` (standing in for
    Checkout). It refuses what Razorpay refuses, with Razorpay's error body."""

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self._serial = 0
        ident = r"([A-Za-z0-9_]+)"
        routes = [
            ("POST", rf"{API}/orders$", self._create_order),
            ("GET", rf"{API}/orders/{ident}/payments$", self._order_payments),
            ("GET", rf"{API}/payments/{ident}$", self._fetch_payment),
            ("POST", rf"{API}/payments/{ident}/capture$", self._capture),
            ("POST", rf"{API}/payments/{ident}/refund$", self._refund),
        ]
        for method, url, handler in routes:
            mock.add_callback(method, re.compile(url), callback=self._guarded(handler))

    def _new_id(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}_Fake{self._serial:010d}"

    def _guarded(self, handler):
        expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()

        def callback(request):
            if request.headers.get("Authorization") != expected:
                return 401, {}, json.dumps(razorpay_error("Authentication failed"))
            match = re.search(r"/(?:orders|payments)/([A-Za-z0-9_]+)", request.url)
            body = json.loads(request.body) if request.body else {}
            status, payload = handler(match.group(1) if match else None, body)
            return status, {"Content-Type": "application/json"}, json.dumps(payload)

        return callback

    def _create_order(self, _id, body):
        if body["amount"] < 100:
            return 400, ERROR_BAD_REQUEST
        order = copy.deepcopy(ORDER)
        order.update(
            id=self._new_id("order"),
            amount=body["amount"],
            amount_due=body["amount"],
            currency=body["currency"],
            receipt=body["receipt"],
            notes=body.get("notes") or [],
        )
        self.orders[order["id"]] = order
        return 200, order

    def _order_payments(self, order_id, _body):
        if order_id not in self.orders:
            return 400, razorpay_error("The id provided does not exist")
        items = [p for p in self.payments.values() if p["order_id"] == order_id][::-1]
        return 200, {"entity": "collection", "count": len(items), "items": items}

    def _fetch_payment(self, payment_id, _body):
        if payment_id not in self.payments:
            return 400, razorpay_error("The id provided does not exist")
        return 200, self.payments[payment_id]

    def _capture(self, payment_id, body):
        payment = self.payments.get(payment_id)
        if payment is None:
            return 400, razorpay_error("The id provided does not exist")
        if payment["captured"]:
            return 400, razorpay_error("This payment has already been captured")
        if payment["status"] != "authorized" or body["amount"] != payment["amount"]:
            return 400, razorpay_error("Capture amount must be equal to the amount authorized")
        payment.update(status="captured", captured=True)
        self.orders[payment["order_id"]].update(status="paid", amount_paid=payment["amount"])
        return 200, payment

    def _refund(self, payment_id, body):
        payment = self.payments.get(payment_id)
        if payment is None:
            return 400, razorpay_error("The id provided does not exist")
        if not payment["captured"]:
            return 400, razorpay_error("The payment has not been captured")
        if body["amount"] > payment["amount"] - payment["amount_refunded"]:
            return 400, razorpay_error("The refund amount provided is greater than amount")
        payment["amount_refunded"] += body["amount"]
        full = payment["amount_refunded"] == payment["amount"]
        payment.update(refund_status="full" if full else "partial")
        if full:
            payment["status"] = "refunded"
        refund = copy.deepcopy(REFUND)
        refund.update(
            id=self._new_id("rfnd"),
            amount=body["amount"],
            currency=payment["currency"],
            payment_id=payment_id,
            notes=body.get("notes") or [],
        )
        return 200, refund

    def pay(self, order_id: str, *, succeed: bool = True, capture: bool = True) -> dict:
        """What Checkout does at Razorpay, and the callback it hands to the page."""
        order = self.orders[order_id]
        payment = copy.deepcopy(PAYMENT)
        payment.update(
            id=self._new_id("pay"),
            amount=order["amount"],
            currency=order["currency"],
            order_id=order_id,
            notes=order["notes"],
            status="failed" if not succeed else ("captured" if capture else "authorized"),
            captured=succeed and capture,
        )
        if not succeed:
            payment.update(error_code="BAD_REQUEST_ERROR", error_description="Payment failed")
        self.payments[payment["id"]] = payment
        order["attempts"] += 1
        order["status"] = "paid" if payment["captured"] else "attempted"
        if not succeed:
            return {"error": {"code": "BAD_REQUEST_ERROR", "description": "Payment failed"}}
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment["id"],
            "razorpay_signature": sign(KEY_SECRET, f"{order_id}|{payment['id']}"),
        }


@pytest.fixture
def razorpay_settings(settings):
    settings.RAZORPAY_KEY_ID = KEY_ID
    settings.RAZORPAY_KEY_SECRET = KEY_SECRET
    settings.RAZORPAY_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.RAZORPAY_TIMEOUT_SECONDS = TIMEOUT_SECONDS
    return settings


@pytest.fixture
def razorpay_http() -> Iterator[responses.RequestsMock]:
    """Every HTTP request of the test answered by ``responses``; nothing reaches a network."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def fake_razorpay(razorpay_settings, razorpay_http) -> FakeRazorpayApi:
    return FakeRazorpayApi(razorpay_http)


@pytest.fixture
def simulated_webhooks(monkeypatch) -> list[simulated.SimulatedWebhook]:
    """The simulated gateway's webhooks, collected (after the commit) instead of delivered."""
    outbox: list[simulated.SimulatedWebhook] = []
    monkeypatch.setattr(simulated, "webhook_outbox", outbox)
    return outbox
