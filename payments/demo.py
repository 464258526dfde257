"""Demo payments: two coupons, and Ananya (a demo learner) has bought the Django test series
through the simulated gateway — a paid order with its payment, webhook events and tax
invoice in the admin. The demo learner has bought nothing, so they can buy a paid plan in
the browser (README). Idempotent."""

from __future__ import annotations

from decimal import Decimal
from typing import TextIO

from django.contrib.auth import get_user_model

from catalogue.models import Plan
from payments import services
from payments.gateways import gateway_for, get_gateway
from payments.models import Coupon, Order

BUYER = "ananya.demo@examforge.local"
PRODUCT = "django-test-series"
COUPONS = [
    {
        "code": "WELCOME10",
        "description": "10 % off your first purchase",
        "kind": Coupon.Kind.PERCENT,
        "percent_off": Decimal("10"),
        "max_discount_paise": 50_000,
        "max_per_user": 1,
    },
    {
        "code": "LAUNCH500",
        "description": "₹500 off plans of ₹1,500 or more (first 100 buyers)",
        "kind": Coupon.Kind.FIXED,
        "amount_off_paise": 50_000,
        "min_amount_paise": 150_000,
        "max_redemptions": 100,
        "max_per_user": 1,
    },
]


def seed(out: TextIO) -> None:
    for values in COUPONS:
        Coupon.objects.get_or_create(code=values["code"], defaults=values)
    buyer = get_user_model().objects.filter(email=BUYER).first()
    plan = (
        Plan.objects.filter(product__slug=PRODUCT, is_active=True, price_paise__gt=0)
        .order_by("price_paise")
        .first()
    )
    if buyer is None or plan is None:
        out.write("demo payments: skipped (no demo buyer or paid plan)\n")
        return
    if Order.objects.filter(user=buyer, plan=plan, status=Order.Status.PAID).exists():
        return
    if get_gateway().name != Order.Gateway.SIMULATED:
        out.write("demo payments: no demo order (a real gateway is configured)\n")
        return
    order, _ = services.order_create(user=buyer, plan_id=plan.pk, coupon_code="WELCOME10")
    callback = gateway_for(order.gateway).simulate_checkout(  # type: ignore[attr-defined]
        order.gateway_order_id, succeed=True
    )  # the simulated gateway's own step
    services.order_verify(user=buyer, order_id=order.pk, **callback)
    out.write(f"  demo order: {BUYER} bought {PRODUCT} with WELCOME10 (simulated gateway)\n")
