"""Prometheus metrics at ``/metrics``, behind a bearer token.

``MetricsMiddleware`` (first in ``MIDDLEWARE`` when ``METRICS_ENABLED``) measures each
request: a latency histogram per view and method, responses per status, view and method,
and the SQL statements the request ran. The business gauges (sessions in progress, orders
by state, failed webhooks) are counted when Prometheus scrapes, by sources the apps
register here, so no request pays for them.

Cheap on purpose (README, "Benchmarks": ``make bench-metrics``): under gunicorn every
metric update is a write to a per-process mmap file (prometheus_client's multiprocess
mode), with a process-wide lock and a ``getpid()`` check, and a ``.labels()`` lookup
costs more than the write. django-prometheus, used before, did ~26 such updates and 14
lookups per autosave (counters by method, transport, charset, body-size histograms, and a
counter plus a duration histogram around every SQL statement). Here a request costs four
updates and no lookup (label children are cached per process): the statements are counted
in a plain integer by one ``connection.execute_wrapper`` and added once at the end.
"""

from __future__ import annotations

import hmac
import logging
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# --- per-request metrics -----------------------------------------------------------------
# The names are django-prometheus's, so dashboards written for it keep working.

# Seconds. Dense around the service goals (autosave p99 < 100 ms, pages < 200 ms); every
# bucket is one more series per view and method at scrape time, not per request.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0, 10.0)

REQUEST_LATENCY = Histogram(
    "django_http_requests_latency_seconds_by_view_method",
    "Request latency through the whole middleware stack, by view name and method.",
    ["view", "method"],
    buckets=LATENCY_BUCKETS,
)
RESPONSES = Counter(
    "django_http_responses_total_by_status_view_method",
    "Responses by status code, view name and method.",
    ["status", "view", "method"],
)
DB_EXECUTE = Counter(
    "django_db_execute_total",
    "SQL statements executed while serving requests (an executemany counts once).",
    ["alias", "vendor"],
)
DB_ERRORS = Counter(
    "django_db_errors_total",
    "SQL statements that raised, by exception type.",
    ["alias", "vendor", "type"],
)

UNNAMED_VIEW = "<unnamed view>"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class _StatementCounter:
    """An ``execute_wrapper``: counts the statements of one request in plain integers."""

    __slots__ = ("count", "errors")

    def __init__(self) -> None:
        self.count = 0
        self.errors: list[str] = []

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        self.count += 1
        try:
            return execute(sql, params, many, context)
        except Exception as exc:
            self.errors.append(type(exc).__name__)
            raise


class MetricsMiddleware:
    """Times the request, counts its response and its SQL statements (see the module doc).

    Unknown methods share one label and unresolved URLs one view name, so a scanner cannot
    grow the label sets."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        # (view, method) → histogram child, (status, view, method) → counter child: label
        # lookups validate and lock on every call, a dict lookup does not.
        self._latency: dict[tuple[str, str], Histogram] = {}
        self._responses: dict[tuple[str, str, str], Counter] = {}
        self._db = DB_EXECUTE.labels(connection.alias, connection.vendor)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        statements = _StatementCounter()
        with connection.execute_wrapper(statements):
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        view = (match.view_name if match else None) or UNNAMED_VIEW
        method = request.method if request.method in _METHODS else "<invalid method>"
        latency = self._latency.get((view, method))
        if latency is None:
            latency = self._latency[view, method] = REQUEST_LATENCY.labels(view, method)
        latency.observe(elapsed)
        key = (str(response.status_code), view, method)
        responses = self._responses.get(key)
        if responses is None:
            responses = self._responses[key] = RESPONSES.labels(*key)
        responses.inc()
        if statements.count:
            self._db.inc(statements.count)
        for kind in statements.errors:
            DB_ERRORS.labels(connection.alias, connection.vendor, kind).inc()
        return response


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
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    registry.register(_collector)
    return registry
