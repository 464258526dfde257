"""Prepared papers: a published test's papers generated ahead of time, so that starting a
sitting at the opening of a scheduled mock inserts one instead of generating it.

A prepared paper (``PreparedPaper``) is exactly what ``generate_paper(test, seed)`` gives
for a fresh random seed, with the answer layout, question count, maximum score and the
sections' total time beside it. Each is claimed by at most one sitting: the claim deletes
the row, taking the oldest unlocked one (``FOR UPDATE SKIP LOCKED``), so concurrent
starts never wait on each other and never share a paper.

Freshness: a row carries two stamps read *before* its paper was generated — the question
bank's version (``QuestionBankState``, bumped by every write to a question, its choices,
a topic, an import or a calibration) and the test's ``updated_at`` (touched by every
change to the test, its sections, rules or hand-picked questions). The claim compares
both with the current values in SQL, so a paper generated before any change that could
alter generation is never given; with no fresh paper left the start generates one as
before. Correctness never depends on the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from testengine.models import Test

# Only tests whose paper is drawn once at the start: fixed and random ones. Adaptive
# sittings choose items as they go; a learner's practice test leaves out recent questions.
POOLED_MODES = (Test.Mode.FIXED, Test.Mode.RANDOM)

_FRESH = """
    test_id = %s
    AND bank_version = (SELECT COALESCE(MAX(version), 0) FROM testengine_questionbankstate)
    AND test_updated_at = (SELECT updated_at FROM testengine_test WHERE id = %s)
"""

# The claim as one statement: delete the oldest fresh, unlocked paper of a test and
# return what a sitting stores. Two parameters: the test's id, twice. A caller may use it
# as a CTE (``WITH claimed AS (…) INSERT … SELECT … FROM claimed``).
CLAIM_SQL = f"""
DELETE FROM testengine_preparedpaper
WHERE id = (
    SELECT id FROM testengine_preparedpaper
    WHERE {_FRESH}
    ORDER BY id
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING seed, paper, layout, question_count, max_score, timed_seconds, marking_key
"""  # noqa: S608 — a constant fragment; every value is a parameter


def poolable(test: Test) -> bool:
    """May sittings of ``test`` take prepared papers? Published fixed and random tests
    that are not a learner's practice test."""
    return test.mode in POOLED_MODES and test.is_published and test.practice_owner_id is None


def timed_seconds(paper: dict[str, Any]) -> int | None:
    """When every section has its own time limit, their sum; None otherwise (the rule of
    ``sessions_app.timing.sectional_deadline`` from the first section)."""
    sections = paper["sections"]
    if not sections or any(not s.get("duration_seconds") for s in sections):
        return None
    return sum(s["duration_seconds"] for s in sections)


def fresh_count(test_id: int) -> int:
    """How many prepared papers of the test a start could claim now."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM testengine_preparedpaper WHERE {_FRESH}",  # noqa: S608 — as above
            [test_id, test_id],
        )
        return cursor.fetchone()[0]


@dataclass(frozen=True)
class ClaimedPaper:
    seed: int
    paper: dict[str, Any]
    layout: dict[str, Any]
    question_count: int
    max_score: Decimal
    timed_seconds: int | None
    marking_key: str


def claim_paper(*, test_id: int) -> ClaimedPaper | None:
    """Claim (delete and return) one fresh prepared paper of the test; None when there is
    none. Inside the caller's transaction: rolled back, the paper is back in the pool.
    (Starting a sitting runs ``CLAIM_SQL`` inside its insert instead: one statement.)"""
    import json

    with connection.cursor() as cursor:
        cursor.execute(CLAIM_SQL, [test_id, test_id])
        row = cursor.fetchone()
    if row is None:
        return None
    seed, paper, layout, count, max_score, timed, key = row
    return ClaimedPaper(
        seed=seed,
        paper=json.loads(paper) if isinstance(paper, str) else paper,
        layout=json.loads(layout) if isinstance(layout, str) else layout,
        question_count=count,
        max_score=max_score,
        timed_seconds=timed,
        marking_key=key,
    )
