"""A product's derived fields (price range, free flag, live enrollments) have one writer,
``services.product_sync_derived``; every trigger — the services, a plan written by hand
(the receiver), the hourly ``catalogue_refresh`` — goes through it and leaves them right."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalogue import services
from catalogue.models import Enrollment, Plan, Product
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import PlanFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _derived(product: Product) -> tuple:
    product.refresh_from_db()
    return (
        product.price_from_paise,
        product.price_to_paise,
        product.is_free,
        product.live_enrollments,
    )


@pytest.fixture
def writer():
    """A spy on the one writer: every call is recorded and still runs."""
    with mock.patch.object(
        services, "product_sync_derived", wraps=services.product_sync_derived
    ) as spy:
        yield spy


def _synced(writer) -> list[list[int]]:
    return [list(call.kwargs["product_ids"]) for call in writer.call_args_list]


def test_the_product_services_write_the_price_range_through_the_writer(writer):
    product = services.product_create(
        values={"title": "NEET Physics", "kind": Product.Kind.TEST_SERIES},
        plans=[
            {"name": "Month", "price_paise": 29900, "validity_days": 30},
            {"name": "Year", "price_paise": 149900, "validity_days": 365},
        ],
    )
    assert _derived(product) == (29900, 149900, False, 0)
    assert [product.pk] in _synced(writer)
    writer.reset_mock()

    services.product_update(
        product=product,
        values={},
        plans=[{"name": "Free", "price_paise": 0, "is_lifetime": True}],
    )

    assert _derived(product) == (0, 0, True, 0)
    assert [product.pk] in _synced(writer)


def test_enrolment_and_revocation_count_live_enrollments_through_the_writer(writer):
    plan = PlanFactory(price_paise=49900)
    product = plan.product
    writer.reset_mock()

    enrollment, _ = services.enrollment_add(
        user=UserFactory(), product=product, plan=plan, source=Enrollment.Source.GRANT
    )
    assert _derived(product) == (49900, 49900, False, 1)
    assert _synced(writer) == [[product.pk]]
    writer.reset_mock()

    services.enrollment_revoke(enrollment=enrollment, reason="test")

    assert _derived(product) == (49900, 49900, False, 0)
    assert _synced(writer) == [[product.pk]]


def test_a_plan_written_by_hand_is_reflected_by_the_receiver_through_the_writer(writer):
    product = ProductFactory()
    assert _derived(product) == (None, None, False, 0)

    plan = Plan.objects.create(product=product, name="Month", price_paise=9900, validity_days=30)
    assert _derived(product) == (9900, 9900, False, 0)
    Plan.objects.filter(pk=plan.pk).update(price_paise=0)  # no signal: nothing is written
    assert _derived(product) == (9900, 9900, False, 0)
    plan.refresh_from_db()
    plan.save()
    assert _derived(product) == (0, 0, True, 0)
    plan.delete()

    assert _derived(product) == (None, None, False, 0)
    assert _synced(writer) == [[product.pk]] * 3


def test_the_hourly_refresh_writes_through_the_writer(writer):
    plan = PlanFactory(price_paise=49900)
    product = plan.product
    enrollment, _ = services.enrollment_add(
        user=UserFactory(), product=product, plan=plan, source=Enrollment.Source.GRANT
    )
    Enrollment.objects.filter(pk=enrollment.pk).update(
        starts_at=timezone.now() - timedelta(days=40),
        expires_at=timezone.now() - timedelta(days=10),
    )
    assert _derived(product) == (49900, 49900, False, 1)  # lapsed by the clock: stale
    writer.reset_mock()

    call_command("catalogue_refresh", stdout=StringIO())

    assert _derived(product) == (49900, 49900, False, 0)
    assert _synced(writer) == [[product.pk]]
