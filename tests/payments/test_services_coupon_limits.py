"""A coupon's limit holds across failed payments, retries on the same gateway order and late
captures: the hold lasts while the gateway order can still be paid, the limit is re-checked
when money arrives, and a discount honoured over the limit is flagged for finance.
Webhooks are built from Razorpay's payload shapes (tests/payments/razorpay/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from catalogue.models import Enrollment
from payments import services
from payments.errors import CouponExhausted
from payments.metrics import payment_metrics
from payments.models import CouponRedemption, Order
from tests.accounts.factories import StaffFactory, UserFactory
from tests.payments.factories import CouponFactory, paid_plan
from tests.payments.test_orders import _deliver, _event, _pay

pytestmark = pytest.mark.django_db


def _overrun_gauge() -> float:
    for metric in payment_metrics():
        if metric.name == "examforge_orders_coupon_overrun":
            return metric.samples[0].value
    raise AssertionError("the coupon overrun gauge is missing")


def test_a_failed_payment_keeps_the_hold_so_a_retry_on_the_same_gateway_order_is_honoured():
    plan = paid_plan(price_paise=49900)
    CouponFactory(code="ONLY1", max_redemptions=1, max_per_user=None)
    first, second = UserFactory(), UserFactory()
    order, _ = services.order_create(user=first, plan_id=plan.id, coupon_code="ONLY1")
    failed = _event("payment.failed", order=order, payment_id="pay_FirstTryFail01", status="failed")
    assert _deliver(failed, event_id="evt_fail_1").status_code == 200
    order.refresh_from_db()
    assert order.status == "failed"

    # The failed order's gateway order can still take a payment: the coupon stays held.
    with pytest.raises(CouponExhausted):
        services.order_create(user=second, plan_id=plan.id, coupon_code="ONLY1")
    # Checkout's retry on the same gateway order succeeds.
    captured = _event(
        "payment.captured", order=order, payment_id="pay_SecondTryOk01", status="captured"
    )
    assert _deliver(captured, event_id="evt_cap_1").status_code == 200

    order.refresh_from_db()
    assert (order.status, order.discount_paise > 0) == ("paid", True)
    assert (order.coupon_overrun, order.needs_review) == (False, False)
    assert CouponRedemption.objects.filter(coupon__code="ONLY1").count() == 1
    assert not Order.objects.filter(user=second).exists()
    assert _overrun_gauge() == 0


def test_a_learner_may_order_again_after_a_failed_payment_and_paying_both_is_flagged():
    plan = paid_plan(price_paise=49900)
    CouponFactory(code="ONCE", max_redemptions=None, max_per_user=1)
    learner = UserFactory()
    old, _ = services.order_create(user=learner, plan_id=plan.id, coupon_code="ONCE")
    _deliver(
        _event("payment.failed", order=old, payment_id="pay_OldAttempt001", status="failed"),
        event_id="evt_old_fail",
    )

    new, _ = services.order_create(user=learner, plan_id=plan.id, coupon_code="ONCE")
    services.order_verify(user=learner, order_id=new.pk, **_pay(new))
    # The old gateway order is paid too (a second Checkout tab): over the per-learner limit.
    _deliver(
        _event("payment.captured", order=old, payment_id="pay_OldTabPaid01", status="captured"),
        event_id="evt_old_cap",
    )

    new.refresh_from_db()
    old.refresh_from_db()
    assert (new.status, new.coupon_overrun, new.needs_review) == ("paid", False, False)
    assert (old.status, old.coupon_overrun, old.needs_review) == ("paid", True, True)
    assert old.review_reason.startswith("coupon_overrun: ONCE")


def test_a_late_capture_of_an_expired_order_after_the_coupon_was_used_up_is_flagged():
    plan = paid_plan(price_paise=49900)
    CouponFactory(code="LAST", max_redemptions=1, max_per_user=None)
    late, other = UserFactory(), UserFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        order, _ = services.order_create(user=late, plan_id=plan.id, coupon_code="LAST")
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        services.orders_reconcile()  # no payment yet: the order expires, its hold lapses
        taken, _ = services.order_create(user=other, plan_id=plan.id, coupon_code="LAST")
        services.order_verify(user=other, order_id=taken.pk, **_pay(taken))
    order.refresh_from_db()
    assert order.status == "expired"

    with time_machine.travel(start + timedelta(minutes=70), tick=False):
        captured = _event(
            "payment.captured", order=order, payment_id="pay_LateCapture01", status="captured"
        )
        response = _deliver(captured, event_id="evt_late_cap")

    assert response.status_code == 200
    order.refresh_from_db()
    taken.refresh_from_db()
    # The money is honoured (access granted) and the overrun is visible, never silent.
    assert order.status == "paid"
    assert (order.coupon_overrun, order.needs_review) == (True, True)
    assert "coupon_overrun" in order.review_reason
    assert Enrollment.objects.filter(user=late, product=plan.product).exists()
    assert (taken.coupon_overrun, taken.needs_review) == (False, False)
    assert CouponRedemption.objects.filter(coupon__code="LAST").count() == 2
    assert _overrun_gauge() == 1


def test_a_late_capture_with_room_left_on_the_coupon_is_not_flagged():
    plan = paid_plan(price_paise=49900)
    CouponFactory(code="ROOMY", max_redemptions=5, max_per_user=None)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        order, _ = services.order_create(user=UserFactory(), plan_id=plan.id, coupon_code="ROOMY")
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        services.orders_reconcile()
        captured = _event(
            "payment.captured", order=order, payment_id="pay_LateButFine1", status="captured"
        )
        _deliver(captured, event_id="evt_late_ok")

    order.refresh_from_db()
    assert (order.status, order.coupon_overrun, order.needs_review) == ("paid", False, False)


def test_the_admin_lists_coupon_overruns_for_finance(client):
    plan = paid_plan()
    flagged, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
    fine, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
    Order.objects.filter(pk=flagged.pk).update(coupon_overrun=True, needs_review=True)
    client.force_login(StaffFactory(is_superuser=True))

    response = client.get("/admin/payments/order/", {"coupon_overrun__exact": "1"})

    assert response.status_code == 200
    listed = [order.pk for order in response.context["cl"].result_list]
    assert listed == [flagged.pk]
    assert fine.pk not in listed


def test_finance_marks_a_flagged_order_reviewed_and_the_gauge_drops(client):
    plan = paid_plan()
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.id)
    Order.objects.filter(pk=order.pk).update(
        coupon_overrun=True, needs_review=True, review_reason="coupon_overrun: X"
    )
    assert _overrun_gauge() == 1
    client.force_login(StaffFactory(is_superuser=True, email="finance@examforge.local"))

    response = client.post(
        "/admin/payments/order/",
        {"action": "mark_reviewed", "_selected_action": [str(order.pk)]},
    )

    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.needs_review, order.coupon_overrun) == (False, True)
    assert order.review_reason == "coupon_overrun: X [reviewed by finance@examforge.local]"
    assert _overrun_gauge() == 0
