"""Serializers of the programs API (explicit fields; output only except submissions)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from core.api.serializers import StrictInputSerializer
from programs.models import ProjectSubmission
from programs.selectors import STATES

CERTIFICATE_STATUSES = ["valid", "revoked"]

_DEC: dict[str, Any] = {"max_digits": 5, "decimal_places": 2}


class ProgramProductSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()


class TrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="The plan's name, e.g. “3 months”.")


class EnrollmentTermSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(help_text="Due dates count from here.")
    expires_at = serializers.DateTimeField(allow_null=True)
    is_live = serializers.BooleanField()


class NextStepSerializer(serializers.Serializer):
    milestone = serializers.IntegerField(help_text="Milestone id.")
    title = serializers.CharField()
    state = serializers.ChoiceField(choices=["open", "submitted"])
    due_at = serializers.DateTimeField()
    action = serializers.CharField(help_text="What to do, for a person.")


class CertificateBriefSerializer(serializers.Serializer):
    code = serializers.CharField()
    completed_at = serializers.DateTimeField()
    revoked = serializers.BooleanField()
    verify_url = serializers.CharField(help_text="The public page anyone can check it on.")
    pdf_url = serializers.CharField()


class ProgramSummarySerializer(serializers.Serializer):
    product = ProgramProductSerializer()
    track = TrackSerializer()
    enrollment = EnrollmentTermSerializer()
    percent = serializers.IntegerField(help_text="Required milestones done, in per cent.")
    done = serializers.IntegerField(help_text="Required milestones done.")
    required = serializers.IntegerField(help_text="Required milestones in the track.")  # type: ignore[assignment]
    next = NextStepSerializer(allow_null=True)
    certificate = CertificateBriefSerializer(allow_null=True)


class MilestoneTestSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    pass_mark_percent = serializers.DecimalField(
        **_DEC, allow_null=True, help_text="Null: any scored sitting passes."
    )
    best_percentage = serializers.DecimalField(
        **_DEC, allow_null=True, help_text="Your best scored sitting; null: none yet."
    )
    passed = serializers.BooleanField()


class SubmissionSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(
        choices=ProjectSubmission.Status.choices,
        help_text="`submitted` (waiting for review), `accepted` or `changes_requested`.",
    )
    submitted_at = serializers.DateTimeField(source="created_at")

    class Meta:
        model = ProjectSubmission
        fields = [
            "id",
            "url",
            "note",
            "status",
            "submitted_at",
            "reviewed_at",
            "review_comment",
        ]
        read_only_fields = fields


class MilestoneSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField(help_text="1-based position in your track.")
    title = serializers.CharField()
    description_html = serializers.CharField(allow_blank=True)
    target_week = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    overdue = serializers.BooleanField()
    state = serializers.ChoiceField(
        choices=STATES,
        help_text="`locked` (earlier required milestones first), `open`, `submitted` "
        "(waiting for review) or `done`.",
    )
    is_required = serializers.BooleanField(help_text="Needed for the certificate.")
    requires_review = serializers.BooleanField(help_text="Completed by a staff sign-off.")
    tests = MilestoneTestSerializer(many=True, help_text="Pass each (when any).")
    submission = SubmissionSerializer(allow_null=True, help_text="Your latest submission.")
    completed_at = serializers.DateTimeField(allow_null=True)


class PhaseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    milestones = MilestoneSerializer(many=True)


class ProgramDetailSerializer(ProgramSummarySerializer):
    unlock_in_order = serializers.BooleanField()
    phases = PhaseSerializer(many=True, help_text="Only the phases and milestones of your track.")


class SubmissionInputSerializer(StrictInputSerializer):
    url = serializers.CharField(max_length=500, help_text="A link to your work (http or https).")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CertificateVerificationSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.ChoiceField(
        choices=CERTIFICATE_STATUSES, help_text="`valid`, or `revoked` (see `revoke_reason`)."
    )
    learner_name = serializers.CharField()
    program = serializers.CharField()
    track = serializers.CharField()
    completed_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField(allow_blank=True)
    verify_url = serializers.CharField()
    pdf_url = serializers.CharField()


class SyllabusMilestoneSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    description_html = serializers.CharField(allow_blank=True)
    phase = serializers.CharField(help_text="The phase's title.")
    week = serializers.IntegerField(help_text="Due at the end of this week of the track.")
    is_required = serializers.BooleanField()
    requires_review = serializers.BooleanField(help_text="Project work signed off by staff.")
    tests = serializers.ListField(
        child=serializers.CharField(), help_text="Titles of the tests to pass."
    )


class SyllabusTrackSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    plan = serializers.IntegerField(help_text="The plan to buy for this track.")
    name = serializers.CharField()
    milestones = SyllabusMilestoneSerializer(many=True)


class SyllabusSerializer(serializers.Serializer):
    product = ProgramProductSerializer()
    unlock_in_order = serializers.BooleanField()
    certificate = serializers.CharField(help_text="The certificate earned at the end.")
    tracks = SyllabusTrackSerializer(many=True)
