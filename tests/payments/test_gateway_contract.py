"""The gateway contract: the simulated gateway and Razorpay (its HTTP stubbed by
``responses`` in Razorpay's documented shapes) answer our services identically. Then what
only the Razorpay gateway does (timeouts, retries, error mapping), the webhook signature
check, and the webhooks the simulated gateway sends."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from payments.gateways import simulated
from payments.gateways.base import (
    Gateway,
    GatewayError,
    GatewayRejected,
    verify_webhook_signature,
)
from payments.gateways.razorpay import RazorpayGateway
from payments.gateways.simulated import SimulatedGateway
from payments.models import GatewayRecord
from tests.payments.conftest import (
    API,
    ERROR_BAD_REQUEST,
    KEY_SECRET,
    ORDER,
    PAYMENT,
    REFUND,
    TIMEOUT_SECONDS,
    WEBHOOK_ENVELOPE_KEYS,
    WEBHOOK_SECRET,
    razorpay_error,
)

ORDER_ID = re.compile(r"^order_[A-Za-z0-9]{14}$")
PAYMENT_ID = re.compile(r"^pay_[A-Za-z0-9]{14}$")
REFUND_ID = re.compile(r"^rfnd_[A-Za-z0-9]{14}$")
EVENT_ID = re.compile(r"^evt_[A-Za-z0-9]{14}$")
RECEIPT = "6f1c2d3e-0000-4000-8000-000000000042"
NOTES = {"order": RECEIPT, "user": "42", "plan": "7"}
NOT_FOUND = "The id provided does not exist"


@dataclass
class Harness:
    gateway: Gateway
    # pay(gateway_order_id, *, succeed=True, capture=True) -> what Checkout hands the page
    pay: Callable[..., dict[str, Any]]
    key_secret: str


@pytest.fixture(params=["simulated", "razorpay"])
def harness(request, settings) -> Harness:
    if request.param == "simulated":
        request.getfixturevalue("db")
        request.getfixturevalue("simulated_webhooks")  # collected, never delivered here
        gateway = SimulatedGateway()

        def pay(order_id: str, *, succeed: bool = True, capture: bool = True) -> dict:
            return gateway.simulate_checkout(order_id, succeed=succeed, auto_capture=capture)

        return Harness(gateway, pay, settings.SIMULATED_GATEWAY_SECRET)
    fake = request.getfixturevalue("fake_razorpay")
    return Harness(RazorpayGateway(), fake.pay, KEY_SECRET)


def new_order(gateway: Gateway, *, amount: int = 49900, notes: dict | None = None) -> dict:
    return gateway.create_order(
        amount_paise=amount,
        currency="INR",
        receipt=RECEIPT,
        notes=NOTES if notes is None else notes,
    )


def signature(secret: str, order_id: str, payment_id: str) -> str:
    return hmac.new(secret.encode(), f"{order_id}|{payment_id}".encode(), "sha256").hexdigest()


# --- the contract ------------------------------------------------------------------------


def test_key_id_is_a_razorpay_key_id(harness):
    assert harness.gateway.key_id.startswith("rzp_")
    assert harness.gateway.name in ("razorpay", "simulated")


def test_create_order_returns_razorpay_order_echoing_the_request(harness):
    order = new_order(harness.gateway)

    assert ORDER_ID.match(order["id"])
    assert order["entity"] == "order"
    assert (order["amount"], order["amount_paid"], order["amount_due"]) == (49900, 0, 49900)
    assert order["currency"] == "INR"
    assert order["receipt"] == RECEIPT
    assert order["notes"] == NOTES
    assert (order["status"], order["attempts"]) == ("created", 0)
    assert isinstance(order["created_at"], int)


def test_create_order_gives_notes_as_a_dict_even_when_empty(harness):
    # Razorpay answers an empty ``notes`` with [].
    assert new_order(harness.gateway, notes={})["notes"] == {}


def test_create_order_gives_each_order_its_own_id(harness):
    assert new_order(harness.gateway)["id"] != new_order(harness.gateway)["id"]


def test_create_order_refuses_less_than_one_rupee(harness):
    with pytest.raises(GatewayRejected) as refused:
        new_order(harness.gateway, amount=99)

    assert refused.value.code == "BAD_REQUEST_ERROR"
    assert refused.value.description == "The amount must be at least INR 1.00"


def test_create_order_refuses_a_receipt_over_40_characters(harness):
    with pytest.raises(GatewayRejected) as refused:
        harness.gateway.create_order(amount_paise=49900, currency="INR", receipt="r" * 41, notes={})

    assert refused.value.code == "BAD_REQUEST_ERROR"


def test_fetch_order_payments_is_empty_before_paying(harness):
    order = new_order(harness.gateway)

    assert harness.gateway.fetch_order_payments(order["id"]) == []


def test_fetch_order_payments_lists_the_payment_after_paying(harness):
    order = new_order(harness.gateway)

    callback = harness.pay(order["id"])
    payments = harness.gateway.fetch_order_payments(order["id"])

    assert len(payments) == 1
    payment = payments[0]
    assert PAYMENT_ID.match(payment["id"])
    assert payment["id"] == callback["razorpay_payment_id"]
    assert callback["razorpay_order_id"] == order["id"]
    assert payment["entity"] == "payment"
    assert payment["order_id"] == order["id"]
    assert (payment["amount"], payment["currency"]) == (49900, "INR")
    assert (payment["status"], payment["captured"]) == ("captured", True)
    assert payment["amount_refunded"] == 0
    assert payment["notes"] == NOTES
    assert harness.gateway.fetch_payment(payment["id"]) == payment


def test_a_failed_attempt_then_a_payment_are_both_listed(harness):
    order = new_order(harness.gateway)

    failure = harness.pay(order["id"], succeed=False)
    success = harness.pay(order["id"])
    payments = {p["id"]: p for p in harness.gateway.fetch_order_payments(order["id"])}

    assert set(failure) == {"error"}
    assert failure["error"]["code"] == "BAD_REQUEST_ERROR"
    assert len(payments) == 2
    paid = payments.pop(success["razorpay_payment_id"])
    [failed] = payments.values()
    assert paid["status"] == "captured"
    assert (failed["status"], failed["captured"]) == ("failed", False)
    assert failed["error_code"] == "BAD_REQUEST_ERROR"
    assert failed["error_description"] == "Payment failed"


def test_verify_payment_signature_accepts_checkout_callback(harness):
    order = new_order(harness.gateway)
    callback = harness.pay(order["id"])

    assert callback["razorpay_signature"] == signature(
        harness.key_secret, order["id"], callback["razorpay_payment_id"]
    )
    assert harness.gateway.verify_payment_signature(
        gateway_order_id=order["id"],
        gateway_payment_id=callback["razorpay_payment_id"],
        signature=callback["razorpay_signature"],
    )


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda sig, other: other["razorpay_signature"], id="another-orders-signature"),
        pytest.param(lambda sig, other: sig[:-1] + ("0" if sig[-1] != "0" else "1"), id="tampered"),
        pytest.param(lambda sig, other: sig.upper(), id="uppercase-hex"),
        pytest.param(lambda sig, other: "", id="empty"),
        pytest.param(lambda sig, other: "é" * 64, id="non-ascii"),
    ],
)
def test_verify_payment_signature_refuses_a_forged_signature(harness, forge):
    order, other_order = new_order(harness.gateway), new_order(harness.gateway)
    callback, other = harness.pay(order["id"]), harness.pay(other_order["id"])

    assert not harness.gateway.verify_payment_signature(
        gateway_order_id=order["id"],
        gateway_payment_id=callback["razorpay_payment_id"],
        signature=forge(callback["razorpay_signature"], other),
    )


def test_verify_payment_signature_refuses_a_callback_for_another_order(harness):
    # The browser sends back another order's ids and valid signature: we check against the
    # gateway order id we stored, so it fails.
    order, other_order = new_order(harness.gateway), new_order(harness.gateway)
    other = harness.pay(other_order["id"])

    assert not harness.gateway.verify_payment_signature(
        gateway_order_id=order["id"],
        gateway_payment_id=other["razorpay_payment_id"],
        signature=other["razorpay_signature"],
    )


def test_capture_an_authorized_payment(harness):
    order = new_order(harness.gateway)
    payment_id = harness.pay(order["id"], capture=False)["razorpay_payment_id"]
    assert harness.gateway.fetch_payment(payment_id)["status"] == "authorized"

    captured = harness.gateway.capture_payment(payment_id, amount_paise=49900, currency="INR")

    assert captured["id"] == payment_id
    assert captured["entity"] == "payment"
    assert (captured["status"], captured["captured"], captured["amount"]) == (
        "captured",
        True,
        49900,
    )
    assert harness.gateway.fetch_payment(payment_id)["status"] == "captured"


def test_capture_twice_is_refused(harness):
    order = new_order(harness.gateway)
    payment_id = harness.pay(order["id"])["razorpay_payment_id"]

    with pytest.raises(GatewayRejected) as refused:
        harness.gateway.capture_payment(payment_id, amount_paise=49900, currency="INR")

    assert refused.value.code == "BAD_REQUEST_ERROR"
    assert refused.value.description == "This payment has already been captured"


def test_refund_in_parts_up_to_the_captured_amount(harness):
    order = new_order(harness.gateway)
    payment_id = harness.pay(order["id"])["razorpay_payment_id"]

    first = harness.gateway.refund_payment(payment_id, amount_paise=10000, notes={"r": "1"})
    partly = harness.gateway.fetch_payment(payment_id)
    second = harness.gateway.refund_payment(payment_id, amount_paise=39900, notes={})
    fully = harness.gateway.fetch_payment(payment_id)

    for refund, amount in ((first, 10000), (second, 39900)):
        assert REFUND_ID.match(refund["id"])
        assert refund["entity"] == "refund"
        assert (refund["amount"], refund["currency"]) == (amount, "INR")
        assert refund["payment_id"] == payment_id
        assert refund["status"] == "processed"
    assert first["id"] != second["id"]
    assert (first["notes"], second["notes"]) == ({"r": "1"}, {})
    assert (partly["amount_refunded"], partly["refund_status"]) == (10000, "partial")
    assert (fully["amount_refunded"], fully["refund_status"]) == (49900, "full")
    assert fully["status"] == "refunded"


def test_refund_above_what_is_left_is_refused_and_changes_nothing(harness):
    order = new_order(harness.gateway)
    payment_id = harness.pay(order["id"])["razorpay_payment_id"]
    harness.gateway.refund_payment(payment_id, amount_paise=40000, notes={})
    before = harness.gateway.fetch_payment(payment_id)

    with pytest.raises(GatewayRejected) as refused:
        harness.gateway.refund_payment(payment_id, amount_paise=9901, notes={})

    assert refused.value.code == "BAD_REQUEST_ERROR"
    assert harness.gateway.fetch_payment(payment_id) == before
    assert before["amount_refunded"] == 40000


def test_refund_of_a_failed_payment_is_refused(harness):
    order = new_order(harness.gateway)
    harness.pay(order["id"], succeed=False)
    [failed] = harness.gateway.fetch_order_payments(order["id"])

    with pytest.raises(GatewayRejected):
        harness.gateway.refund_payment(failed["id"], amount_paise=49900, notes={})


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda g: g.fetch_order_payments("order_Unknown0000000"), id="order-payments"),
        pytest.param(lambda g: g.fetch_payment("pay_Unknown000000000"), id="payment"),
        pytest.param(
            lambda g: g.capture_payment("pay_Unknown000000000", amount_paise=100, currency="INR"),
            id="capture",
        ),
        pytest.param(
            lambda g: g.refund_payment("pay_Unknown000000000", amount_paise=100, notes={}),
            id="refund",
        ),
    ],
)
def test_unknown_ids_are_refused(harness, call):
    with pytest.raises(GatewayRejected) as refused:
        call(harness.gateway)

    assert (refused.value.code, refused.value.description) == ("BAD_REQUEST_ERROR", NOT_FOUND)


# --- Razorpay: the HTTP it sends and how it survives failures ----------------------------


@pytest.fixture
def gateway(razorpay_settings) -> RazorpayGateway:
    return RazorpayGateway()


def order_response(**changes) -> dict:
    return {**ORDER, "id": "order_Stubbed0000001", "notes": [], **changes}


def test_razorpay_needs_its_keys(settings):
    settings.RAZORPAY_KEY_ID = settings.RAZORPAY_KEY_SECRET = ""

    with pytest.raises(ImproperlyConfigured):
        RazorpayGateway()


def test_razorpay_create_order_sends_the_orders_api_body(gateway, razorpay_http):
    razorpay_http.post(f"{API}/orders", json=order_response(notes=NOTES))

    new_order(gateway)

    [call] = razorpay_http.calls
    assert call.request.method == "POST"
    assert json.loads(call.request.body) == {
        "amount": 49900,
        "currency": "INR",
        "receipt": RECEIPT,
        "notes": NOTES,
    }
    assert call.request.headers["Content-type"] == "application/json"
    assert call.request.headers["Authorization"].startswith("Basic ")


def test_razorpay_receipt_over_40_characters_is_refused_without_a_request(gateway, razorpay_http):
    with pytest.raises(GatewayRejected):
        gateway.create_order(amount_paise=49900, currency="INR", receipt="r" * 41, notes={})

    assert len(razorpay_http.calls) == 0


def test_razorpay_passes_the_timeout_on_every_call(gateway, fake_razorpay, razorpay_http):
    order = new_order(gateway)
    payment_id = fake_razorpay.pay(order["id"], capture=False)["razorpay_payment_id"]
    gateway.fetch_order_payments(order["id"])
    gateway.fetch_payment(payment_id)
    gateway.capture_payment(payment_id, amount_paise=49900, currency="INR")
    gateway.refund_payment(payment_id, amount_paise=100, notes={})

    assert len(razorpay_http.calls) == 5
    assert [c.request.req_kwargs["timeout"] for c in razorpay_http.calls] == [TIMEOUT_SECONDS] * 5


def test_razorpay_answer_notes_as_empty_list_become_empty_dicts(gateway, razorpay_http):
    payment = {**PAYMENT, "notes": []}
    razorpay_http.get(f"{API}/payments/{PAYMENT['id']}", json=payment)
    razorpay_http.get(
        f"{API}/orders/{ORDER['id']}/payments",
        json={"entity": "collection", "count": 1, "items": [payment]},
    )
    razorpay_http.post(f"{API}/payments/{PAYMENT['id']}/refund", json=REFUND)

    assert gateway.fetch_payment(PAYMENT["id"])["notes"] == {}
    assert gateway.fetch_order_payments(ORDER["id"])[0]["notes"] == {}
    assert gateway.refund_payment(PAYMENT["id"], amount_paise=49900, notes={})["notes"] == {}


SERVER_ERROR = {"error": {"code": "SERVER_ERROR", "description": "The server encountered an error"}}


@pytest.mark.parametrize(
    ("url", "read"),
    [
        pytest.param(f"{API}/payments/{PAYMENT['id']}", lambda g: g.fetch_payment(PAYMENT["id"])),
        pytest.param(
            f"{API}/orders/{ORDER['id']}/payments",
            lambda g: g.fetch_order_payments(ORDER["id"]),
        ),
    ],
    ids=["fetch_payment", "fetch_order_payments"],
)
def test_razorpay_read_is_retried_on_503_then_succeeds(gateway, razorpay_http, url, read):
    razorpay_http.get(url, status=503, json=SERVER_ERROR)
    razorpay_http.get(url, json={**PAYMENT, "entity": "collection", "items": [PAYMENT]})

    assert read(gateway)
    assert [c.response.status_code for c in razorpay_http.calls] == [503, 200]


def test_razorpay_read_gives_up_after_three_5xx(gateway, razorpay_http):
    url = f"{API}/payments/{PAYMENT['id']}"
    for status in (503, 502, 500):
        razorpay_http.get(url, status=status, json=SERVER_ERROR)

    with pytest.raises(GatewayError) as failed:
        gateway.fetch_payment(PAYMENT["id"])

    assert not isinstance(failed.value, GatewayRejected)
    assert len(razorpay_http.calls) == 3


def test_razorpay_read_is_retried_after_a_connection_error(gateway, razorpay_http, monkeypatch):
    monkeypatch.setattr("razorpay.client.time.sleep", lambda _seconds: None)
    url = f"{API}/payments/{PAYMENT['id']}"
    razorpay_http.get(url, body=requests.exceptions.ConnectionError("reset"))
    razorpay_http.get(url, body=requests.exceptions.ReadTimeout("slow"))
    razorpay_http.get(url, json=PAYMENT)

    assert gateway.fetch_payment(PAYMENT["id"])["id"] == PAYMENT["id"]
    assert len(razorpay_http.calls) == 3


def test_razorpay_read_timing_out_every_time_is_a_gateway_error(
    gateway, razorpay_http, monkeypatch
):
    monkeypatch.setattr("razorpay.client.time.sleep", lambda _seconds: None)
    razorpay_http.get(
        f"{API}/payments/{PAYMENT['id']}", body=requests.exceptions.ReadTimeout("slow")
    )

    with pytest.raises(GatewayError) as failed:
        gateway.fetch_payment(PAYMENT["id"])

    assert not isinstance(failed.value, GatewayRejected)
    assert len(razorpay_http.calls) == 3


WRITES = [
    pytest.param(f"{API}/orders", new_order, id="create_order"),
    pytest.param(
        f"{API}/payments/{PAYMENT['id']}/capture",
        lambda g: g.capture_payment(PAYMENT["id"], amount_paise=49900, currency="INR"),
        id="capture_payment",
    ),
    pytest.param(
        f"{API}/payments/{PAYMENT['id']}/refund",
        lambda g: g.refund_payment(PAYMENT["id"], amount_paise=49900, notes={}),
        id="refund_payment",
    ),
]


@pytest.mark.parametrize(("url", "write"), WRITES)
def test_razorpay_write_is_not_retried_on_503(gateway, razorpay_http, url, write):
    razorpay_http.post(url, status=503, json=SERVER_ERROR)
    razorpay_http.post(url, json=order_response())

    with pytest.raises(GatewayError) as failed:
        write(gateway)

    assert not isinstance(failed.value, GatewayRejected)
    assert len(razorpay_http.calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectTimeout("connect timed out"),
        requests.exceptions.ReadTimeout("read timed out"),
        requests.exceptions.ConnectionError("connection reset"),
    ],
    ids=["connect-timeout", "read-timeout", "connection-error"],
)
@pytest.mark.parametrize(("url", "write"), WRITES)
def test_razorpay_write_failing_in_transit_is_a_gateway_error_tried_once(
    gateway, razorpay_http, monkeypatch, url, write, error
):
    monkeypatch.setattr("razorpay.client.time.sleep", lambda _seconds: None)
    razorpay_http.post(url, body=error)
    razorpay_http.post(url, json=order_response())

    with pytest.raises(GatewayError) as failed:
        write(gateway)

    assert not isinstance(failed.value, GatewayRejected)
    assert isinstance(failed.value.__cause__, type(error))
    assert len(razorpay_http.calls) == 1


def test_razorpay_400_is_rejected_with_razorpays_code_and_description(gateway, razorpay_http):
    razorpay_http.post(f"{API}/orders", status=400, json=ERROR_BAD_REQUEST)

    with pytest.raises(GatewayRejected) as refused:
        new_order(gateway, amount=50)

    assert refused.value.code == "BAD_REQUEST_ERROR"
    assert refused.value.description == "The amount must be at least INR 1.00"
    assert len(razorpay_http.calls) == 1


def test_razorpay_401_is_rejected(gateway, razorpay_http):
    razorpay_http.get(
        f"{API}/payments/{PAYMENT['id']}",
        status=401,
        json=razorpay_error("Authentication failed"),
    )

    with pytest.raises(GatewayRejected) as refused:
        gateway.fetch_payment(PAYMENT["id"])

    assert (refused.value.code, refused.value.description) == (
        "BAD_REQUEST_ERROR",
        "Authentication failed",
    )


def test_razorpay_4xx_without_a_json_body_is_still_rejected(gateway, razorpay_http):
    razorpay_http.post(f"{API}/orders", status=404, body="<html>Not Found</html>")

    with pytest.raises(GatewayRejected) as refused:
        new_order(gateway)

    assert refused.value.code == "HTTP_404"
    assert refused.value.description == "<html>Not Found</html>"


def test_razorpay_429_is_a_gateway_error_not_a_refusal(gateway, razorpay_http):
    razorpay_http.post(f"{API}/orders", status=429, json=razorpay_error("Too many requests"))

    with pytest.raises(GatewayError) as failed:
        new_order(gateway)

    assert not isinstance(failed.value, GatewayRejected)


def test_razorpay_5xx_with_html_body_is_a_gateway_error(gateway, razorpay_http):
    razorpay_http.post(f"{API}/orders", status=502, body="<html>Bad Gateway</html>")

    with pytest.raises(GatewayError) as failed:
        new_order(gateway)

    assert not isinstance(failed.value, GatewayRejected)


def test_razorpay_verify_payment_signature_uses_the_key_secret(gateway):
    good = signature(KEY_SECRET, ORDER["id"], PAYMENT["id"])
    other_key = signature("another-secret", ORDER["id"], PAYMENT["id"])

    assert gateway.verify_payment_signature(
        gateway_order_id=ORDER["id"], gateway_payment_id=PAYMENT["id"], signature=good
    )
    assert not gateway.verify_payment_signature(
        gateway_order_id=ORDER["id"], gateway_payment_id=PAYMENT["id"], signature=other_key
    )


# --- webhook signatures (base.verify_webhook_signature) ----------------------------------


def razorpay_webhook_signature(secret: str, raw_body: bytes) -> str:
    """As Razorpay computes it: lowercase hex HMAC-SHA256 over the raw body."""
    return hmac.new(secret.encode(), raw_body, hashlib.sha256).hexdigest()


WEBHOOK_BODY = json.dumps(
    {
        "entity": "event",
        "account_id": "acc_BFQ7uQEaa7j2z7",
        "event": "payment.captured",
        "contains": ["payment"],
        "payload": {"payment": {"entity": {**PAYMENT, "description": "Prüfung – ₹499"}}},
        "created_at": 1567674606,
    },
    ensure_ascii=False,
    indent=2,
).encode()


@pytest.fixture
def webhook_secret(settings) -> str:
    settings.RAZORPAY_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


def test_webhook_signature_over_the_raw_body_verifies(webhook_secret):
    assert verify_webhook_signature(
        WEBHOOK_BODY, razorpay_webhook_signature(webhook_secret, WEBHOOK_BODY)
    )


def test_webhook_signature_uses_the_dev_default_when_no_secret_is_set(settings):
    settings.RAZORPAY_WEBHOOK_SECRET = ""
    secret = settings.RAZORPAY_WEBHOOK_SECRET_DEV_DEFAULT

    assert verify_webhook_signature(WEBHOOK_BODY, razorpay_webhook_signature(secret, WEBHOOK_BODY))


@pytest.mark.parametrize(
    ("body", "make_signature"),
    [
        pytest.param(
            WEBHOOK_BODY,
            lambda body: razorpay_webhook_signature("another-secret", body),
            id="wrong-secret",
        ),
        pytest.param(
            WEBHOOK_BODY,
            lambda body: razorpay_webhook_signature(KEY_SECRET, body),
            id="api-key-secret-instead-of-webhook-secret",
        ),
        pytest.param(
            WEBHOOK_BODY.replace(b"49900", b"49901"),
            lambda body: razorpay_webhook_signature(WEBHOOK_SECRET, WEBHOOK_BODY),
            id="tampered-body",
        ),
        pytest.param(
            json.dumps(json.loads(WEBHOOK_BODY)).encode(),
            lambda body: razorpay_webhook_signature(WEBHOOK_SECRET, WEBHOOK_BODY),
            id="re-serialised-body",
        ),
        pytest.param(WEBHOOK_BODY, lambda body: "", id="missing-header"),
        pytest.param(
            WEBHOOK_BODY,
            lambda body: razorpay_webhook_signature(WEBHOOK_SECRET, body).upper(),
            id="uppercase-hex",
        ),
        pytest.param(
            b"\xff\xfe{not utf-8}",
            lambda body: razorpay_webhook_signature(WEBHOOK_SECRET, body),
            id="non-utf8-body",
        ),
        pytest.param(
            WEBHOOK_BODY,
            lambda body: "é" * 64,
            id="non-ascii-header",
        ),
    ],
)
def test_webhook_signature_refuses(webhook_secret, body, make_signature):
    assert verify_webhook_signature(body, make_signature(body)) is False


# --- the simulated gateway: its records and the webhooks it sends ------------------------


@pytest.fixture
def sim(db, simulated_webhooks) -> SimulatedGateway:
    return SimulatedGateway()


def events(webhooks: list[simulated.SimulatedWebhook]) -> list[str]:
    return [w.json()["event"] for w in webhooks]


def assert_delivered_like_razorpay(webhook: simulated.SimulatedWebhook) -> dict:
    assert verify_webhook_signature(webhook.body, webhook.headers["X-Razorpay-Signature"])
    assert EVENT_ID.match(webhook.headers["X-Razorpay-Event-Id"])
    assert webhook.headers["Content-Type"] == "application/json"
    event = webhook.json()
    assert set(event) == WEBHOOK_ENVELOPE_KEYS
    assert event["entity"] == "event"
    assert event["contains"] == list(event["payload"])
    return event


def test_simulated_key_id(sim):
    assert sim.key_id == "rzp_test_simulated"


def test_simulated_keeps_razorpay_shaped_records(sim):
    order = new_order(sim, notes={})
    payment_id = sim.simulate_checkout(order["id"], succeed=True)["razorpay_payment_id"]
    refund = sim.refund_payment(payment_id, amount_paise=49900, notes={})

    records = {r.id: r for r in GatewayRecord.objects.all()}
    assert {(r.kind, r.parent) for r in records.values()} == {
        ("order", ""),
        ("payment", order["id"]),
        ("refund", payment_id),
    }
    assert set(records[order["id"]].data) == set(ORDER)
    assert set(records[payment_id].data) == set(PAYMENT)
    assert set(records[refund["id"]].data) == set(REFUND)
    # Stored as Razorpay sends it: empty notes are [].
    assert records[order["id"]].data["notes"] == []
    assert records[payment_id].data["notes"] == []
    assert sim.fetch_payment(payment_id) == {**records[payment_id].data, "notes": {}}


def test_simulated_successful_checkout_sends_payment_captured_and_order_paid(
    sim, simulated_webhooks, django_capture_on_commit_callbacks
):
    order = new_order(sim)

    with django_capture_on_commit_callbacks(execute=True):
        callback = sim.simulate_checkout(order["id"], succeed=True)
        assert simulated_webhooks == []  # nothing leaves before the commit

    assert set(callback) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}
    assert events(simulated_webhooks) == ["payment.captured", "order.paid"]
    captured, paid = (assert_delivered_like_razorpay(w) for w in simulated_webhooks)
    payment = captured["payload"]["payment"]["entity"]
    assert payment["id"] == callback["razorpay_payment_id"]
    assert (payment["status"], payment["captured"], payment["amount"]) == ("captured", True, 49900)
    assert (payment["fee"], payment["tax"]) == (1178, 180)  # as in Razorpay's example
    assert paid["contains"] == ["payment", "order"]
    assert paid["payload"]["payment"]["entity"] == payment
    paid_order = paid["payload"]["order"]["entity"]
    assert (paid_order["id"], paid_order["status"]) == (order["id"], "paid")
    assert (paid_order["amount_paid"], paid_order["amount_due"]) == (49900, 0)
    assert paid_order["attempts"] == 1
    ids = {w.headers["X-Razorpay-Event-Id"] for w in simulated_webhooks}
    assert len(ids) == 2


def test_simulated_failed_checkout_answers_like_checkout_and_sends_payment_failed(
    sim, simulated_webhooks, django_capture_on_commit_callbacks
):
    order = new_order(sim)

    with django_capture_on_commit_callbacks(execute=True):
        callback = sim.simulate_checkout(order["id"], succeed=False)

    [payment] = sim.fetch_order_payments(order["id"])
    assert callback == {
        "error": {
            "code": "BAD_REQUEST_ERROR",
            "description": "Payment failed",
            "source": "customer",
            "step": "payment_authorization",
            "reason": "payment_failed",
            "metadata": {"order_id": order["id"], "payment_id": payment["id"]},
        }
    }
    assert events(simulated_webhooks) == ["payment.failed"]
    event = assert_delivered_like_razorpay(simulated_webhooks[0])
    assert event["payload"]["payment"]["entity"] == payment
    assert GatewayRecord.objects.get(id=order["id"]).data["status"] == "attempted"


def test_simulated_without_auto_capture_sends_authorized_then_captured_on_capture(
    sim, simulated_webhooks, django_capture_on_commit_callbacks
):
    order = new_order(sim)

    with django_capture_on_commit_callbacks(execute=True):
        payment_id = sim.simulate_checkout(order["id"], succeed=True, auto_capture=False)[
            "razorpay_payment_id"
        ]
    assert events(simulated_webhooks) == ["payment.authorized"]
    assert GatewayRecord.objects.get(id=order["id"]).data["status"] == "attempted"

    with django_capture_on_commit_callbacks(execute=True):
        sim.capture_payment(payment_id, amount_paise=49900, currency="INR")

    assert events(simulated_webhooks) == ["payment.authorized", "payment.captured", "order.paid"]
    for webhook in simulated_webhooks:
        assert_delivered_like_razorpay(webhook)
    assert GatewayRecord.objects.get(id=order["id"]).data["status"] == "paid"


def test_simulated_auto_capture_follows_the_setting(sim, settings):
    settings.RAZORPAY_AUTO_CAPTURE = False
    order = new_order(sim)

    payment_id = sim.simulate_checkout(order["id"], succeed=True)["razorpay_payment_id"]

    assert sim.fetch_payment(payment_id)["status"] == "authorized"


def test_simulated_capture_with_another_amount_is_refused_and_changes_nothing(sim):
    order = new_order(sim)
    payment_id = sim.simulate_checkout(order["id"], succeed=True, auto_capture=False)[
        "razorpay_payment_id"
    ]
    before = sim.fetch_payment(payment_id)

    with pytest.raises(GatewayRejected):
        sim.capture_payment(payment_id, amount_paise=100, currency="INR")

    assert sim.fetch_payment(payment_id) == before


def test_simulated_refund_sends_refund_processed(
    sim, simulated_webhooks, django_capture_on_commit_callbacks
):
    order = new_order(sim, notes={})
    payment_id = sim.simulate_checkout(order["id"], succeed=True)["razorpay_payment_id"]

    with django_capture_on_commit_callbacks(execute=True):
        refund = sim.refund_payment(payment_id, amount_paise=49900, notes={})

    assert events(simulated_webhooks) == ["refund.processed"]
    event = assert_delivered_like_razorpay(simulated_webhooks[0])
    assert event["contains"] == ["refund", "payment"]
    assert event["payload"]["refund"]["entity"] == {**refund, "notes": []}
    payment = event["payload"]["payment"]["entity"]
    assert (payment["status"], payment["amount_refunded"], payment["refund_status"]) == (
        "refunded",
        49900,
        "full",
    )
    # Like Razorpay, empty notes arrive as [] in webhooks.
    assert payment["notes"] == []


def test_simulated_sends_nothing_for_a_rolled_back_change(
    sim, simulated_webhooks, django_capture_on_commit_callbacks
):
    order = new_order(sim)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        sim.simulate_checkout(order["id"], succeed=True)
        transaction.set_rollback(True)

    assert simulated_webhooks == []
    assert sim.fetch_order_payments(order["id"]) == []


def test_simulated_checkout_of_a_paid_order_is_refused(sim):
    order = new_order(sim)
    sim.simulate_checkout(order["id"], succeed=True)

    with pytest.raises(GatewayRejected):
        sim.simulate_checkout(order["id"], succeed=True)

    assert len(sim.fetch_order_payments(order["id"])) == 1


def test_simulated_checkout_of_an_unknown_order_is_refused(sim):
    with pytest.raises(GatewayRejected) as refused:
        sim.simulate_checkout("order_Unknown0000000", succeed=True)

    assert refused.value.description == NOT_FOUND


def test_simulated_webhooks_are_delivered_through_the_task_to_the_webhook_service(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    """Without the outbox, each webhook is enqueued (ImmediateBackend in tests: run at once)
    as deliver_simulated_webhook, which hands the raw bytes and headers to the service."""
    services = pytest.importorskip("payments.services")
    received: list[tuple[bytes, dict]] = []
    monkeypatch.setattr(
        services, "webhook_receive", lambda raw_body, headers: received.append((raw_body, headers))
    )
    monkeypatch.setattr(simulated, "webhook_outbox", None)
    sim = SimulatedGateway()
    order = new_order(sim)

    with django_capture_on_commit_callbacks(execute=True):
        sim.simulate_checkout(order["id"], succeed=True)

    assert [json.loads(body)["event"] for body, _ in received] == ["payment.captured", "order.paid"]
    for body, headers in received:
        assert isinstance(body, bytes)
        assert verify_webhook_signature(body, headers["X-Razorpay-Signature"])
