"""Prometheus metrics at ``/metrics``, behind a bearer token.

django-prometheus measures requests (latency histograms per view) and database queries
(its PostgreSQL backend); the business gauges (sessions in progress, orders by state,
failed webhooks) are counted when Prometheus scrapes, by collectors the apps register
here, so no request pays for them.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MetricSource = Callable[[], Iterable[Metric]]


class ScrapeTimeCollector(Collector):
    """Yields the metrics of every registered source, each counted at scrape time. A source
    that cannot reach the database is skipped (and logged) rather than failing the
    scrape: the request metrics stay visible while the database is down."""

    def __init__(self) -> None:
        self._sources: dict[str, MetricSource] = {}

    def add(self, name: str, source: MetricSource) -> None:
        self._sources[name] = source

    def collect(self) -> Iterable[Metric]:
        for name, source in self._sources.items():
            try:
                metrics = list(source())
            except DatabaseError:
                logger.warning("metrics: source %s failed", name, exc_info=True)
                continue
            yield from metrics


_collector = ScrapeTimeCollector()
REGISTRY.register(_collector)


def register_source(name: str, source: MetricSource) -> None:
    """Adds a scrape-time source (an app calls this from its ``AppConfig.ready``)."""
    _collector.add(name, source)


@never_cache
@require_safe
def metrics(request: HttpRequest) -> HttpResponse:
    """The Prometheus exposition. Off (404) unless ``METRICS_TOKEN`` is set; then the
    scraper must send ``Authorization: Bearer <token>`` (compared in constant time)."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), expected.encode()
    ):
        response = HttpResponse("Unauthorized.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)


def _registry() -> CollectorRegistry:
    """Under gunicorn (gunicorn.conf.py) every worker writes its request and database
    metrics to PROMETHEUS_MULTIPROC_DIR: sum the files of all workers, so a scrape does
    not see only the worker that answered it. Single process (runserver, tests): the
    process's own registry."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    registry.register(_collector)
    return registry
