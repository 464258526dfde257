"""Background tasks of exam sessions (django-tasks; each calls a service)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from sessions_app.services.calibration import calibrate_items
from sessions_app.services.item_statistics import update_item_statistics


def _pending_key(test_id: int) -> str:
    return f"sessions:item-stats-pending:{test_id}"


@task()
def update_test_item_statistics(test_id: int) -> int:
    """Recompute one test's item statistics (an upsert; safe to run twice)."""
    cache.delete(_pending_key(test_id))  # submissions from now on schedule the next run
    return update_item_statistics(test_id)


def schedule_item_statistics(test_id: int) -> None:
    """After the current transaction commits, schedule a recomputation of the test's item
    statistics, debounced: at most one is pending per test, run
    ``ITEM_STATISTICS_DEBOUNCE_SECONDS`` later, so a thousand submissions at 11:00 cost one
    recomputation, not a thousand. If no worker ever runs it, the marker expires and a
    later submission schedules it again."""

    def enqueue() -> None:
        delay = settings.ITEM_STATISTICS_DEBOUNCE_SECONDS
        if not cache.add(_pending_key(test_id), 1, timeout=delay * 10 + 60):
            return
        runner = update_test_item_statistics
        if delay and runner.get_backend().supports_defer:
            runner = runner.using(run_after=timezone.now() + timedelta(seconds=delay))
        runner.enqueue(test_id)

    transaction.on_commit(enqueue)


@task()
def calibrate_item_parameters(test_id: int | None = None, min_responses: int | None = None) -> dict:
    """Fit and store IRT item parameters (``services.calibration.calibrate_items``): one
    run at a time (an advisory lock; a second returns ``ran: false``), same values when
    repeated. Returns the run's report."""
    return asdict(calibrate_items(test_id=test_id, min_responses=min_responses))
