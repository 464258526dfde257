"""Errors of programs, each with its stable code and HTTP status."""

from core.errors import ApplicationError, Conflict, NotFound


class ProgramNotFound(NotFound):
    detail = "You are not enrolled in this program."


class MilestoneNotFound(NotFound):
    detail = "No such milestone in your track."


class SubmissionNotFound(NotFound):
    detail = "No such submission."


class CertificateNotFound(NotFound):
    detail = "No certificate has this code."


class EnrollmentExpired(Conflict):
    code = "enrollment_expired"
    detail = "Your access to this program has ended; renew it to submit work."


class MilestoneLocked(Conflict):
    code = "milestone_locked"
    detail = "This milestone opens once the ones before it are done."


class MilestoneDone(Conflict):
    code = "milestone_done"
    detail = "This milestone is already done."


class NoReviewNeeded(Conflict):
    code = "no_review_needed"
    detail = "This milestone is completed by passing its tests; there is nothing to submit."


class AlreadySubmitted(Conflict):
    code = "already_submitted"
    detail = "Your last submission is waiting for review."


class AlreadyReviewed(Conflict):
    code = "already_reviewed"
    detail = "This submission has already been reviewed."


class AlreadyRevoked(Conflict):
    code = "already_revoked"
    detail = "This certificate is already revoked."


class ProgramInvalid(ApplicationError):
    code = "invalid"
    detail = "Please correct the errors below."
