"""Orders, verify, webhooks, refunds and reconciliation through the simulated gateway (the
Razorpay gateway passes the same contract: test_gateway_contract.py). Webhooks are built
in Razorpay's payload shapes (shared fixtures) and signed the way Razorpay signs them."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue.models import Enrollment
from payments import services
from payments.errors import CouponExhausted, GatewayUnavailable, RefundInvalid
from payments.gateways.base import GatewayError, sign, webhook_secret
from payments.gateways.simulated import SimulatedGateway
from payments.models import CouponRedemption, Order, Payment, Refund, WebhookEvent
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import ProductTestFactory
from tests.payments.factories import CouponFactory, paid_plan
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db

# Razorpay's payload shapes as Razorpay documents them (tests/payments/razorpay/README.md).
FIXTURES = Path(__file__).resolve().parent / "razorpay"


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _pay(order: Order) -> dict:
    """What Checkout's success handler gives the client (the simulated gateway's sheet)."""
    return SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=True)


def _event(name: str, *, order: Order, payment_id: str, amount: int | None = None, **payment):
    """A Razorpay-format webhook for our order, from the shared fixture of that event."""
    body = json.loads((FIXTURES / f"webhook_{name.replace('.', '_')}.json").read_text())
    entity = body["payload"]["payment"]["entity"]
    entity.update(
        id=payment_id,
        order_id=order.gateway_order_id,
        amount=order.total_paise if amount is None else amount,
        currency="INR",
        **payment,
    )
    if "order" in body["payload"]:
        body["payload"]["order"]["entity"].update(
            id=order.gateway_order_id, amount=order.total_paise, receipt=str(order.pk)
        )
    return json.dumps(body).encode()


def _deliver(raw: bytes, *, event_id: str, secret: str | None = None):
    headers = {
        "X-Razorpay-Signature": sign(secret or webhook_secret(), raw.decode()),
        "X-Razorpay-Event-Id": event_id,
        "Content-Type": "application/json",
    }
    client = APIClient()
    return client.post(
        "/api/v1/payments/razorpay/webhook/",
        data=raw,
        content_type="application/json",
        **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()},
    )


# --- creating orders -------------------------------------------------------------------------


def test_an_order_is_priced_on_the_server_and_tampered_amounts_are_ignored():
    plan = paid_plan(price_paise=149900)
    CouponFactory(code="WELCOME10", percent_off=10)
    learner = UserFactory()

    response = _client(learner).post(
        "/api/v1/orders/",
        {"plan": plan.id, "coupon_code": "welcome10", "total_paise": 100, "amount": 1},
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["base_paise"], body["discount_paise"], body["total_paise"]) == (
        149900,
        14990,
        134910,
    )
    assert body["checkout"]["amount"] == 134910
    assert body["checkout"]["order_id"].startswith("order_")
    assert "/checkout/" in body["checkout_url"]
    assert "token=" in body["checkout_url"]
    assert body["status"] == "created"
    assert not CouponRedemption.objects.exists()  # counted on payment only


def test_an_idempotency_key_returns_the_same_order_and_refuses_a_different_request():
    plan, other = paid_plan(), paid_plan()
    client = _client(UserFactory())

    first = client.post("/api/v1/orders/", {"plan": plan.id}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = client.post("/api/v1/orders/", {"plan": plan.id}, HTTP_IDEMPOTENCY_KEY="k-1")
    clash = client.post("/api/v1/orders/", {"plan": other.id}, HTTP_IDEMPOTENCY_KEY="k-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert (clash.status_code, clash.json()["code"]) == (409, "idempotency_key_reused")
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        ("inactive", 409, "plan_unavailable"),
        ("unpublished", 409, "plan_unavailable"),
        ("free", 409, "plan_is_free"),
        ("lifetime_owner", 409, "already_owned"),
        ("unknown", 400, "invalid"),
    ],
)
def test_orders_that_cannot_be_bought_are_refused_with_a_code(setup, status, code):
    plan = paid_plan()
    learner = UserFactory()
    plan_id = plan.id
    if setup == "inactive":
        plan.is_active = False
        plan.save()
    elif setup == "unpublished":
        plan.product.is_published = False
        plan.product.save()
    elif setup == "free":
        plan.price_paise = 0
        plan.list_price_paise = 0
        plan.save()
    elif setup == "lifetime_owner":
        Enrollment.objects.create(
            user=learner, product=plan.product, source="grant", expires_at=None
        )
    else:
        plan_id = 999999

    response = _client(learner).post("/api/v1/orders/", {"plan": plan_id}, format="json")

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert not Order.objects.exists()


def test_a_gateway_failure_answers_502_and_leaves_no_payable_order(monkeypatch):
    plan = paid_plan()
    client = _client(UserFactory())

    def down(self, **kwargs):
        raise GatewayError("timed out")

    monkeypatch.setattr(SimulatedGateway, "create_order", down)
    failed = client.post("/api/v1/orders/", {"plan": plan.id}, HTTP_IDEMPOTENCY_KEY="retry-me")
    monkeypatch.undo()
    retried = client.post("/api/v1/orders/", {"plan": plan.id}, HTTP_IDEMPOTENCY_KEY="retry-me")

    assert (failed.status_code, failed.json()["code"]) == (502, "gateway_unavailable")
    broken = Order.objects.get(gateway_order_id__isnull=True)
    assert broken.status == "failed"  # no gateway order id: it can never be paid
    assert retried.status_code == 201
    assert retried.json()["id"] != str(broken.id)


# --- verify --------------------------------------------------------------------------------


def test_verify_marks_paid_grants_access_once_and_is_idempotent(django_capture_on_commit_callbacks):
    plan = paid_plan(validity_days=180)
    learner = UserFactory()
    client = _client(learner)
    order_id = client.post("/api/v1/orders/", {"plan": plan.id}, format="json").json()["id"]
    order = Order.objects.get(pk=order_id)
    callback = _pay(order)

    first = client.post(f"/api/v1/orders/{order_id}/verify/", callback, format="json")
    second = client.post(f"/api/v1/orders/{order_id}/verify/", callback, format="json")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["status"] == "paid"
    assert first.json()["checkout"] is None
    order.refresh_from_db()
    enrollment = Enrollment.objects.get(user=learner, product=plan.product)
    assert order.enrollment_id == enrollment.id
    assert enrollment.source == "purchase"
    assert (enrollment.expires_at - enrollment.starts_at).days == 180
    assert Payment.objects.filter(order=order).count() == 1
    assert order.invoice.total_paise == order.total_paise


def test_bad_verifications_change_nothing():
    plan = paid_plan()
    learner, other = UserFactory(), UserFactory()
    client = _client(learner)
    mine = Order.objects.get(pk=client.post("/api/v1/orders/", {"plan": plan.id}).json()["id"])
    theirs_id = _client(other).post("/api/v1/orders/", {"plan": plan.id}).json()["id"]
    theirs = Order.objects.get(pk=theirs_id)
    callback = _pay(mine)
    other_callback = _pay(theirs)
    url = f"/api/v1/orders/{mine.id}/verify/"

    tampered = client.post(url, {**callback, "razorpay_signature": "0" * 64}, format="json")
    foreign_order = client.post(
        url, {**callback, "razorpay_order_id": theirs.gateway_order_id}, format="json"
    )
    other_signature = client.post(url, other_callback, format="json")  # signed for theirs
    not_mine = client.post(f"/api/v1/orders/{theirs.id}/verify/", other_callback, format="json")
    missing = client.post(url, {"razorpay_order_id": mine.gateway_order_id}, format="json")

    assert (tampered.status_code, tampered.json()["code"]) == (400, "signature_invalid")
    assert foreign_order.json()["fields"]["razorpay_order_id"]
    assert other_signature.status_code == 400
    assert (not_mine.status_code, not_mine.json()["code"]) == (404, "not_found")
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid")
    assert set(Order.objects.values_list("status", flat=True)) == {"created"}
    assert not Payment.objects.exists()
    assert not Enrollment.objects.exists()


# --- webhooks ------------------------------------------------------------------------------


def test_webhooks_in_any_order_and_replayed_give_one_payment_and_one_enrollment():
    plan = paid_plan()
    learner = UserFactory()
    order, _ = services.order_create(user=learner, plan_id=plan.id)
    pay = "pay_Webhook0000001"

    failed = _deliver(
        _event("payment.failed", order=order, payment_id="pay_Failedattempt1", status="failed"),
        event_id="evt_1",
    )
    order.refresh_from_db()
    assert order.status == "failed"
    order_paid = _event("order.paid", order=order, payment_id=pay, status="captured")
    captured = _event("payment.captured", order=order, payment_id=pay, status="captured")
    responses = [
        _deliver(order_paid, event_id="evt_3"),
        _deliver(captured, event_id="evt_2"),
        _deliver(captured, event_id="evt_2"),  # at-least-once: a replay
    ]

    assert failed.status_code == 200
    assert [r.status_code for r in responses] == [200, 200, 200]
    order.refresh_from_db()
    assert order.status == "paid"  # a late capture wins over the earlier failure
    assert Payment.objects.filter(gateway_payment_id=pay).count() == 1
    assert Enrollment.objects.filter(user=learner).count() == 1
    assert WebhookEvent.objects.filter(event_id="evt_2").count() == 1
    assert WebhookEvent.objects.get(event_id="evt_2").attempts == 1


def test_a_webhook_with_a_wrong_or_missing_signature_is_refused_and_not_processed():
    plan = paid_plan()
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
    raw = _event(
        "payment.captured", order=order, payment_id="pay_Forged00000001", status="captured"
    )

    forged = _deliver(raw, event_id="evt_x", secret="not-the-secret")
    unsigned = APIClient().post(
        "/api/v1/payments/razorpay/webhook/",
        data=raw,
        content_type="application/json",
        HTTP_X_RAZORPAY_EVENT_ID="evt_x",
    )
    genuine = _deliver(raw, event_id="evt_x")  # the real delivery is not blocked

    assert (forged.status_code, forged.json()["code"]) == (400, "signature_invalid")
    assert unsigned.status_code == 400
    assert genuine.status_code == 200
    assert WebhookEvent.objects.filter(outcome="rejected", event_id__isnull=True).count() == 2
    order.refresh_from_db()
    assert order.status == "paid"


def test_a_signed_non_json_body_and_a_missing_event_id_are_400():
    not_json = b"hello"
    response = _deliver(not_json, event_id="evt_nj")
    ok_body = json.dumps({"event": "payment.captured", "payload": {}}).encode()
    no_id = APIClient().post(
        "/api/v1/payments/razorpay/webhook/",
        data=ok_body,
        content_type="application/json",
        HTTP_X_RAZORPAY_SIGNATURE=sign(webhook_secret(), ok_body.decode()),
    )
    assert response.status_code == 400
    assert (no_id.status_code, no_id.json()["code"]) == (400, "invalid")


def test_an_amount_mismatch_flags_the_order_and_grants_nothing():
    plan = paid_plan(price_paise=49900)
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
    raw = _event(
        "payment.captured",
        order=order,
        payment_id="pay_Short00000001",
        amount=100,
        status="captured",
    )

    response = _deliver(raw, event_id="evt_short")

    assert response.status_code == 200
    order.refresh_from_db()
    assert (order.status, order.needs_review) == ("created", True)
    assert "does not match" in order.review_reason
    assert not Enrollment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_verify_and_webhook_racing_give_one_payment_and_one_enrollment():
    plan = paid_plan()
    learner = UserFactory()
    order, _ = services.order_create(user=learner, plan_id=plan.id)
    callback = _pay(order)
    raw = _event(
        "payment.captured",
        order=order,
        payment_id=callback["razorpay_payment_id"],
        status="captured",
    )
    barrier = threading.Barrier(4)
    failures: list[BaseException] = []

    def run(job):
        try:
            barrier.wait()
            job()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    jobs = [
        lambda: services.order_verify(user=learner, order_id=order.pk, **callback),
        lambda: services.order_verify(user=learner, order_id=order.pk, **callback),
        lambda: services.webhook_receive(raw, _headers(raw, "evt_race")),
        lambda: services.webhook_receive(raw, _headers(raw, "evt_race_2")),
    ]
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    order.refresh_from_db()
    assert order.status == "paid"
    assert Payment.objects.filter(order=order).count() == 1
    assert Enrollment.objects.filter(user=learner, revoked_at__isnull=True).count() == 1
    assert order.invoice.sequence >= 1


def _headers(raw: bytes, event_id: str) -> dict[str, str]:
    return {
        "X-Razorpay-Signature": sign(webhook_secret(), raw.decode()),
        "X-Razorpay-Event-Id": event_id,
    }


# --- coupons -------------------------------------------------------------------------------


def test_the_coupon_preview_prices_and_refuses_bad_codes():
    plan = paid_plan(price_paise=100000)
    CouponFactory(code="FLAT200", kind="fixed", percent_off=None, amount_off_paise=20000)
    CouponFactory(code="OLD", valid_until=timezone.now() - timedelta(days=1))
    client = _client(UserFactory())

    ok = client.post("/api/v1/coupons/preview/", {"plan": plan.id, "coupon_code": "flat200"})
    expired = client.post("/api/v1/coupons/preview/", {"plan": plan.id, "coupon_code": "OLD"})
    unknown = client.post("/api/v1/coupons/preview/", {"plan": plan.id, "coupon_code": "NOPE"})

    assert ok.json()["total_paise"] == 80000
    assert (expired.status_code, expired.json()["code"]) == (400, "coupon_invalid")
    assert "expired" in expired.json()["fields"]["coupon_code"][0]
    assert unknown.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_two_learners_racing_for_the_last_redemption_one_wins():
    plan = paid_plan()
    CouponFactory(code="LAST1", max_redemptions=1)
    learners = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def buy(learner):
        try:
            barrier.wait()
            services.order_create(user=learner, plan_id=plan.id, coupon_code="LAST1")
            outcomes.append("ordered")
        except CouponExhausted:
            outcomes.append("exhausted")
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["exhausted", "ordered"]
    assert Order.objects.filter(coupon__code="LAST1").count() == 1


def test_an_expired_unpaid_order_releases_its_coupon_reservation():
    plan = paid_plan()
    CouponFactory(code="ONE", max_redemptions=1, max_per_user=None)
    first, second = UserFactory(), UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        services.order_create(user=first, plan_id=plan.id, coupon_code="ONE")
    # Held by the first learner's open order:
    with (
        time_machine.travel(start + timedelta(minutes=30), tick=False),
        pytest.raises(CouponExhausted),
    ):
        services.order_create(user=second, plan_id=plan.id, coupon_code="ONE")
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        services.orders_reconcile()  # no payment at the gateway: the first order expires
        order, _ = services.order_create(user=second, plan_id=plan.id, coupon_code="ONE")

    assert Order.objects.get(user=first).status == "expired"
    assert order.discount_paise > 0


def test_a_fully_discounted_order_is_paid_without_the_gateway():
    plan = paid_plan()
    CouponFactory(code="FREE100", percent_off=100)
    learner = UserFactory()

    order, _ = services.order_create(user=learner, plan_id=plan.id, coupon_code="FREE100")

    assert (order.status, order.total_paise, order.gateway) == ("paid", 0, "none")
    assert Enrollment.objects.filter(user=learner, product=plan.product).exists()
    assert CouponRedemption.objects.filter(order=order).exists()


# --- refunds and reconciliation ---------------------------------------------------------------


def _paid_order(learner=None, **plan) -> Order:
    order, _ = services.order_create(user=learner or UserFactory(), plan_id=paid_plan(**plan).id)
    return services.order_verify(user=order.user, order_id=order.pk, **_pay(order))


def test_partial_then_full_refund_revokes_access_and_over_refunds_are_refused():
    order = _paid_order(price_paise=50000)
    staff = UserFactory(is_staff=True)

    partial = services.refund_create(order=order, amount_paise=20000, reason="goodwill", by=staff)
    order.refresh_from_db()
    assert (partial.status, order.status, order.refunded_paise) == (
        "processed",
        "partially_refunded",
        20000,
    )
    with pytest.raises(RefundInvalid):
        services.refund_create(order=order, amount_paise=30001, reason="too much", by=staff)
    services.refund_create(order=order, amount_paise=30000, reason="course cancelled", by=staff)

    order.refresh_from_db()
    assert (order.status, order.refunded_paise) == ("refunded", 50000)
    assert Enrollment.objects.get(pk=order.enrollment_id).revoked_at is not None
    assert Refund.objects.filter(order=order, status="processed").count() == 2
    with pytest.raises(RefundInvalid):
        services.refund_create(order=order, amount_paise=1, reason="again", by=staff)


def test_reconciliation_settles_a_paid_order_whose_callbacks_never_came():
    plan = paid_plan()
    learner = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(minutes=30)):
        order, _ = services.order_create(user=learner, plan_id=plan.id)
    _pay(order)  # paid at the gateway; the browser closed, no verify, no webhook

    counts = services.orders_reconcile()

    order.refresh_from_db()
    assert counts["paid"] == 1
    assert order.status == "paid"
    assert Enrollment.objects.filter(user=learner, product=plan.product).exists()


def test_reconciliation_captures_a_payment_left_authorized_when_capture_on_verify_failed(
    settings, monkeypatch
):
    settings.RAZORPAY_AUTO_CAPTURE = False
    plan = paid_plan()
    learner = UserFactory()
    with time_machine.travel(timezone.now() - timedelta(minutes=30)):
        order, _ = services.order_create(user=learner, plan_id=plan.id)
        callback = SimulatedGateway().simulate_checkout(
            order.gateway_order_id, succeed=True, auto_capture=False
        )

        def down(self, *args, **kwargs):
            raise GatewayError("504 from the gateway")

        monkeypatch.setattr(SimulatedGateway, "capture_payment", down)
        services.order_verify(user=learner, order_id=order.pk, **callback)
        monkeypatch.undo()
    payment = Payment.objects.get(order=order)
    assert payment.status == "authorized"  # access granted, money not yet captured

    counts = services.orders_reconcile()

    payment.refresh_from_db()
    assert counts["captured"] == 1
    assert payment.status == "captured"
    assert SimulatedGateway().fetch_payment(payment.gateway_payment_id)["status"] == "captured"
    assert services.orders_reconcile()["captured"] == 0  # nothing left to capture


def test_reconciliation_captures_an_authorized_only_payment_of_an_abandoned_order(settings):
    settings.RAZORPAY_AUTO_CAPTURE = False
    plan = paid_plan()
    with time_machine.travel(timezone.now() - timedelta(minutes=30)):
        order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
        SimulatedGateway().simulate_checkout(
            order.gateway_order_id, succeed=True, auto_capture=False
        )  # authorized at the gateway; no verify, no webhook

    counts = services.orders_reconcile()

    order.refresh_from_db()
    assert (counts["paid"], order.status) == (1, "paid")
    assert Payment.objects.get(order=order).status == "captured"


def _failed_then_retried(*, minutes_ago: int, retry_succeeds: bool) -> Order:
    """An order whose first payment failed (the webhook said so), then a Checkout retry on
    the same gateway order, whose verify and webhooks never arrived."""
    plan = paid_plan()
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago)):
        order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
        SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=False)
        failed = _event(
            "payment.failed", order=order, payment_id="pay_Firsttryfailed", status="failed"
        )
        assert _deliver(failed, event_id=f"evt_fail_{order.pk}").status_code == 200
        order.refresh_from_db()
        assert order.status == "failed"
        SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=retry_succeeds)
    return order


def test_reconciliation_settles_a_failed_order_paid_by_a_checkout_retry():
    order = _failed_then_retried(minutes_ago=30, retry_succeeds=True)

    counts = services.orders_reconcile()

    order.refresh_from_db()
    assert (counts["checked"], counts["paid"]) == (1, 1)
    assert order.status == "paid"
    assert Enrollment.objects.filter(user=order.user, product=order.product).count() == 1
    assert services.orders_reconcile()["checked"] == 0  # paid: never looked up again


def test_reconciliation_leaves_a_failed_order_without_a_retry_failed():
    order = _failed_then_retried(minutes_ago=70, retry_succeeds=False)

    counts = services.orders_reconcile()

    order.refresh_from_db()
    assert (counts["checked"], counts["paid"], counts["expired"]) == (1, 0, 0)
    assert order.status == "failed"  # not expired: it failed, and says so
    assert not Enrollment.objects.filter(user=order.user).exists()


def test_reconciliation_stops_looking_up_a_failed_order_once_it_could_take_no_payment(settings):
    order = _failed_then_retried(
        minutes_ago=settings.ORDER_EXPIRE_AFTER_MINUTES
        + settings.ORDER_RECONCILE_AFTER_MINUTES
        + 1,
        retry_succeeds=False,
    )

    assert services.orders_reconcile()["checked"] == 0
    order.refresh_from_db()
    assert order.status == "failed"


def test_reconciliation_keeps_a_young_unpaid_order_open():
    plan = paid_plan()
    with time_machine.travel(timezone.now() - timedelta(minutes=20)):
        order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
    services.orders_reconcile()
    order.refresh_from_db()
    assert order.status == "created"


# --- the whole way ----------------------------------------------------------------------------


def test_end_to_end_order_checkout_verify_enrollment_and_the_test_can_be_started():
    test = sittable_test(free=False)
    learner = UserFactory()
    client = _client(learner)
    start_before = client.post(f"/api/v1/tests/{test.slug}/sessions/")
    plan = paid_plan()
    ProductTestFactory(product=plan.product, test=test)

    order = client.post("/api/v1/orders/", {"plan": plan.id}, format="json").json()
    callback = _pay(Order.objects.get(pk=order["id"]))
    verified = client.post(f"/api/v1/orders/{order['id']}/verify/", callback, format="json")
    start_after = client.post(f"/api/v1/tests/{test.slug}/sessions/")

    assert (start_before.status_code, start_before.json()["code"]) == (403, "no_access")
    assert verified.json()["status"] == "paid"
    assert start_after.status_code == 201


def test_another_learners_order_is_404():
    order = _paid_order()
    response = _client(UserFactory()).get(f"/api/v1/orders/{order.id}/")
    listed = _client(UserFactory()).get("/api/v1/orders/")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert listed.json()["results"] == []


def test_a_gateway_outage_during_a_refund_releases_the_reserved_amount(monkeypatch):
    order = _paid_order(price_paise=30000)

    def down(self, *args, **kwargs):
        raise GatewayError("503")

    monkeypatch.setattr(SimulatedGateway, "refund_payment", down)
    with pytest.raises(GatewayUnavailable):
        services.refund_create(order=order, amount_paise=30000, reason="x", by=None)
    monkeypatch.undo()
    order.refresh_from_db()
    assert (order.status, order.refunded_paise) == ("paid", 0)
    refund = services.refund_create(order=order, amount_paise=30000, reason="x", by=None)
    assert refund.status == "processed"


def test_verify_captures_an_authorized_payment_when_the_account_does_not_auto_capture(settings):
    settings.RAZORPAY_AUTO_CAPTURE = False
    plan = paid_plan()
    learner = UserFactory()
    order, _ = services.order_create(user=learner, plan_id=plan.id)
    callback = SimulatedGateway().simulate_checkout(
        order.gateway_order_id, succeed=True, auto_capture=False
    )

    services.order_verify(user=learner, order_id=order.pk, **callback)

    payment = Payment.objects.get(order=order)
    assert payment.status == "captured"
    assert SimulatedGateway().fetch_payment(payment.gateway_payment_id)["status"] == "captured"
