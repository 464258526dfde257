"""Errors of the test engine, each with its stable code and HTTP status."""

from http import HTTPStatus

from core.errors import ApplicationError, Conflict


class QuestionInvalid(ApplicationError):
    code = "invalid"
    detail = "The question is not valid."


class TestInvalid(ApplicationError):
    code = "invalid"
    detail = "The test is not valid."


class RulesUnfillable(Conflict):
    code = "rules_unfillable"
    detail = "The bank cannot fill every rule of this test."


class PaperUnavailable(Conflict):
    code = "paper_unavailable"
    detail = "A paper cannot be generated for this test."


class ImportRejected(ApplicationError):
    status = HTTPStatus.BAD_REQUEST
    code = "import_rejected"
    detail = "The file has errors; nothing was imported."


class PracticeNotPublishable(Conflict):
    code = "practice_test"
    detail = "A learner's practice test is never published."
