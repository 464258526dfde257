"""Factories for payments: coupons and a paid plan of a published product."""

from __future__ import annotations

from decimal import Decimal

import factory

from catalogue import services as catalogue_services
from catalogue.models import Plan
from payments.models import Coupon
from tests.catalogue.factories import PlanFactory, PublishedProductFactory


def paid_plan(*, price_paise: int = 49900, validity_days: int | None = 180, **product) -> Plan:
    """An active paid plan of a published product."""
    product = PublishedProductFactory(**product)
    plan = product.plans.first() or PlanFactory(product=product)
    plan.price_paise = price_paise
    plan.list_price_paise = max(plan.list_price_paise or 0, price_paise)
    plan.validity_days = validity_days
    plan.is_lifetime = validity_days is None
    plan.is_active = True
    plan.save()
    catalogue_services.product_sync_derived(product_ids=[product.id])
    return Plan.objects.select_related("product").get(pk=plan.pk)


class CouponFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Coupon

    code = factory.Sequence(lambda n: f"SAVE{n}")
    kind = Coupon.Kind.PERCENT
    percent_off = Decimal("10")
    max_per_user = 1
