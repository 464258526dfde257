"""Reads of payments shared by several callers (services, metrics, the back office)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet, Sum

from payments.models import Order, WebhookEvent

# An order that was paid, whatever was refunded since: it counts as revenue and has an invoice.
PAID_STATES = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED, Order.Status.REFUNDED)
# A paid order with something left to refund.
REFUNDABLE_STATES = (Order.Status.PAID, Order.Status.PARTIALLY_REFUNDED)
# Webhook events that may be applied again: failed, or stored and never processed. A
# processed event is never applied twice, a rejected one (bad signature) never at all.
REPROCESSABLE_OUTCOMES = (WebhookEvent.Outcome.FAILED, WebhookEvent.Outcome.RECEIVED)


@dataclass(frozen=True)
class OrderTotals:
    revenue_paise: int
    refunds_paise: int
    paid_orders: int

    @property
    def net_paise(self) -> int:
        return self.revenue_paise - self.refunds_paise


def order_totals(*, orders: QuerySet[Order]) -> OrderTotals:
    """Revenue (the totals of paid orders, refunded or not), refunds and the number of paid
    orders among ``orders``, in one query."""
    sums = orders.aggregate(
        revenue=Sum("total_paise", filter=Q(status__in=PAID_STATES), default=0),
        refunds=Sum("refunded_paise", default=0),
        paid_orders=Count("pk", filter=Q(status__in=PAID_STATES)),
    )
    return OrderTotals(
        revenue_paise=sums["revenue"],
        refunds_paise=sums["refunds"],
        paid_orders=sums["paid_orders"],
    )


def order_is_refundable(order: Order) -> bool:
    """Only a paid order not yet fully refunded can be refunded (``refund_create`` refuses
    the others)."""
    return order.status in REFUNDABLE_STATES


def webhook_events_reprocessable(events: QuerySet[WebhookEvent]) -> QuerySet[WebhookEvent]:
    """The events among ``events`` that may be processed again, oldest first: a valid
    signature and an outcome in ``REPROCESSABLE_OUTCOMES``."""
    return events.filter(signature_valid=True, outcome__in=REPROCESSABLE_OUTCOMES).order_by(
        "received_at", "pk"
    )


def order_counts_by_status() -> dict[str, int]:
    """Orders per status, every status present (0 when none), in one query."""
    counts = dict.fromkeys(Order.Status.values, 0)
    for row in Order.objects.order_by().values("status").annotate(n=Count("pk")):
        counts[row["status"]] = row["n"]
    return counts


def webhook_failed_count() -> int:
    """Stored webhook events whose processing failed (waiting for a retry from the admin)."""
    return WebhookEvent.objects.filter(outcome=WebhookEvent.Outcome.FAILED).count()


def coupon_overrun_unreviewed_count() -> int:
    """Paid orders whose coupon was honoured over its limit and that finance has not
    settled yet (still flagged for review)."""
    return Order.objects.filter(coupon_overrun=True, needs_review=True).count()
