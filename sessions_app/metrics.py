"""Scrape-time gauges of exam sessions (core.metrics)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from sessions_app import selectors


def session_metrics() -> Iterable[Metric]:
    yield GaugeMetricFamily(
        "examforge_exam_sessions_in_progress",
        "Exam sessions started and not yet submitted.",
        value=selectors.sessions_in_progress_count(),
    )
