"""Reads the back office and the services share: revenue totals, what can be refunded, which
webhook events may be processed again."""

from __future__ import annotations

import pytest

from payments import selectors, services
from payments.gateways.simulated import SimulatedGateway
from payments.models import Order, WebhookEvent
from tests.accounts.factories import UserFactory
from tests.payments.factories import paid_plan

pytestmark = pytest.mark.django_db


def _order(price_paise: int, *, paid: bool) -> Order:
    plan = paid_plan(price_paise=price_paise)
    order, _ = services.order_create(user=UserFactory(), plan_id=plan.pk)
    if not paid:
        return order
    callback = SimulatedGateway().simulate_checkout(order.gateway_order_id, succeed=True)
    return services.order_verify(user=order.user, order_id=order.pk, **callback)


def test_order_totals_count_paid_orders_refunded_or_not_and_subtract_refunds(
    django_assert_num_queries,
):
    kept = _order(49900, paid=True)
    refunded = _order(149900, paid=True)
    _order(99900, paid=False)
    services.refund_create(order=refunded, amount_paise=20050, reason="Partial", by=None)

    with django_assert_num_queries(1):
        totals = selectors.order_totals(orders=Order.objects.all())
    only_kept = selectors.order_totals(orders=Order.objects.filter(pk=kept.pk))
    unpaid = selectors.order_totals(orders=Order.objects.filter(status=Order.Status.CREATED))

    assert totals == selectors.OrderTotals(revenue_paise=199800, refunds_paise=20050, paid_orders=2)
    assert totals.net_paise == 179750
    assert only_kept == selectors.OrderTotals(revenue_paise=49900, refunds_paise=0, paid_orders=1)
    assert unpaid == selectors.OrderTotals(revenue_paise=0, refunds_paise=0, paid_orders=0)


@pytest.mark.parametrize(
    ("status", "refundable"),
    [
        (Order.Status.CREATED, False),
        (Order.Status.PAID, True),
        (Order.Status.PARTIALLY_REFUNDED, True),
        (Order.Status.REFUNDED, False),
        (Order.Status.FAILED, False),
    ],
)
def test_only_a_paid_order_with_something_left_is_refundable(status, refundable):
    assert selectors.order_is_refundable(Order(status=status)) is refundable


def test_only_validly_signed_failed_or_unprocessed_events_are_reprocessable_oldest_first():
    def event(name: str, *, outcome: str, signed: bool = True) -> WebhookEvent:
        return WebhookEvent.objects.create(
            event_id=name,
            event="payment.captured",
            body="{}",
            signature_valid=signed,
            outcome=outcome,
        )

    failed = event("evt_failed", outcome=WebhookEvent.Outcome.FAILED)
    received = event("evt_received", outcome=WebhookEvent.Outcome.RECEIVED)
    event("evt_processed", outcome=WebhookEvent.Outcome.PROCESSED)
    event("evt_forged", outcome=WebhookEvent.Outcome.FAILED, signed=False)

    found = selectors.webhook_events_reprocessable(WebhookEvent.objects.all())

    assert list(found) == [failed, received]
