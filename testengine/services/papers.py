"""Prepared papers (``testengine.pool``): fill a test's pool ahead of a sitting, discard
papers gone stale."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import connection, transaction

from testengine.bank import bank_version
from testengine.models import PreparedPaper, Test
from testengine.paper import answer_layout, generate_paper
from testengine.pool import POOLED_MODES, fresh_count, poolable, timed_seconds
from testengine.scoring import marking_key

BATCH_SIZE = 50  # papers generated and inserted per transaction


@dataclass(frozen=True)
class PrepareReport:
    test_id: int
    prepared: int  # papers added by this call
    fresh: int  # fresh papers in the pool afterwards
    skipped: str = ""  # why nothing was prepared (not poolable), when so


def papers_prepare(*, test: Test, count: int) -> PrepareReport:
    """Top the test's pool up to ``count`` fresh papers (stale ones of the test are
    discarded first). Each paper is ``generate_paper(test, seed)`` for a new random seed,
    stamped with the bank version and the test's ``updated_at`` read before generating —
    so a change that commits while this runs makes the papers stale, never wrong. Only
    published fixed and random tests (not practice tests) are pooled. Raises
    ``PaperUnavailable`` when the bank cannot fill the test."""
    test_id = test.pk
    test = Test.objects.get(pk=test_id)
    if not poolable(test):
        return PrepareReport(test_id, 0, 0, skipped="not a published fixed or random test")
    papers_discard_stale(test_id=test_id)
    prepared = 0
    for _batch in range(count // BATCH_SIZE + 5):  # a bound, should edits keep racing
        with transaction.atomic():
            # The test's fields and its stamp in one read, the bank version next, both
            # before anything is generated: a change committed after them bumps a stamp.
            current = Test.objects.filter(pk=test_id).first()
            if current is None or not poolable(current):
                break
            version = bank_version()
            wanted = min(BATCH_SIZE, count - fresh_count(test_id))
            if wanted <= 0:
                break
            rows = []
            for _ in range(wanted):
                seed = secrets.randbits(62)
                paper = generate_paper(current, seed)
                paper_json = paper.to_json()
                rows.append(
                    PreparedPaper(
                        test=current,
                        seed=seed,
                        paper=paper_json,
                        layout=answer_layout(paper_json),
                        question_count=len(paper.questions),
                        max_score=paper.max_score,
                        timed_seconds=timed_seconds(paper_json),
                        marking_key=marking_key(paper_json),
                        bank_version=version,
                        test_updated_at=current.updated_at,
                    )
                )
            PreparedPaper.objects.bulk_create(rows)
            prepared += len(rows)
    return PrepareReport(test_id, prepared, fresh_count(test_id))


def papers_discard_stale(*, test_id: int | None = None) -> int:
    """Delete prepared papers no start would take: generated before the question bank or
    their test last changed, or of a test no longer pooled (unpublished, adaptive).
    ``test_id``: only that test's. Returns how many were deleted."""
    where = "" if test_id is None else "AND p.test_id = %s"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            DELETE FROM testengine_preparedpaper p
            USING testengine_test t
            WHERE t.id = p.test_id {where}
              AND (p.bank_version <> (
                       SELECT COALESCE(MAX(version), 0) FROM testengine_questionbankstate)
                   OR p.test_updated_at <> t.updated_at
                   OR NOT t.is_published
                   OR t.mode <> ALL(%s))
            """,  # noqa: S608 — a constant condition; every value is a parameter
            [*([] if test_id is None else [test_id]), list(POOLED_MODES)],
        )
        return int(cursor.rowcount)
