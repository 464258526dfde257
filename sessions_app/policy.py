"""The rules of sitting a test, each written once: may this learner sit this test (access),
may they start or resume it now (the start rule), may they still use a sitting (the
sitting rule), and may they see a sitting's solutions (the solution rule). Starting, the
learner's test list, the paper, autosave, submit, the result, the review and practice all
ask these functions; none re-states them.

Access itself is the catalogue's rule (``catalogue.selectors.accessible_tests``); a
learner's personal practice test is its owner's alone.

Access withdrawn — a full refund or a staff revoke — closes the learner's open sittings of
every test they can no longer sit (abandoned, answers kept for staff) and takes their
submitted sittings of those tests out of the rankings (``ExamSession.access_ended_at``).
A plan that simply runs out is not withdrawn: a sitting started under live access runs to
its deadline, and ranks already earned stay; the result and review of a closed sitting
need live access again. The reasons are in docs/sessions.md ("Access").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from catalogue.selectors import Learner, has_access
from core.errors import ApplicationError
from sessions_app.errors import (
    AttemptsExhausted,
    AttemptTooSoon,
    NoAccess,
    TestClosed,
    TestNotOpen,
)
from sessions_app.models import ExamSession
from testengine.models import Test

# --- access ----------------------------------------------------------------------------------


def may_sit(user: Learner | None, test: Test, *, now: datetime | None = None) -> bool:
    """The access rule: a practice test is its owner's; any other test follows the
    catalogue (a live enrollment of a product that contains it, or a free product)."""
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
        raise NoAccess("Your access to this test has ended.")
    if session.status == ExamSession.Status.IN_PROGRESS:
        return
    test = test or session.test
    if not may_sit(learner(session.user_id), test):
        raise NoAccess("Your access to this test has ended.")


@dataclass(frozen=True)
class _Learner:
    pk: int
    is_authenticated: bool = True


def learner(user_id: int) -> _Learner:
    """A learner by id, as the access rule needs one (no query for the user row)."""
    return _Learner(user_id)


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
class Refusal:
    error: type[ApplicationError]
    next_attempt_at: datetime | None = None

    @property
    def code(self) -> str:
        return self.error.code


def start_refusal(
    test: Test,
    *,
    attempts_used: int,
    extra_attempts: int,
    last_ended_at: datetime | None,
    resumable: bool,
    now: datetime,
) -> Refusal | None:
    """Why the learner may not start (or resume) ``test`` now, in the order starting
    checks: the availability window, then — unless an open sitting resumes — attempts
    left (the test's plus any granted to the learner) and the minimum gap since the last
    attempt ended. None: they may."""
    if test.available_from and now < test.available_from:
        return Refusal(TestNotOpen)
    if test.available_until and now >= test.available_until:
        return Refusal(TestClosed)
    if resumable:
        return None
    left = attempts_left(test, attempts_used=attempts_used, extra_attempts=extra_attempts)
    if left == 0:
        return Refusal(AttemptsExhausted)
    if last_ended_at is not None and test.min_gap_seconds:
        opens = last_ended_at + timedelta(seconds=test.min_gap_seconds)
        if now < opens:
            return Refusal(AttemptTooSoon, opens)
    return None


def attempts_left(test: Test, *, attempts_used: int, extra_attempts: int) -> int | None:
    """Attempts the learner has left (None: unlimited)."""
    if test.max_attempts is None:
        return None
    return max(0, test.max_attempts + extra_attempts - attempts_used)


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
