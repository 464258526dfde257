"""Every write of programs: recording progress, project submissions and their review,
issuing and revoking certificates.

Progress is recorded by ``progress_refresh`` — called when a sitting of one of the track's
tests is scored (a task, see ``receivers``), when the enrollment changes, and when staff
accept a submission. It walks the track in order and records every milestone that is
unlocked and satisfied; when every required milestone is done it issues the certificate.
It is idempotent and serialised per learner, so running it twice at once records each
completion and issues the certificate once.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from catalogue.models import Enrollment
from core.locks import lock_user
from core.markdown import render_markdown
from programs import selectors
from programs.errors import (
    AlreadyReviewed,
    AlreadyRevoked,
    AlreadySubmitted,
    CertificateNotFound,
    EnrollmentExpired,
    MilestoneDone,
    MilestoneLocked,
    MilestoneNotFound,
    NoReviewNeeded,
    ProgramInvalid,
    ProgramNotFound,
    SubmissionNotFound,
)

if TYPE_CHECKING:
    from accounts.models import User

from programs.models import (
    Certificate,
    Milestone,
    MilestoneCompletion,
    ProjectSubmission,
    Track,
)

# --- progress ------------------------------------------------------------------------------------


@transaction.atomic
def progress_refresh(*, enrollment: Enrollment, now: datetime | None = None) -> selectors.Progress:
    """Record what the learner has newly done in the enrollment's track (in order, when the
    program unlocks in order) and issue the certificate once everything required is done."""
    now = now or timezone.now()
    lock_user(enrollment.user_id)
    state = selectors.progress(enrollment=enrollment, now=now)
    new = []
    blocked = False
    in_order = state.track.program.unlock_in_order
    for milestone in state.milestones:
        if milestone.completed_at is None and not (in_order and blocked) and milestone.satisfied:
            milestone.completed_at = now
            new.append(
                MilestoneCompletion(
                    user_id=enrollment.user_id, milestone=milestone.milestone, completed_at=now
                )
            )
        if milestone.milestone.is_required and milestone.completed_at is None:
            blocked = True
    if new:
        MilestoneCompletion.objects.bulk_create(new, ignore_conflicts=True)
        state = selectors.progress(enrollment=enrollment, now=now)
    if state.complete and state.certificate is None:
        state.certificate = certificate_issue(enrollment=enrollment, track=state.track, at=now)
    return state


def progress_refresh_for_test(*, user_id: int, test_id: int) -> int:
    """After a sitting of ``test_id`` is scored: refresh every program enrollment of the
    learner whose track has a milestone with that test. Returns how many were refreshed."""
    enrollments = list(
        selectors.program_enrollments(user=user_id)
        .filter(plan__track__entries__milestone__links__test_id=test_id)
        .distinct()
    )
    for enrollment in enrollments:
        progress_refresh(enrollment=enrollment)
    return len(enrollments)


def progress_refresh_for_tests(*, sittings: list[tuple[int, int]]) -> int:
    """:func:`progress_refresh_for_test` for each distinct ``(user_id, test_id)`` of a batch
    of scored sittings (the expiry sweep's). Returns how many enrollments were refreshed."""
    return sum(
        progress_refresh_for_test(user_id=user_id, test_id=test_id)
        for user_id, test_id in sorted(set(sittings))
    )


def progress_refresh_for_enrollment(*, enrollment_id: uuid.UUID | str) -> bool:
    """After an enrollment was created or changed plan (a new track may cover milestones
    whose tests were passed before)."""
    enrollment = (
        Enrollment.objects.filter(
            pk=enrollment_id, revoked_at__isnull=True, plan__track__isnull=False
        )
        .select_related("product__program", "plan__track")
        .first()
    )
    if enrollment is None:
        return False
    progress_refresh(enrollment=enrollment)
    return True


# --- project work --------------------------------------------------------------------------------


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 500:
        raise ProgramInvalid(
            fields={"url": ["Enter a full http(s) link, e.g. https://github.com/you/project."]}
        )
    return url


@transaction.atomic
def submission_create(
    *, user: User, product_slug: str, milestone_id: int, url: str, note: str = ""
) -> ProjectSubmission:
    """Submit a link to project work for review. Refused for a milestone not in the
    learner's track (404), one that needs no sign-off, is locked, already done or already
    waiting for review (409), or when the enrollment has lapsed (409)."""
    url = _checked_url(url)
    lock_user(user.pk)
    enrollment = selectors.enrollment_for(user=user, product_slug=product_slug)
    if enrollment is None:
        raise ProgramNotFound()
    state = selectors.progress(enrollment=enrollment)
    milestone = next((m for m in state.milestones if m.milestone.pk == milestone_id), None)
    if milestone is None:
        raise MilestoneNotFound()
    if enrollment.expires_at is not None and enrollment.expires_at <= state.now:
        raise EnrollmentExpired()
    if not milestone.milestone.requires_review:
        raise NoReviewNeeded()
    if milestone.state == "done":
        raise MilestoneDone()
    if milestone.state == "locked":
        raise MilestoneLocked()
    if milestone.state == "submitted":
        raise AlreadySubmitted()
    return ProjectSubmission.objects.create(
        user=user, milestone=milestone.milestone, url=url, note=note.strip()
    )


@transaction.atomic
def submission_review(
    *, submission_id: int, accept: bool, comment: str = "", by: User
) -> ProjectSubmission:
    """Staff accept a submission or ask for changes (a comment says what), once. Accepting
    records the milestone (and the certificate, when it was the last one) at once."""
    submission = (
        ProjectSubmission.objects.select_for_update()
        .select_related("milestone__phase")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        raise SubmissionNotFound()
    if submission.status != ProjectSubmission.Status.SUBMITTED:
        raise AlreadyReviewed()
    comment = comment.strip()
    if not accept and not comment:
        raise ProgramInvalid(fields={"comment": ["Say what needs to change."]})
    submission.status = (
        ProjectSubmission.Status.ACCEPTED if accept else ProjectSubmission.Status.CHANGES_REQUESTED
    )
    submission.reviewed_by = by
    submission.reviewed_at = timezone.now()
    submission.review_comment = comment
    submission.save(
        update_fields=["status", "reviewed_by", "reviewed_at", "review_comment", "updated_at"]
    )
    if accept:
        program_id = submission.milestone.phase.program_id
        for enrollment in selectors.program_enrollments(user=submission.user_id).filter(
            product__program__id=program_id
        ):
            progress_refresh(enrollment=enrollment)
    return submission


# --- certificates --------------------------------------------------------------------------------


def new_code() -> str:
    """80 random bits as 16 Crockford base-32 characters, printed in groups of four."""
    raw = "".join(secrets.choice(selectors.CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


@transaction.atomic
def certificate_issue(
    *, enrollment: Enrollment, track: Track, at: datetime, code: str | None = None
) -> Certificate:
    """The learner's certificate for the track, issued once (a second call returns it).
    ``code`` is for the demo only; real certificates get a random one."""
    existing = Certificate.objects.filter(user_id=enrollment.user_id, track=track).first()
    if existing is not None:
        return existing
    user = enrollment.user
    code = code or new_code()
    program = track.program
    return Certificate.objects.create(
        code=code,
        code_digest=selectors.code_digest(code),
        user=user,
        track=track,
        learner_name=user.full_name or user.email or user.phone or "",
        program_title=program.certificate_title or program.product.title,
        track_name=track.plan.name,
        completed_at=at,
    )


@transaction.atomic
def certificate_revoke(*, certificate_id: int, reason: str, by: User) -> Certificate:
    """Revoke with a reason (verification then says revoked, and why); once."""
    certificate = Certificate.objects.select_for_update().filter(pk=certificate_id).first()
    if certificate is None:
        raise CertificateNotFound()
    if certificate.revoked_at is not None:
        raise AlreadyRevoked()
    reason = reason.strip()
    if not reason:
        raise ProgramInvalid(fields={"reason": ["Give the reason (it is shown on verification)."]})
    certificate.revoked_at = timezone.now()
    certificate.revoke_reason = reason[:300]
    certificate.revoked_by = by
    certificate.save(update_fields=["revoked_at", "revoke_reason", "revoked_by", "updated_at"])
    return certificate


def milestone_save(*, milestone: Milestone) -> Milestone:
    """Save a milestone with its description rendered from Markdown (sanitised)."""
    milestone.description_html = render_markdown(milestone.description_md)
    milestone.save()
    return milestone
