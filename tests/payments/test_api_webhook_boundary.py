"""The public webhook endpoint under abuse and under Razorpay's at-least-once delivery: a
badly signed body is kept only as a bounded prefix, the endpoint is throttled per client
address, and concurrent deliveries of one event id are processed once. Events are built
from Razorpay's payload shapes (tests/payments/razorpay/)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from catalogue.models import Enrollment
from payments import services
from payments.errors import SignatureInvalid
from payments.models import Order, Payment, WebhookEvent
from tests.accounts.factories import UserFactory
from tests.payments.factories import paid_plan
from tests.payments.test_orders import _event, _headers

WEBHOOK = "/api/v1/payments/razorpay/webhook/"


def _post(raw: bytes, *, address: str, signature: str = "0" * 64, event_id: str = "evt_x"):
    return APIClient().post(
        WEBHOOK,
        data=raw,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=signature,
        HTTP_X_RAZORPAY_EVENT_ID=event_id,
        REMOTE_ADDR=address,
    )


@pytest.mark.django_db
def test_a_badly_signed_body_is_stored_as_a_bounded_prefix_with_the_verdict():
    raw = b'{"event": "payment.captured", "padding": "' + b"A" * 1_000_000 + b'"}'

    response = _post(raw, address="203.0.113.7")

    assert (response.status_code, response.json()["code"]) == (400, "signature_invalid")
    stored = WebhookEvent.objects.get()
    assert (stored.outcome, stored.signature_valid, stored.event_id) == ("rejected", False, None)
    assert stored.body == raw[: services.REJECTED_BODY_MAX_BYTES].decode()
    assert len(stored.body) == 2048
    assert stored.error == f"signature mismatch; body of {len(raw)} bytes, the first 2048 kept"


@pytest.mark.django_db
def test_a_body_cut_inside_a_multibyte_character_is_still_stored():
    raw = "₹".encode() * 1000  # 3 bytes each: the 2048-byte cut splits one

    with pytest.raises(SignatureInvalid):
        services.webhook_receive(raw, {"X-Razorpay-Signature": "f" * 64})

    stored = WebhookEvent.objects.get()
    assert stored.body.startswith("₹" * 682)
    assert len(stored.body.encode("utf-8", errors="replace")) <= 2048 + 3


@pytest.mark.django_db
def test_the_webhook_is_throttled_per_client_address(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "razorpay_webhook": "3/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    flood = [_post(b"{}", address="203.0.113.9").status_code for _ in range(4)]
    other = _post(b"{}", address="198.51.100.20")

    assert flood == [400, 400, 400, 429]
    assert other.status_code == 400  # another address has its own budget
    throttled = _post(b"{}", address="203.0.113.9")
    assert (throttled.status_code, throttled.json()["code"]) == (429, "throttled")
    assert "Retry-After" in throttled
    assert WebhookEvent.objects.count() == 4  # throttled requests store nothing


def test_the_default_webhook_rate_leaves_room_for_a_sale():
    rate = SimpleRateThrottle.THROTTLE_RATES["razorpay_webhook"]
    count, period = rate.split("/")

    # A 10:00 sale: hundreds of events a minute, from a handful of Razorpay addresses.
    assert period.startswith("min")
    assert int(count) >= 1000


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_event_are_processed_once():
    plan = paid_plan()
    learner = UserFactory()
    order, _ = services.order_create(user=learner, plan_id=plan.id)
    raw = _event(
        "payment.captured", order=order, payment_id="pay_Concurrent0001", status="captured"
    )
    headers = _headers(raw, "evt_same_id")
    deliveries = 6
    barrier = threading.Barrier(deliveries)
    outcomes: list[str] = []
    failures: list[BaseException] = []

    def deliver():
        try:
            barrier.wait()
            outcomes.append(services.webhook_receive(raw, headers).outcome)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    event = WebhookEvent.objects.get(event_id="evt_same_id")
    assert (event.outcome, event.attempts) == ("processed", 1)
    # Each delivery either processed it, found it processed, or found it being processed.
    assert set(outcomes) <= {"processed", "received"}
    assert "processed" in outcomes
    assert Order.objects.get(pk=order.pk).status == "paid"
    assert Payment.objects.filter(order=order).count() == 1
    assert Enrollment.objects.filter(user=learner).count() == 1


@pytest.mark.django_db
def test_a_delivery_finding_its_event_claimed_answers_retry_later(monkeypatch):
    plan = paid_plan()
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
    raw = _event("payment.captured", order=order, payment_id="pay_Claimed000001", status="captured")
    headers = _headers(raw, "evt_claimed")
    original = services.webhook_process

    def claimed_elsewhere(event):
        event.outcome = WebhookEvent.Outcome.RECEIVED
        return event

    monkeypatch.setattr(services, "webhook_process", claimed_elsewhere)
    busy = APIClient().post(
        WEBHOOK,
        data=raw,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )
    monkeypatch.setattr(services, "webhook_process", original)
    retried = APIClient().post(
        WEBHOOK,
        data=raw,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )

    assert (busy.status_code, busy.json()["code"]) == (503, "webhook_in_progress")
    assert (retried.status_code, retried.json()) == (200, {"status": "processed"})
    assert WebhookEvent.objects.get(event_id="evt_claimed").attempts == 1
