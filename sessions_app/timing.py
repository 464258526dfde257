"""Sectional time limits. A test whose sections have their own ``duration_seconds`` is sat
one section at a time, in paper order: each timed section has its own deadline, and a
section whose time is up (or that the learner left with "next section") is locked. A
section without its own limit lasts until the learner moves on or the test's deadline.

Only two facts are stored on the session (``section_index``, ``section_started_at``: where
the learner last moved on by hand); the current section is computed from them and the clock,
so time moving a learner on needs no write and no sweep. ``deadline_at`` stays the one
deadline of the whole sitting that the expiry rules and the sweep use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sessions_app.models import ExamSession


@dataclass(frozen=True)
class SectionClock:
    index: int  # the current section; == number of sections once every section is over
    started_at: datetime
    deadline_at: datetime  # the current section's deadline (never after the sitting's)

    def finished(self, sections: list[dict[str, Any]]) -> bool:
        return self.index >= len(sections)


def is_sectional(paper: dict[str, Any]) -> bool:
    return any(section.get("duration_seconds") for section in paper["sections"])


def scaled(duration: int, *, test_duration: int, extra_seconds: int) -> timedelta:
    """A section's time, stretched by the learner's extra time in proportion (25 % extra
    time on the test is 25 % extra on every timed section)."""
    if not extra_seconds or not test_duration:
        return timedelta(seconds=duration)
    return timedelta(seconds=duration * (test_duration + extra_seconds) / test_duration)


def sectional_deadline(
    paper: dict[str, Any],
    *,
    start: datetime,
    deadline: datetime,
    test_duration: int,
    extra_seconds: int,
    from_index: int = 0,
) -> datetime:
    """The sitting's deadline once sections ``from_index``… start at ``start``: when every
    remaining section is timed, their sum (never later than ``deadline``)."""
    remaining = paper["sections"][from_index:]
    if not remaining or any(not s.get("duration_seconds") for s in remaining):
        return deadline
    total = sum(
        (
            scaled(s["duration_seconds"], test_duration=test_duration, extra_seconds=extra_seconds)
            for s in remaining
        ),
        timedelta(),
    )
    return min(deadline, start + total)


def section_clock(
    paper: dict[str, Any],
    *,
    started_at: datetime,
    deadline_at: datetime,
    section_index: int,
    section_started_at: datetime | None,
    test_duration: int,
    extra_seconds: int,
    now: datetime,
) -> SectionClock | None:
    """Where the learner is at ``now`` (None: the test is not sectionally timed)."""
    if not is_sectional(paper):
        return None
    sections = paper["sections"]
    index, start = section_index, section_started_at or started_at
    while index < len(sections):
        duration = sections[index].get("duration_seconds")
        end = deadline_at
        if duration:
            end = min(
                deadline_at,
                start + scaled(duration, test_duration=test_duration, extra_seconds=extra_seconds),
            )
        if now < end:
            return SectionClock(index, start, end)
        index, start = index + 1, end
    return SectionClock(len(sections), start, deadline_at)


def session_clock(
    session: ExamSession, *, now: datetime, paper: dict[str, Any] | None = None
) -> SectionClock | None:
    """``section_clock`` for an ``ExamSession`` (its ``test`` must carry
    ``duration_seconds``). ``paper``: what to read the sections from, when not the
    session's paper (its answer layout has the same sections)."""
    return section_clock(
        session.paper if paper is None else paper,
        started_at=session.started_at,
        deadline_at=session.deadline_at,
        section_index=session.section_index,
        section_started_at=session.section_started_at,
        test_duration=session.test.duration_seconds,
        extra_seconds=session.extra_seconds,
        now=now,
    )


def section_position(paper: dict[str, Any], question_id: int) -> int | None:
    for index, section in enumerate(paper["sections"]):
        if any(question["id"] == question_id for question in section["questions"]):
            return index
    return None
