"""Background tasks of the test engine (django-tasks; each calls a service)."""

from __future__ import annotations

from dataclasses import asdict

from django.db import transaction
from django_tasks import task

from testengine.models import Test
from testengine.services.papers import papers_discard_stale, papers_prepare


@task()
def prepare_test_papers(test_id: int, count: int) -> dict:
    """Top the test's pool of prepared papers up to ``count`` (``papers_prepare``; safe to
    run twice: a second run finds the pool full). Returns the report."""
    test = Test.objects.filter(pk=test_id).first()
    if test is None:
        return {"test_id": test_id, "prepared": 0, "fresh": 0, "skipped": "no such test"}
    return asdict(papers_prepare(test=test, count=count))


@task()
def discard_stale_prepared_papers() -> int:
    """Delete prepared papers that no start would take any more (``papers_discard_stale``)."""
    return papers_discard_stale()


def schedule_prepare_papers(test_ids: list[int], count: int) -> None:
    """After the current transaction commits, enqueue one preparation per test."""

    def enqueue() -> None:
        for test_id in test_ids:
            prepare_test_papers.enqueue(test_id, count)

    transaction.on_commit(enqueue)
