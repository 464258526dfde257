"""Reading programs: a learner's track, its milestones in order and their states.

A milestone is *done* once recorded (``MilestoneCompletion``: written by
``services.progress_refresh`` when its tests are passed and its sign-off accepted). The
others are *locked* (the program unlocks in order and an earlier required milestone is not
done), *submitted* (project work waiting for review) or *open*.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db.models import Count, Max, Prefetch, QuerySet
from django.utils import timezone

from catalogue.models import Enrollment
from programs.models import (
    Certificate,
    Milestone,
    MilestoneCompletion,
    MilestoneTest,
    ProjectSubmission,
    Track,
    TrackMilestone,
)
from sessions_app.models import ExamSession

if TYPE_CHECKING:
    from accounts.models import User
    from programs.models import Program

STATES = ("locked", "open", "submitted", "done")
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U


@dataclass(frozen=True)
class TestStatus:
    test_id: int
    slug: str
    title: str
    pass_mark_percent: Decimal | None
    best_percentage: Decimal | None  # None: never scored
    passed: bool


@dataclass
class MilestoneState:
    milestone: Milestone
    number: int  # 1-based position in the track
    target_week: int
    due_at: datetime
    tests: list[TestStatus]
    submission: ProjectSubmission | None  # the latest one
    completed_at: datetime | None
    state: str = "open"

    @property
    def satisfied(self) -> bool:
        """Its tests are passed and its sign-off (if any) accepted."""
        reviewed = not self.milestone.requires_review or (
            self.submission is not None
            and self.submission.status == ProjectSubmission.Status.ACCEPTED
        )
        return reviewed and all(test.passed for test in self.tests)


@dataclass
class Progress:
    enrollment: Enrollment
    track: Track
    milestones: list[MilestoneState]
    certificate: Certificate | None = None
    now: datetime = field(default_factory=timezone.now)

    @property
    def required(self) -> list[MilestoneState]:
        return [m for m in self.milestones if m.milestone.is_required]

    @property
    def percent(self) -> int:
        required = self.required
        if not required:
            return 100
        return int(100 * sum(m.state == "done" for m in required) / len(required))

    @property
    def complete(self) -> bool:
        return all(m.state == "done" for m in self.required)

    @property
    def next(self) -> MilestoneState | None:
        """The first milestone not done that the learner can act on (or wait for)."""
        return next((m for m in self.milestones if m.state in ("open", "submitted")), None)


def published_program(
    slug: str,
) -> tuple[Program | None, list[tuple[Track, list[TrackMilestone]]]]:
    """A published program product's curriculum: every track with its milestones in order
    (four queries)."""
    from programs.models import Program

    program = (
        Program.objects.filter(product__slug=slug, product__is_published=True)
        .select_related("product")
        .first()
    )
    if program is None:
        return None, []
    tracks = list(program.tracks.select_related("plan").filter(plan__is_active=True))
    entries = (
        TrackMilestone.objects.filter(track__in=tracks)
        .select_related("milestone__phase")
        .prefetch_related(
            Prefetch(
                "milestone__links",
                queryset=MilestoneTest.objects.select_related("test").order_by("order", "id"),
            )
        )
        .order_by(
            "milestone__phase__order", "milestone__phase_id", "milestone__order", "milestone_id"
        )
    )
    by_track: dict[int, list[TrackMilestone]] = {track.pk: [] for track in tracks}
    for entry in entries:
        by_track[entry.track_id].append(entry)
    return program, [(track, by_track[track.pk]) for track in tracks]


def program_enrollments(*, user: User | int) -> QuerySet[Enrollment]:
    """The learner's enrollments (not revoked, live or lapsed) in program products whose
    plan has a track, newest first."""
    return (
        Enrollment.objects.filter(
            user=user,
            revoked_at__isnull=True,
            product__program__isnull=False,
            plan__track__isnull=False,
        )
        .select_related("product__program", "plan__track")
        .order_by("-starts_at")
    )


def enrollment_for(*, user: User | int, product_slug: str) -> Enrollment | None:
    return program_enrollments(user=user).filter(product__slug=product_slug).first()


def track_entries(track: Track) -> list[TrackMilestone]:
    """The track's milestones in curriculum order (phase, then milestone), with their tests."""
    return list(
        TrackMilestone.objects.filter(track=track)
        .select_related("milestone__phase")
        .prefetch_related(
            Prefetch(
                "milestone__links",
                queryset=MilestoneTest.objects.select_related("test").order_by("order", "id"),
            )
        )
        .order_by(
            "milestone__phase__order",
            "milestone__phase_id",
            "milestone__order",
            "milestone_id",
        )
    )


def best_results(*, user: User | int, test_ids: set[int]) -> dict[int, tuple[Decimal | None, int]]:
    """Per test: the learner's best scored percentage and how many sittings were scored."""
    rows = (
        ExamSession.objects.filter(
            user=user, test_id__in=test_ids, status=ExamSession.Status.SUBMITTED
        )
        .values("test_id")
        .annotate(best=Max("percentage"), scored=Count("id"))
    )
    return {row["test_id"]: (row["best"], row["scored"]) for row in rows}


def _test_status(link: MilestoneTest, results: dict[int, tuple[Decimal | None, int]]) -> TestStatus:
    test = link.test
    best, scored = results.get(test.pk, (None, 0))
    if test.pass_mark_percent is None:
        passed = scored > 0
    else:
        passed = best is not None and best >= test.pass_mark_percent
    return TestStatus(
        test_id=test.pk,
        slug=test.slug,
        title=test.title,
        pass_mark_percent=test.pass_mark_percent,
        best_percentage=best,
        passed=passed,
    )


def progress(*, enrollment: Enrollment, now: datetime | None = None) -> Progress:
    """Every milestone of the enrollment's track with its state; six queries."""
    now = now or timezone.now()
    user, track = enrollment.user_id, enrollment.plan.track  # type: ignore[union-attr]
    entries = track_entries(track)
    milestone_ids = [entry.milestone_id for entry in entries]
    test_ids = {link.test_id for entry in entries for link in entry.milestone.links.all()}
    results = best_results(user=user, test_ids=test_ids) if test_ids else {}
    completed = dict(
        MilestoneCompletion.objects.filter(user=user, milestone_id__in=milestone_ids).values_list(
            "milestone_id", "completed_at"
        )
    )
    latest: dict[int, ProjectSubmission] = {}
    for submission in ProjectSubmission.objects.filter(
        user=user, milestone_id__in=milestone_ids
    ).order_by("milestone_id", "-created_at"):
        latest.setdefault(submission.milestone_id, submission)
    states = []
    for number, entry in enumerate(entries, start=1):
        week = entry.target_week or entry.milestone.target_week
        states.append(
            MilestoneState(
                milestone=entry.milestone,
                number=number,
                target_week=week,
                due_at=enrollment.starts_at + timedelta(weeks=week),
                tests=[_test_status(link, results) for link in entry.milestone.links.all()],
                submission=latest.get(entry.milestone_id),
                completed_at=completed.get(entry.milestone_id),
            )
        )
    _assign_states(states, in_order=track.program.unlock_in_order)
    certificate = Certificate.objects.filter(user_id=user, track=track).first()
    return Progress(
        enrollment=enrollment, track=track, milestones=states, certificate=certificate, now=now
    )


def _assign_states(states: list[MilestoneState], *, in_order: bool) -> None:
    blocked = False  # an earlier required milestone is not done
    for state in states:
        if state.completed_at is not None:
            state.state = "done"
        elif in_order and blocked:
            state.state = "locked"
        elif state.submission and state.submission.status == ProjectSubmission.Status.SUBMITTED:
            state.state = "submitted"
        else:
            state.state = "open"
        if state.milestone.is_required and state.state != "done":
            blocked = True


# --- certificates ------------------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """A code as printed (``7KQ2-M9XD-3HPA-W0RT``) or as typed (lower case, spaces, O for
    0, I or L for 1) → its 16 canonical characters; "" when it cannot be a code."""
    raw = "".join(code.split()).replace("-", "").upper()
    raw = raw.translate(str.maketrans("OIL", "011"))
    if len(raw) != 16 or any(ch not in CODE_ALPHABET for ch in raw):
        return ""
    return raw


def code_digest(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def certificate_by_code(code: str) -> Certificate | None:
    """The certificate a code names. Looked up by the code's SHA-256, so how long a miss
    takes says nothing about how close a guess was; malformed codes do the same work."""
    digest = code_digest(code) if normalise_code(code) else hashlib.sha256(b"-").hexdigest()
    return Certificate.objects.select_related("track__plan").filter(code_digest=digest).first()
