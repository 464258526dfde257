"""Scrape-time gauges of orders and webhooks (core.metrics)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from payments import selectors


def payment_metrics() -> Iterable[Metric]:
    orders = GaugeMetricFamily("examforge_orders", "Orders by status.", labels=["status"])
    for status, count in selectors.order_counts_by_status().items():
        orders.add_metric([status], count)
    yield orders
    yield GaugeMetricFamily(
        "examforge_webhook_events_failed",
        "Stored webhook events whose processing failed.",
        value=selectors.webhook_failed_count(),
    )
    yield GaugeMetricFamily(
        "examforge_orders_coupon_overrun",
        "Paid orders whose coupon was honoured over its limit, waiting for finance.",
        value=selectors.coupon_overrun_unreviewed_count(),
    )
