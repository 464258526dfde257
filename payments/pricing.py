"""What a learner pays: the plan's price less a coupon's discount, computed on the server.

Coupon rules: active, inside its validity window, for this product (listed, or in a listed
category or one of its subcategories), the plan's price at least its minimum, and under
its limits. Limits count redemptions (paid orders) **and** orders holding the coupon
(reservations), with the coupon row locked while an order is created: two learners racing
for the last redemption cannot both get it, and no learner pays a discounted price we would
then refuse to honour. An order holds its coupon while its gateway order can still take a
payment: created, or failed (Checkout lets the learner retry on the same gateway order),
until it expires (``ORDER_EXPIRE_AFTER_MINUTES``) or the same learner orders again with the
coupon. A payment that arrives after the hold lapsed is re-checked (``coupon_honoured``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from catalogue.models import Category, Plan, Product
from core.money import rupees
from payments.errors import CouponExhausted, CouponInvalid
from payments.models import Coupon, CouponRedemption, Order

if TYPE_CHECKING:
    from accounts.models import User

MIN_CHARGE_PAISE = 100  # Razorpay's minimum order amount (₹1)


@dataclass(frozen=True)
class Quote:
    plan: Plan
    product: Product
    currency: str
    base_paise: int
    discount_paise: int
    total_paise: int
    coupon: Coupon | None


def _invalid(message: str) -> CouponInvalid:
    return CouponInvalid(fields={"coupon_code": [message]})


def _ancestors(category_id: int | None) -> set[int]:
    """The product's category and every parent (categories form a shallow tree)."""
    found: set[int] = set()
    while category_id is not None and category_id not in found:
        found.add(category_id)
        category_id = (
            Category.objects.filter(pk=category_id).values_list("parent_id", flat=True).first()
        )
    return found


def coupon_applies_to(coupon: Coupon, product: Product) -> bool:
    product_ids = set(coupon.products.values_list("id", flat=True))
    category_ids = set(coupon.categories.values_list("id", flat=True))
    if not product_ids and not category_ids:
        return True
    if product.pk in product_ids:
        return True
    return bool(category_ids & _ancestors(product.category_id))


def coupon_holds(coupon: Coupon, now: datetime) -> QuerySet[Order]:
    """Orders that use (redeemed) or hold the coupon. A failed order keeps its hold (its
    gateway order can still be paid) unless it has no gateway order (it never can) or the
    same learner has ordered again with the coupon since (the newer order holds instead)."""
    open_since = now - timedelta(minutes=settings.ORDER_EXPIRE_AFTER_MINUTES)
    newer = Order.objects.filter(
        coupon=coupon, user=OuterRef("user"), created_at__gt=OuterRef("created_at")
    ).exclude(status=Order.Status.FAILED, gateway_order_id__isnull=True)
    failed_retryable = Q(
        status=Order.Status.FAILED, gateway_order_id__isnull=False, created_at__gt=open_since
    ) & ~Exists(newer)
    redeemed = Q(pk__in=CouponRedemption.objects.filter(coupon=coupon).values("order_id"))
    return Order.objects.filter(
        Q(coupon=coupon)
        & (Q(status=Order.Status.CREATED, created_at__gt=open_since) | failed_retryable | redeemed)
    )


def coupon_honoured(*, order: Order, now: datetime) -> bool:
    """Whether the discount of ``order`` (about to be paid) stays within its coupon's limits.
    An order still holding its coupon was counted when others were refused: honoured. One
    whose hold lapsed (expired, or superseded by the learner's newer order) is honoured only
    if the redemptions and the other holds leave room. Locks the coupon row."""
    if order.coupon_id is None:
        return True
    coupon = Coupon.objects.select_for_update().get(pk=order.coupon_id)
    holds = coupon_holds(coupon, now)
    if holds.filter(pk=order.pk).exists():
        return True
    others = holds.exclude(pk=order.pk)
    if coupon.max_redemptions is not None and others.count() >= coupon.max_redemptions:
        return False
    return not (
        coupon.max_per_user is not None
        and others.filter(user_id=order.user_id).count() >= coupon.max_per_user
    )


def discount_for(coupon: Coupon, base_paise: int) -> int:
    if coupon.kind == Coupon.Kind.PERCENT:
        off = (Decimal(base_paise) * coupon.percent_off / 100).to_integral_value(ROUND_FLOOR)  # type: ignore[operator]  # set on percent coupons
        discount = int(off)
        if coupon.max_discount_paise is not None:
            discount = min(discount, coupon.max_discount_paise)
    else:
        discount = coupon.amount_off_paise or 0
    discount = min(discount, base_paise)
    total = base_paise - discount
    if 0 < total < MIN_CHARGE_PAISE:  # the gateway cannot charge less than ₹1
        discount = base_paise - MIN_CHARGE_PAISE
    return max(0, discount)


def quote(
    *,
    user: User,
    plan: Plan,
    coupon_code: str | None,
    now: datetime,
    lock: bool = False,
    exclude_order: Order | None = None,
) -> Quote:
    """Price ``plan`` for ``user`` with an optional coupon. ``lock`` (inside a transaction,
    when creating an order) locks the coupon row so its limits are race-safe."""
    product = plan.product
    base = plan.price_paise
    code = (coupon_code or "").strip()
    if not code:
        return Quote(plan, product, plan.currency, base, 0, base, None)
    coupons = Coupon.objects.filter(code__iexact=code)
    if lock:
        coupons = coupons.select_for_update()
    coupon = coupons.first()
    if coupon is None or not coupon.is_active:
        raise _invalid("No such coupon.")
    if coupon.valid_from and now < coupon.valid_from:
        raise _invalid("This coupon is not valid yet.")
    if coupon.valid_until and now >= coupon.valid_until:
        raise _invalid("This coupon has expired.")
    if not coupon_applies_to(coupon, product):
        raise _invalid("This coupon does not apply to this product.")
    if base < coupon.min_amount_paise:
        raise _invalid(f"This coupon needs a plan of at least {rupees(coupon.min_amount_paise)}.")
    # The learner's own failed orders give their hold to the order being created.
    holding = coupon_holds(coupon, now).exclude(user=user, status=Order.Status.FAILED)
    if exclude_order is not None:
        holding = holding.exclude(pk=exclude_order.pk)
    if coupon.max_per_user is not None and holding.filter(user=user).count() >= coupon.max_per_user:
        raise _invalid("You have already used this coupon.")
    if coupon.max_redemptions is not None and holding.count() >= coupon.max_redemptions:
        raise CouponExhausted()
    discount = discount_for(coupon, base)
    return Quote(plan, product, plan.currency, base, discount, base - discount, coupon)
