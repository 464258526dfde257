"""The session detail: a sitting's status, clock, sections and palette (never its paper or
answers). Starting, resuming and reading a sitting answer with it, in this app's API and
in other apps that start a sitting (learning's practice), so it is built here, beside the
serializer that documents it, and not in a views module another app would have to import."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from sessions_app import timing
from sessions_app.api.serializers import SessionDetailSerializer
from sessions_app.models import ExamSession
from sessions_app.policy import paper_questions
from sessions_app.selectors import saved_answers

__all__ = [
    "SESSION_DETAIL_EXAMPLE",
    "SessionDetailSerializer",
    "fast_serialized",
    "paper_questions",
    "saved_answers",
    "session_detail_data",
    "session_detail_payload",
]

SESSION_DETAIL_EXAMPLE = {
    "id": "5f0c3d9e-2b7a-4c61-9d8e-1a2b3c4d5e6f",
    "status": "in_progress",
    "test": {
        "slug": "django-orm-mock-1",
        "title": "Django ORM mock test 1",
        "navigation": "free",
        "duration_seconds": 3600,
    },
    "attempt": 1,
    "started_at": "2026-11-22T10:00:00Z",
    "deadline_at": "2026-11-22T11:00:00Z",
    "submitted_at": None,
    "submit_reason": "",
    "server_time": "2026-11-22T10:15:04Z",
    "remaining_seconds": 2696,
    "question_count": 3,
    "answered_count": 1,
    "current_section": None,
    "sections": [
        {
            "id": 7,
            "title": "ORM basics",
            "duration_seconds": None,
            "state": "open",
            "deadline_at": None,
            "remaining_seconds": None,
            "timed": False,
        },
        {
            "id": 8,
            "title": "Query optimisation",
            "duration_seconds": None,
            "state": "open",
            "deadline_at": None,
            "remaining_seconds": None,
            "timed": False,
        },
    ],
    "palette": [
        {"question_id": 1042, "section": 7, "number": 1, "state": "answered"},
        {"question_id": 988, "section": 7, "number": 2, "state": "marked_for_review"},
        {"question_id": 1310, "section": 8, "number": 3, "state": "not_visited"},
    ],
}


def _state(row: tuple[Any, bool] | None) -> str:
    if row is None:
        return "not_visited"
    answer, marked = row
    if answer is None:
        return "marked_for_review" if marked else "not_answered"
    return "answered_marked_for_review" if marked else "answered"


def _skeleton(session: ExamSession) -> dict[str, Any]:
    """What the status and palette read of the paper — sections and question ids in
    order: the paper when it is loaded, else its answer layout (the same keys; a sitting
    started on a prepared paper leaves the paper unloaded)."""
    return session.layout if "paper" in session.get_deferred_fields() else session.paper


def _sections(
    session: ExamSession, now: datetime, skeleton: dict[str, Any]
) -> tuple[list[dict[str, Any]], timing.SectionClock | None]:
    """Each section's state for the palette, and the current section's clock (None when
    the test is not sectionally timed: every section is then ``open``)."""
    clock = None
    if session.status == ExamSession.Status.IN_PROGRESS:
        clock = timing.session_clock(session, now=now, paper=skeleton)
    timed = timing.is_sectional(skeleton)
    sections = []
    for index, section in enumerate(skeleton["sections"]):
        if session.status != ExamSession.Status.IN_PROGRESS:
            state = "locked"
        elif clock is None:
            state = "open"
        else:
            state = (
                "locked"
                if index < clock.index
                else "current"
                if index == clock.index
                else "upcoming"
            )
        deadline = clock.deadline_at if clock is not None and state == "current" else None
        sections.append(
            {
                "id": section["id"],
                "title": section["title"],
                "duration_seconds": section["duration_seconds"],
                "state": state,
                "deadline_at": deadline,
                "remaining_seconds": None if deadline is None else _remaining(deadline, now),
                "timed": timed,
            }
        )
    return sections, clock


def _remaining(deadline: datetime, now: datetime) -> int:
    return max(0, int((deadline - now).total_seconds()))


def fast_serialized(serializer_class, data: dict[str, Any], bulky: str) -> dict[str, Any]:
    """``serializer_class(data).data`` without running the serializer over ``data[bulky]``,
    a long list (100 questions or palette entries) already built of plain ints and strings
    exactly as the serializer would give it (tests hold the two equal): DRF's per-field
    walk over a 100-question paper cost more than the rest of the request."""
    payload = serializer_class({**data, bulky: []}).data
    payload[bulky] = data[bulky]
    return payload


def session_detail_payload(session: ExamSession, *, fresh: bool = False) -> dict[str, Any]:
    """``SessionDetailSerializer``'s payload for a session (its ``test`` selected): what
    starting, resuming or reading a sitting answers with, here and in other apps that
    start one (learning's practice). ``fresh``: created just now, so there are no saved
    answers to read."""
    return fast_serialized(
        SessionDetailSerializer, session_detail_data(session, fresh=fresh), "palette"
    )


def session_detail_data(session: ExamSession, *, fresh: bool = False) -> dict[str, Any]:
    saved = {} if fresh else saved_answers(session)
    now = timezone.now()
    skeleton = _skeleton(session)
    sections, clock = _sections(session, now, skeleton)
    current = None
    if clock is not None and not clock.finished(skeleton["sections"]):
        current = skeleton["sections"][clock.index]["id"]
    palette = [
        {
            "question_id": question["id"],
            "section": section["id"],
            "number": number,
            "state": _state(saved.get(question["id"])),
        }
        for section, question, number in paper_questions(skeleton)
    ]
    return {
        "id": session.id,
        "status": session.status,
        "test": session.test,
        "attempt": session.attempt,
        "started_at": session.started_at,
        "deadline_at": session.deadline_at,
        "submitted_at": session.submitted_at,
        "submit_reason": session.submit_reason,
        "server_time": now,
        "remaining_seconds": _remaining(session.deadline_at, now)
        if session.status == ExamSession.Status.IN_PROGRESS
        else 0,
        "question_count": session.question_count,
        "answered_count": sum(1 for answer, _ in saved.values() if answer is not None),
        "current_section": current,
        "sections": sections,
        "palette": palette,
    }
