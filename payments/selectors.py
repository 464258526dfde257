"""Reads of payments shared by several callers (metrics)."""

from __future__ import annotations

from django.db.models import Count

from payments.models import Order, WebhookEvent


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
