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


class PublishedTestsBroken(RulesUnfillable):
    """A change to the bank (retiring or moving questions) that would leave published tests
    unable to build a paper; ``fields["tests"]`` names them."""

    code = "breaks_published_tests"
    detail = "This change would leave published tests unable to build a paper."


class TopicInUse(Conflict):
    code = "topic_in_use"
    detail = "This topic still has subtopics, questions or test rules; move them first."


class QuestionInUse(Conflict):
    code = "question_in_use"
    detail = "A test lists this question; remove it from the test first."


class QuestionNotDraft(QuestionInUse):
    """Published or retired questions may be in papers: they are retired, not deleted."""

    detail = "Only draft questions can be deleted; retire it instead."


class TestPublished(Conflict):
    __test__ = False
    code = "test_published"
    detail = "Unpublish the test before deleting it."


class TestInUse(Conflict):
    __test__ = False
    code = "test_in_use"
    detail = "A product grants this test; remove it from the product first."
