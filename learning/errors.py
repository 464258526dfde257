"""Errors of the learning app, each with its stable code and HTTP status."""

from core.errors import ApplicationError, Conflict


class PracticeInvalid(ApplicationError):
    code = "invalid"
    detail = "Some fields are not valid."


class NoWeakTopics(Conflict):
    code = "no_mastery_yet"
    detail = "We do not know your weak topics yet: sit a test first, or name the topics."


class NotEnoughQuestions(Conflict):
    code = "not_enough_questions"
    detail = "The question bank does not have enough questions for this practice."
