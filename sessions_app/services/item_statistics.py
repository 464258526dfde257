"""Classical item statistics from scored sittings (facility, discrimination, …).

``update_item_statistics`` gathers, for one test's submitted sessions, each sitting's marks
per question (``SessionResponse.marks``; a question of the paper left unanswered counts 0)
and each question's max mark from the frozen papers, and stores the figures through
``testengine.services.question_statistics_store`` (an upsert, so it is safe to run again).

Run it with ``manage.py update_item_statistics [--test SLUG]``; it is meant to be wired to
run after submissions by a background task (debounced per test) later.
"""

from __future__ import annotations

from decimal import Decimal

from sessions_app.models import ExamSession, SessionResponse
from testengine.models import Question
from testengine.services.questions import question_statistics_store
from testengine.statistics import item_statistics


def update_item_statistics(test_id: int) -> int:
    """Recompute and store item statistics for every question any submitted sitting of
    the test contained. Returns how many questions' rows were written. Three queries plus
    one per 500 sittings read."""
    submitted = ExamSession.objects.filter(test_id=test_id, status=ExamSession.Status.SUBMITTED)
    sittings: dict[object, dict[int, float]] = {}
    max_marks: dict[int, float] = {}
    for session_id, paper in submitted.values_list("id", "paper").iterator(chunk_size=500):
        marks: dict[int, float] = {}
        for section in paper["sections"]:
            for question in section["questions"]:
                marks[question["id"]] = 0.0
                top = float(Decimal(question["marks"]))
                max_marks[question["id"]] = max(max_marks.get(question["id"], 0.0), top)
        sittings[session_id] = marks
    if not sittings:
        return 0
    for session_id, question_id, mark in SessionResponse.objects.filter(
        session__test_id=test_id,
        session__status=ExamSession.Status.SUBMITTED,
        marks__isnull=False,
    ).values_list("session_id", "question_id", "marks"):
        row = sittings.get(session_id)
        if row is not None and question_id in row:
            row[question_id] = float(mark)  # type: ignore[arg-type]  # marks__isnull=False
    # Questions deleted since (papers are frozen) can have no statistics row.
    existing = set(Question.objects.filter(pk__in=list(max_marks)).values_list("id", flat=True))
    statistics = [
        item
        for item in item_statistics(sittings.values(), max_marks)
        if item.question_id in existing
    ]
    return question_statistics_store(statistics=statistics)
