"""The rules of sitting a test, each written once: may this learner sit this test (access),
may they start or resume it now (the start rule, and the list's ``?status=`` built on it),
may they still use a sitting (the sitting rule), which questions of the paper they may see
(the paper rule), and may they see a sitting's solutions (the solution rule). Starting,
the learner's test list and detail, the paper, autosave, submit, the result, the review,
the leaderboard and practice all ask these functions; none re-states them.

The rules are pure functions of facts: a learner's standing with a test
(:class:`SittingFacts`, gathered by ``sessions_app.selectors.learner_tests`` for the list
and the detail, and by the start under its lock), a sitting's row, its paper. Where a read
must run in the database, ``sessions_app.policy_sql`` holds the rule as SQL: the access
rule itself (a queryset, compiled once into the start's prepared statement) and the
list's status filter, each tested equal to the rule here. A learner's personal practice
test is its owner's alone.

Access withdrawn — a full refund or a staff revoke — closes the learner's open sittings of
every test they can no longer sit (abandoned, answers kept for staff) and takes their
submitted sittings of those tests out of the rankings (``ExamSession.access_ended_at``).
A plan that simply runs out is not withdrawn: a sitting started under live access runs to
its deadline, and ranks already earned stay; the result and review of a closed sitting
need live access again. The reasons are in docs/sessions.md ("Access").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from django.conf import settings

from core.errors import ApplicationError
from sessions_app.errors import (
    AccessEnded,
    AttemptsExhausted,
    AttemptTooSoon,
    TestClosed,
    TestNotOpen,
)
from sessions_app.models import ExamSession
from sessions_app.policy_sql import has_access, learner
from sessions_app.timing import SectionClock
from testengine.models import Test


def grace() -> timedelta:
    """Saves this long after the deadline still count (network latency): until then an
    open sitting resumes, saves and submits on time."""
    return timedelta(seconds=settings.SESSION_SAVE_GRACE_SECONDS)


# --- access ----------------------------------------------------------------------------------


def may_sit(user: Any, test: Test, *, now: datetime | None = None) -> bool:
    """The access rule: a practice test is its owner's; any other test follows
    ``policy_sql.accessible_tests`` (a live enrollment of a product that contains it, or
    a free product)."""
    if test.practice_owner_id is not None:
        return user is not None and test.practice_owner_id == user.pk
    return has_access(user, test, now=now)


class Sitting(Protocol):
    """What the sitting rule reads: an ``ExamSession`` or autosave's locked row."""

    @property
    def status(self) -> str: ...
    @property
    def access_ended_at(self) -> datetime | None: ...
    @property
    def user_id(self) -> int: ...
    @property
    def test(self) -> Test: ...


def require_sitting_access(session: Sitting, *, test: Test | None = None) -> None:
    """The sitting rule, asked by the paper, autosave, submit, result and review: 403
    ``no_access`` when the sitting's access was withdrawn (refund or revoke), and, for a
    sitting that is over, when the learner may no longer sit its test. An open sitting
    needs no query here: it was started under live access, and a withdrawal closes it.

    ``session`` is an :class:`ExamSession` or anything with its ``status``,
    ``access_ended_at`` and ``user_id`` (autosave's locked row)."""
    if session.access_ended_at is not None:
        raise AccessEnded()
    if session.status == ExamSession.Status.IN_PROGRESS:
        return
    test = test or session.test
    if not may_sit(learner(session.user_id), test):
        raise AccessEnded()


# --- the solution rule -----------------------------------------------------------------------


def solutions_open(test: Test, *, now: datetime) -> bool:
    """Does the test's solution policy show solutions now to a learner who has submitted
    a sitting of it? ``after_submit``: yes; ``after_window``: once the availability
    window has closed; ``never``: no. A personal practice test is ``after_submit``."""
    if test.solution_policy == Test.SolutionPolicy.NEVER:
        return False
    if test.solution_policy == Test.SolutionPolicy.AFTER_WINDOW:
        return test.available_until is None or now >= test.available_until
    return True


def solutions_visible(session: ExamSession, *, now: datetime, test: Test | None = None) -> bool:
    """The solution rule, asked by every payload that could encode correctness: may this
    sitting's per-question outcomes, marks, answer key and explanations be shown? Only
    for a submitted sitting, and only once its test's policy opens. Until then a result
    carries totals (score, counts, per-section and per-topic tallies) and nothing per
    question; the review is refused."""
    if session.status != ExamSession.Status.SUBMITTED:
        return False
    return solutions_open(test or session.test, now=now)


# --- the start rule --------------------------------------------------------------------------


@dataclass(frozen=True)
class SittingFacts:
    """What the start rule reads of a learner's standing with a test: their sittings of it
    (any status), extra attempts granted, when the latest attempt ended (submitted, else
    its deadline), the open sitting that would resume (None once its time is up) and
    whether any attempt was submitted."""

    attempts_used: int = 0
    extra_attempts: int = 0
    last_ended_at: datetime | None = None
    open_session: UUID | None = None
    has_submitted: bool = False


@dataclass(frozen=True)
class Refusal:
    error: type[ApplicationError]
    next_attempt_at: datetime | None = None

    @property
    def code(self) -> str:
        return self.error.code


def start_refusal(test: Test, facts: SittingFacts, *, now: datetime) -> Refusal | None:
    """Why the learner may not start (or resume) ``test`` now, in the order starting
    checks: the availability window, then — unless an open sitting resumes — attempts
    left (the test's plus any granted to the learner) and the minimum gap since the last
    attempt ended. None: they may."""
    if test.available_from and now < test.available_from:
        return Refusal(TestNotOpen)
    if test.available_until and now >= test.available_until:
        return Refusal(TestClosed)
    if facts.open_session is not None:
        return None
    if attempts_left(test, facts) == 0:
        return Refusal(AttemptsExhausted)
    if facts.last_ended_at is not None and test.min_gap_seconds:
        opens = facts.last_ended_at + timedelta(seconds=test.min_gap_seconds)
        if now < opens:
            return Refusal(AttemptTooSoon, opens)
    return None


def attempts_left(test: Test, facts: SittingFacts) -> int | None:
    """Attempts the learner has left (None: unlimited)."""
    if test.max_attempts is None:
        return None
    return max(0, test.max_attempts + facts.extra_attempts - facts.attempts_used)


@dataclass(frozen=True)
class SittingState:
    """The start rule as the learner's test list and detail show it: may they start (or
    resume) now and, if not, the code starting would refuse with."""

    attempts_used: int
    attempts_left: int | None
    open_session: UUID | None
    can_start: bool
    reason: str | None
    next_attempt_at: datetime | None


def sitting_state(test: Test, facts: SittingFacts, *, now: datetime) -> SittingState:
    refusal = start_refusal(test, facts, now=now)
    return SittingState(
        attempts_used=facts.attempts_used,
        attempts_left=attempts_left(test, facts),
        open_session=facts.open_session,
        can_start=refusal is None,
        reason=refusal.code if refusal else None,
        next_attempt_at=refusal.next_attempt_at if refusal else None,
    )


LISTING_STATUSES = ("open", "available", "completed")


def in_status(status: str, test: Test, facts: SittingFacts, *, now: datetime) -> bool:
    """The learner's test list's ``?status=``: ``open``, a sitting to resume;
    ``completed``, at least one submitted attempt; ``available``, starting would succeed
    now (``can_start``). Run in the database as ``policy_sql.status_filter``."""
    if status == "open":
        return facts.open_session is not None
    if status == "completed":
        return facts.has_submitted
    if status == "available":
        return start_refusal(test, facts, now=now) is None
    raise ValueError(f"no such status: {status!r}")


def raise_refusal(refusal: Refusal, test: Test, *, now: datetime) -> None:
    """Raise the error a refusal names, with its message (and ``Retry-After``)."""
    if refusal.error is TestNotOpen:
        raise TestNotOpen(f"This test opens at {test.available_from.isoformat()}.")  # type: ignore[union-attr]
    if refusal.error is AttemptTooSoon:
        wait = int((refusal.next_attempt_at - now).total_seconds()) + 1  # type: ignore[operator]
        raise AttemptTooSoon(
            f"The next attempt opens at {refusal.next_attempt_at.isoformat()}.",  # type: ignore[union-attr]
            headers={"Retry-After": str(wait)},
        )
    raise refusal.error()


# --- the paper rule --------------------------------------------------------------------------


@dataclass(frozen=True)
class VisibleQuestion:
    section_id: int
    question: dict[str, Any]  # the frozen paper's question (key included: never send it as is)
    number: int  # 1-based, in paper order
    answer: Any
    marked_for_review: bool


def visible_questions(
    paper: dict[str, Any],
    saved: dict[int, tuple[Any, bool]],
    *,
    mode: str,
    navigation: str,
    clock: SectionClock | None,
) -> Iterator[VisibleQuestion]:
    """The questions of an open sitting's paper the learner may see now, with their saved
    answer and mark. A sectionally timed paper shows its current section only (none once
    every section is over); a sequential paper stops at (and includes) the first question
    without a saved answer; an adaptive sitting shows its current item only."""
    adaptive_test = mode == Test.Mode.ADAPTIVE
    sequential = adaptive_test or navigation == Test.Navigation.SEQUENTIAL
    only = None
    if clock is not None:
        sections = paper["sections"]
        only = sections[clock.index]["id"] if not clock.finished(sections) else -1
    for section, question, number in paper_questions(paper):
        if only is not None and section["id"] != only:
            continue
        answer, marked = saved.get(question["id"], (None, False))
        if adaptive_test and answer is not None:
            continue  # an adaptive sitting shows the current item only
        yield VisibleQuestion(section["id"], question, number, answer, marked)
        if sequential and answer is None:
            return


def paper_questions(paper: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any], int]]:
    """(section json, question json, 1-based number) in paper order."""
    number = 0
    for section in paper["sections"]:
        for question in section["questions"]:
            number += 1
            yield section, question, number
