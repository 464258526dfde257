"""Programs: the curriculum of a program product (phases of milestones; per plan a track
that picks its milestones), each learner's progress, project sign-off and certificates.

Progress belongs to the learner, not to one enrollment: a milestone done stays done when
the learner moves from the 1-month track to the 3-month one (the enrollment's plan changes,
the completions stay). Due dates count from the enrollment's start.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.models import TimeStampedModel


class Program(TimeStampedModel):
    """The curriculum of one program product."""

    product = models.OneToOneField(
        "catalogue.Product",
        on_delete=models.CASCADE,
        related_name="program",
        limit_choices_to={"kind": "program"},
    )
    unlock_in_order = models.BooleanField(
        default=True,
        help_text="Each milestone of a track opens once the one before it is done; "
        "otherwise every milestone is open from the start.",
    )
    certificate_title = models.CharField(
        max_length=200, blank=True, help_text="The certificate's heading; empty: the title."
    )

    class Meta:
        ordering = ["product__title"]

    def __str__(self) -> str:
        return str(self.product)


class Phase(models.Model):
    """A stage of the program, e.g. "Learning" then "Project"."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="phases")
    title = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["program", "order", "id"]

    def __str__(self) -> str:
        return self.title


class Milestone(TimeStampedModel):
    """A step a learner completes by passing its tests and/or a staff sign-off of their
    project work (they submit a link; staff accept it or ask for changes)."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=160)
    description_md = models.TextField("description (Markdown)", blank=True)
    description_html = models.TextField(editable=False, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    target_week = models.PositiveSmallIntegerField(
        default=1, help_text="Due at the end of this week of the enrollment (1 = the first)."
    )
    requires_review = models.BooleanField(
        default=False, help_text="Staff sign-off: the learner submits a link for review."
    )
    is_required = models.BooleanField(
        default=True, help_text="Needed for the certificate (optional milestones are extra)."
    )
    tests = models.ManyToManyField(
        "testengine.Test", through="MilestoneTest", related_name="+", blank=True
    )

    class Meta:
        ordering = ["phase__program", "phase__order", "phase_id", "order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_week__gte=1), name="programs_milestone_week_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MilestoneTest(models.Model):
    """A test the learner must pass (the test's pass mark; any scored sitting when it has
    none) to complete the milestone."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="links")
    test = models.ForeignKey("testengine.Test", on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["milestone", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["milestone", "test"], name="programs_milestone_test")
        ]

    def __str__(self) -> str:
        return f"{self.milestone} — {self.test}"


class Track(models.Model):
    """What one plan of the program covers (the 1-month track has fewer milestones than the
    3-month one); milestones are shared between tracks, never copied."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tracks")
    plan = models.OneToOneField("catalogue.Plan", on_delete=models.CASCADE, related_name="track")
    milestones = models.ManyToManyField(Milestone, through="TrackMilestone", related_name="+")

    class Meta:
        ordering = ["program", "plan__order", "plan_id"]

    def __str__(self) -> str:
        return f"{self.program} — {self.plan.name}"

    def clean(self) -> None:
        if self.plan_id and self.program_id and self.plan.product_id != self.program.product_id:
            raise ValidationError({"plan": "Choose a plan of this program's product."})


class TrackMilestone(models.Model):
    track = models.ForeignKey(Track, on_delete=models.CASCADE, related_name="entries")
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="entries")
    target_week = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="This track's week, when it differs from the milestone's."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["track", "milestone"], name="programs_track_milestone"),
            models.CheckConstraint(
                condition=Q(target_week__isnull=True) | Q(target_week__gte=1),
                name="programs_track_week_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.track} — {self.milestone}"

    def clean(self) -> None:
        if (
            self.track_id
            and self.milestone_id
            and self.milestone.phase.program_id != self.track.program_id
        ):
            raise ValidationError({"milestone": "Choose a milestone of this track's program."})


class MilestoneCompletion(models.Model):
    """A milestone the learner has done (once; it stays done)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="milestone_completions"
    )
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="+")
    completed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "milestone"], name="programs_completion_once")
        ]

    def __str__(self) -> str:
        return f"{self.milestone} — {self.user}"


class ProjectSubmission(TimeStampedModel):
    """A link to project work for a milestone with sign-off; staff review it once."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Waiting for review"
        ACCEPTED = "accepted", "Accepted"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_submissions"
    )
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="submissions")
    url = models.URLField("link", max_length=500)
    note = models.TextField(blank=True, max_length=2000)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.TextField(blank=True, max_length=4000)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # one submission waiting for review per learner and milestone
            models.UniqueConstraint(
                fields=["user", "milestone"],
                condition=Q(status="submitted"),
                name="programs_one_pending_submission",
            ),
            models.CheckConstraint(
                condition=Q(status="submitted", reviewed_at__isnull=True)
                | (~Q(status="submitted") & Q(reviewed_at__isnull=False)),
                name="programs_submission_reviewed_at",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="programs_review_queue")]

    def __str__(self) -> str:
        return f"{self.milestone} — {self.user}"


class Certificate(TimeStampedModel):
    """Issued once per learner and track when every required milestone is done. What it
    says is frozen at issue (names can change later; the certificate does not)."""

    code = models.CharField(max_length=24, unique=True, editable=False)
    code_digest = models.CharField(
        max_length=64,
        unique=True,
        editable=False,
        help_text="SHA-256 of the code: lookups compare digests, so response times say "
        "nothing about how much of a guessed code was right.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="certificates"
    )
    track = models.ForeignKey(Track, on_delete=models.PROTECT, related_name="certificates")
    learner_name = models.CharField(max_length=150)
    program_title = models.CharField(max_length=200)
    track_name = models.CharField(max_length=80)
    completed_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=300, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-completed_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "track"], name="programs_certificate_once"),
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | ~Q(revoke_reason=""),
                name="programs_certificate_revoke_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None
