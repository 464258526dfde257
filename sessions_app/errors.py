"""Errors of exam sessions, each with its stable code and HTTP status."""

from http import HTTPStatus

from core.errors import ApplicationError, Conflict, Forbidden, Gone, NotFound


class SessionNotFound(NotFound):
    detail = "No such session."


class TestNotFound(NotFound):
    __test__ = False
    detail = "No such test."


class NoAccess(Forbidden):
    code = "no_access"
    detail = "You do not have access to this test. Enroll in a product that contains it."


class TestNotOpen(Conflict):
    __test__ = False
    code = "test_not_open"
    detail = "This test is not open yet."


class TestClosed(Gone):
    __test__ = False
    code = "test_closed"
    detail = "This test has closed."


class AttemptsExhausted(Conflict):
    code = "attempts_exhausted"
    detail = "You have used every attempt this test allows."


class AttemptTooSoon(Conflict):
    code = "attempt_too_soon"
    detail = "The next attempt opens later."


class SessionClosed(Conflict):
    code = "session_closed"
    detail = "This session has been submitted; answers can no longer change."


class SessionExpired(Gone):
    code = "session_expired"
    detail = "Time is up: the session has been submitted with the answers saved until then."


class AnswerRejected(ApplicationError):
    status = HTTPStatus.BAD_REQUEST
    code = "invalid"
    detail = "The answer does not fit the question."


class SectionLocked(Conflict):
    code = "section_locked"
    detail = "This section is over; its answers can no longer change."


class SectionNotOpen(Conflict):
    code = "section_not_open"
    detail = "This section has not started yet: finish the current section first."


class LastSection(Conflict):
    code = "last_section"
    detail = "This is the last section: submit the test to finish."


class NotSectional(Conflict):
    code = "not_sectional"
    detail = "This test has no sectional time limits; move between questions freely."


class AccessEnded(NoAccess):
    """Access withdrawn (a refund or a revoke) after the sitting started
    (``policy.require_sitting_access``)."""

    detail = "Your access to this test has ended."


class NotCurrentQuestion(AnswerRejected):
    """A sequential or adaptive test answers only its current question; the detail says why
    this one is not (an earlier, a later, a committed adaptive item)."""

    code = "not_current_question"
    detail = "Only the current question can be answered."
