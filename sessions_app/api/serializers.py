"""Serializers of the learner sitting API. Output never carries the answer key: paper
questions are built from an explicit list of safe fields (no ``is_correct``,
``explanation_html``, ``numeric_answer`` or ``accepted_answers``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from core.api.serializers import NoneAsNullChoiceField, StrictInputSerializer
from sessions_app.models import ExamSession
from testengine.models import Question, Test
from testengine.scoring import answer_for_client

MAX_BATCH = 200
MAX_TIME_SPENT_MS = 86_400_000
MAX_SEQ = 2**62

SECTION_STATES = ["open", "locked", "current", "upcoming"]

PALETTE_STATES = [
    "not_visited",
    "not_answered",
    "answered",
    "marked_for_review",
    "answered_marked_for_review",
]


class SessionStatusField(serializers.ChoiceField):
    """The session's status: the ``SessionStatusEnum`` component (ENUM_NAME_OVERRIDES)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "`in_progress`, `submitted` or `abandoned`.")
        super().__init__(choices=ExamSession.Status.choices, **kwargs)


# --- answers -------------------------------------------------------------------------------


class ChoicesAnswerSerializer(serializers.Serializer):
    choices = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="Choice ids (`single`, `true_false`: one; `multiple`: any). Empty clears.",
    )


class NumericAnswerSerializer(serializers.Serializer):
    value = serializers.FloatField(help_text="A JSON number (`numeric` questions).")


class TextAnswerSerializer(serializers.Serializer):
    text = serializers.CharField(
        allow_blank=True, max_length=500, help_text="Short text (`text` questions)."
    )


ANSWER_SCHEMA = PolymorphicProxySerializer(
    component_name="Answer",
    serializers=[ChoicesAnswerSerializer, NumericAnswerSerializer, TextAnswerSerializer],
    resource_type_field_name=None,
)


@extend_schema_field(ANSWER_SCHEMA)
class AnswerField(serializers.JSONField):
    """An answer: ``{"choices": [int]}``, ``{"value": number}`` or ``{"text": str}``, or null
    (unanswered / clear). Read as sent (the service checks it against the question);
    shown with numeric values as JSON numbers."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return answer_for_client(value)


# --- output --------------------------------------------------------------------------------


class SessionTestBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Test
        fields = ["slug", "title"]
        read_only_fields = fields
        ref_name = "SessionTestBrief"


class SessionTestSerializer(serializers.ModelSerializer):
    class Meta:
        model = Test
        fields = ["slug", "title", "navigation", "duration_seconds"]
        read_only_fields = fields
        ref_name = "SessionTest"


class SessionListSerializer(serializers.ModelSerializer):
    test = SessionTestBriefSerializer(read_only=True)
    status = SessionStatusField(read_only=True)

    class Meta:
        model = ExamSession
        fields = [
            "id",
            "test",
            "attempt",
            "status",
            "started_at",
            "deadline_at",
            "submitted_at",
            "score",
            "max_score",
        ]
        read_only_fields = fields
        ref_name = "SessionSummary"  # its page: PaginatedSessionSummaryList


class PaletteEntrySerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    section = serializers.IntegerField(help_text="Section id.")
    number = serializers.IntegerField(help_text="1-based position in the paper.")
    state = serializers.ChoiceField(choices=PALETTE_STATES)


class SectionStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    duration_seconds = serializers.IntegerField(
        allow_null=True, help_text="The section's own time limit, if any."
    )
    state = serializers.ChoiceField(
        choices=SECTION_STATES,
        help_text="`open`: the test is not sectionally timed (go anywhere). Sectionally "
        "timed tests: `locked` (over), `current`, `upcoming`. A closed session's sections "
        "are all `locked`.",
    )
    deadline_at = serializers.DateTimeField(
        allow_null=True, help_text="The current section's own deadline."
    )
    remaining_seconds = serializers.IntegerField(
        allow_null=True, help_text="Whole seconds left in the current section."
    )
    timed = serializers.BooleanField(help_text="True when the test is sectionally timed.")


class SessionDetailSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = SessionStatusField()
    test = SessionTestSerializer()
    attempt = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    deadline_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    submit_reason = NoneAsNullChoiceField(
        choices=ExamSession.SubmitReason.choices,
        help_text="Why the session closed: `learner`, `time_up`, or `revoked` (access was "
        "withdrawn by a refund or a revoke: the sitting is abandoned, unscored); null while "
        "open.",
    )
    server_time = serializers.DateTimeField(help_text="The server's clock now; it rules.")
    remaining_seconds = serializers.IntegerField(
        help_text="Whole seconds until the deadline, never below 0."
    )
    question_count = serializers.IntegerField()
    answered_count = serializers.IntegerField()
    current_section = serializers.IntegerField(
        allow_null=True,
        help_text="Sectionally timed tests: the id of the section being sat; else null.",
    )
    sections = SectionStateSerializer(many=True)
    palette = PaletteEntrySerializer(many=True)


class SittingSectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    order = serializers.IntegerField()
    duration_seconds = serializers.IntegerField(allow_null=True)
    instructions = serializers.CharField(allow_blank=True)


class SittingChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body_html = serializers.CharField()


class SittingQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    section = serializers.IntegerField(help_text="Section id.")
    number = serializers.IntegerField(help_text="1-based position in the paper.")
    type = serializers.ChoiceField(choices=Question.Type.choices)
    body_html = serializers.CharField()
    image = serializers.CharField(allow_blank=True)
    choices = SittingChoiceSerializer(many=True, help_text="In the paper's (frozen) order.")
    marks = serializers.DecimalField(max_digits=8, decimal_places=2)
    negative_marks = serializers.DecimalField(max_digits=8, decimal_places=2)
    answer = AnswerField(help_text="The saved answer, or null.")
    marked_for_review = serializers.BooleanField()


class SittingPaperSerializer(serializers.Serializer):
    session = serializers.UUIDField()
    navigation = serializers.ChoiceField(choices=Test.Navigation.choices)
    question_count = serializers.IntegerField(help_text="Questions in the whole paper.")
    sections = SittingSectionSerializer(many=True)
    questions = SittingQuestionSerializer(
        many=True,
        help_text=(
            "Free navigation: every question. Sequential navigation: the questions up to "
            "and including the first one without a saved answer. Sectionally timed tests: "
            "only the current section's questions."
        ),
    )


class AdaptiveProgressSerializer(serializers.Serializer):
    complete = serializers.BooleanField(
        help_text="The test has stopped (precise enough, or the most items): submit it."
    )
    answered = serializers.IntegerField(help_text="Items answered so far.")
    next_question = SittingQuestionSerializer(
        allow_null=True, help_text="The next item to show (null once complete)."
    )


class SavedResponseSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    answer = AnswerField(
        help_text="The stored (canonical) answer: choice ids sorted, a number as a JSON number."
    )
    marked_for_review = serializers.BooleanField()
    time_spent_ms = serializers.IntegerField()
    seq = serializers.IntegerField()
    saved_at = serializers.DateTimeField()
    applied = serializers.BooleanField(
        help_text="False when a save with a higher `seq` was already stored; the stored "
        "state is returned."
    )
    adaptive = AdaptiveProgressSerializer(
        allow_null=True,
        required=False,
        help_text="Adaptive tests only (else null): the answer is committed and this says "
        "what comes next. A retried save returns the same next item.",
    )


class BatchResultSerializer(serializers.Serializer):
    results = SavedResponseSerializer(many=True)


class SubmitSummarySerializer(serializers.ModelSerializer):
    status = SessionStatusField(read_only=True)

    class Meta:
        model = ExamSession
        fields = [
            "id",
            "status",
            "submit_reason",
            "submitted_at",
            "score",
            "max_score",
            "percentage",
            "correct",
            "wrong",
            "partial",
            "unattempted",
        ]
        read_only_fields = fields


# --- input ---------------------------------------------------------------------------------


class ResponseSaveInputSerializer(StrictInputSerializer):
    answer = AnswerField(
        help_text='{"choices": [<choice id>, …]}, {"value": <number>}, {"text": "…"} or null '
        "to clear."
    )
    marked_for_review = serializers.BooleanField(default=False)
    time_spent_ms = serializers.IntegerField(min_value=0, max_value=MAX_TIME_SPENT_MS, default=0)
    seq = serializers.IntegerField(
        min_value=0,
        max_value=MAX_SEQ,
        help_text="The client's increasing sequence number; older saves change nothing.",
    )


class BatchItemInputSerializer(ResponseSaveInputSerializer):
    question_id = serializers.IntegerField(min_value=1)


class SectionAdvanceInputSerializer(StrictInputSerializer):
    section = serializers.IntegerField(
        min_value=1,
        help_text="The id of the section being left (the current one). Naming it makes a "
        "retried request harmless: leaving a section already over changes nothing.",
    )


class BatchInputSerializer(StrictInputSerializer):
    responses = BatchItemInputSerializer(many=True, min_length=1, max_length=MAX_BATCH)
