"""Exam sessions: one sitting of one test by one learner, with its frozen paper and the
learner's responses. The server's clock rules; scoring happens once, at submission."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.models import PublicIdModel, TimeStampedModel


class ExamSession(PublicIdModel):
    class Status(models.TextChoices):
        IN_PROGRESS = "in_progress", "In progress"
        SUBMITTED = "submitted", "Submitted"
        ABANDONED = "abandoned", "Abandoned (time ran out or access withdrawn; not scored)"

    class SubmitReason(models.TextChoices):
        LEARNER = "learner", "Submitted by the learner"
        TIME_UP = "time_up", "Time ran out"
        REVOKED = "revoked", "Access withdrawn (refund or revoke)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="exam_sessions"
    )
    test = models.ForeignKey("testengine.Test", on_delete=models.PROTECT, related_name="+")
    attempt = models.PositiveSmallIntegerField()
    seed = models.BigIntegerField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.IN_PROGRESS)
    started_at = models.DateTimeField()
    deadline_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submit_reason = models.CharField(max_length=8, choices=SubmitReason.choices, blank=True)
    extra_seconds = models.PositiveIntegerField(default=0)
    section_index = models.PositiveSmallIntegerField(
        default=0,
        help_text="Sectionally timed tests: the section the learner last moved on to (time "
        "moves them on too; see sessions_app.timing).",
    )
    section_started_at = models.DateTimeField(
        null=True, blank=True, help_text="When the learner moved on to ``section_index``."
    )
    paper = models.JSONField(help_text="The frozen paper (testengine.paper.Paper.to_json()).")
    layout = models.JSONField(
        default=dict,
        help_text="The paper's skeleton that checks a save: sections and, per question, its "
        "type and choice ids (testengine.paper.answer_layout). Autosave reads this, never the "
        "whole paper.",
    )
    marking_key = models.CharField(
        max_length=64,
        blank=True,
        default="",
        help_text="Fingerprint of what marking reads of the paper (sessions_app.marking): "
        "sittings that share it are marked alike, so the expiry sweep decodes one paper per "
        "key. Empty for adaptive sittings (their paper grows) and older rows.",
    )
    question_count = models.PositiveSmallIntegerField()
    max_score = models.DecimalField(max_digits=10, decimal_places=2)
    score = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    percentage = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    correct = models.PositiveSmallIntegerField(null=True, blank=True)
    partial = models.PositiveSmallIntegerField(null=True, blank=True)
    wrong = models.PositiveSmallIntegerField(null=True, blank=True)
    unattempted = models.PositiveSmallIntegerField(null=True, blank=True)
    time_taken_seconds = models.PositiveIntegerField(null=True, blank=True)
    breakdown = models.JSONField(
        null=True, blank=True, help_text="Per-section and per-topic results."
    )
    # Adaptive tests (sessions_app.adaptive): the items are chosen one at a time.
    adaptive = models.JSONField(
        default=dict,
        blank=True,
        help_text="Adaptive sittings: the ability estimate after each answer, the items "
        "given and why the test stopped.",
    )
    ability = models.FloatField(null=True, blank=True, help_text="Adaptive: final θ̂.")
    ability_se = models.FloatField(null=True, blank=True, help_text="Adaptive: its SE.")
    access_ended_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the learner's access to this test was withdrawn (a full refund or a "
        "staff revoke): the sitting is closed to them and left out of rankings. Cleared when "
        "access is granted again.",
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "test", "attempt"], name="sessions_one_row_per_attempt"
            ),
            models.UniqueConstraint(
                fields=["user", "test"],
                condition=Q(status="in_progress"),
                name="sessions_one_open_per_test",
            ),
            models.CheckConstraint(
                condition=Q(deadline_at__gt=models.F("started_at")),
                name="sessions_deadline_after_start",
            ),
        ]
        indexes = [
            models.Index(
                fields=["test", "-score", "time_taken_seconds"],
                condition=Q(status="submitted", attempt=1, access_ended_at__isnull=True),
                name="sessions_ranking_idx",
            ),
            models.Index(
                fields=["deadline_at"],
                condition=Q(status="in_progress"),
                name="sessions_open_deadline_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.test} · attempt {self.attempt}"


class SessionResponse(models.Model):
    """The learner's latest answer to one question of a session (autosaved)."""

    session = models.ForeignKey(ExamSession, on_delete=models.CASCADE, related_name="responses")
    question_id = models.PositiveIntegerField()
    answer = models.JSONField(null=True, blank=True)
    marked_for_review = models.BooleanField(default=False)
    time_spent_ms = models.PositiveIntegerField(default=0)
    seq = models.BigIntegerField(help_text="The client's sequence number of this save.")
    saved_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, blank=True)
    marks = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "question_id"], name="sessions_one_response_per_question"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} · q{self.question_id}"


class AttemptOverride(TimeStampedModel):
    """Staff adjustments for one learner on one test: extra time, extra attempts."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    test = models.ForeignKey("testengine.Test", on_delete=models.CASCADE, related_name="+")
    extra_seconds = models.PositiveIntegerField(default=0, help_text="e.g. accessibility.")
    extra_attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "test"], name="sessions_one_override"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.test}"
