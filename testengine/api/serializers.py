"""Staff API shapes for topics, questions and tests. Writes go through the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.serializers import NoneAsNullChoiceField, StrictInputSerializer
from testengine.importexport import FORMATS, JSON, MAX_ROWS, format_from_filename
from testengine.models import (
    Choice,
    Question,
    QuestionStatistics,
    Section,
    SectionQuestion,
    SectionRule,
    Test,
    Topic,
)

# --- topics --------------------------------------------------------------------------------


class TopicSerializer(serializers.ModelSerializer):
    question_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Topic
        fields = ["id", "name", "slug", "parent", "order", "description", "question_count"]
        read_only_fields = fields


class TopicInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=120)
    slug = serializers.SlugField(max_length=140, required=False, allow_blank=True)
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]  # the topic's
        queryset=Topic.objects.all(), required=False, allow_null=True
    )
    order = serializers.IntegerField(
        min_value=0, max_value=2_147_483_647, required=False, default=0
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")


# --- questions -------------------------------------------------------------------------------


class ChoiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Choice
        fields = ["id", "body_md", "body_html", "is_correct", "order"]
        read_only_fields = fields


class StatisticsSerializer(serializers.ModelSerializer):
    class Meta:
        model = QuestionStatistics
        fields = [
            "responses",
            "facility",
            "discrimination",
            "discriminative_efficiency",
            "mark_sd",
            "computed_at",
        ]
        read_only_fields = fields


class QuestionSerializer(serializers.ModelSerializer):
    choices = ChoiceSerializer(many=True, read_only=True)
    statistics = serializers.SerializerMethodField()
    topic_slug = serializers.SlugField(source="topic.slug", read_only=True)

    class Meta:
        model = Question
        fields = [
            "id",
            "external_id",
            "type",
            "topic",
            "topic_slug",
            "tags",
            "difficulty",
            "status",
            "free_practice",
            "body_md",
            "body_html",
            "explanation_md",
            "explanation_html",
            "image",
            "marks",
            "negative_marks",
            "numeric_answer",
            "numeric_tolerance",
            "tolerance_kind",
            "accepted_answers",
            "irt_a",
            "irt_b",
            "irt_c",
            "version",
            "choices",
            "statistics",
            "published_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(StatisticsSerializer(allow_null=True))
    def get_statistics(self, question: Question) -> dict | None:
        stats = getattr(question, "statistics", None)
        return StatisticsSerializer(stats).data if stats else None


class ChoiceInputSerializer(StrictInputSerializer):
    id = serializers.IntegerField(
        required=False, min_value=1, max_value=2_147_483_647, help_text="Keep this choice (its id)."
    )
    body_md = serializers.CharField(max_length=2000)
    is_correct = serializers.BooleanField(default=False)


class QuestionInputSerializer(StrictInputSerializer):
    type = serializers.ChoiceField(choices=Question.Type.choices)
    topic = serializers.PrimaryKeyRelatedField(queryset=Topic.objects.all())
    body_md = serializers.CharField(max_length=20_000)
    explanation_md = serializers.CharField(
        max_length=20_000, required=False, allow_blank=True, default=""
    )
    difficulty = serializers.ChoiceField(
        choices=Question.Difficulty.choices, default=Question.Difficulty.MEDIUM
    )
    status = serializers.ChoiceField(choices=Question.Status.choices, default="draft")
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=30
    )
    marks = serializers.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    negative_marks = serializers.DecimalField(max_digits=6, decimal_places=2, default=Decimal("0"))
    numeric_answer = serializers.DecimalField(
        max_digits=20, decimal_places=6, required=False, allow_null=True, default=None
    )
    numeric_tolerance = serializers.DecimalField(
        max_digits=20, decimal_places=6, default=Decimal("0")
    )
    tolerance_kind = serializers.ChoiceField(
        choices=Question.Tolerance.choices, default=Question.Tolerance.ABSOLUTE
    )
    accepted_answers = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=50
    )
    choices = ChoiceInputSerializer(many=True, required=False, default=list)
    irt_a = serializers.FloatField(required=False, allow_null=True, default=None)
    irt_b = serializers.FloatField(required=False, allow_null=True, default=None)
    irt_c = serializers.FloatField(required=False, allow_null=True, default=None)
    external_id = serializers.CharField(
        max_length=64, required=False, allow_blank=True, allow_null=True, default=None
    )


# --- tests ---------------------------------------------------------------------------------


class SectionRuleSerializer(serializers.ModelSerializer):
    # Declared: "" (any) is stored, null is shown.
    difficulty = NoneAsNullChoiceField(
        choices=Question.Difficulty.choices, read_only=True, help_text="Null for any."
    )
    question_type = NoneAsNullChoiceField(
        choices=Question.Type.choices, read_only=True, help_text="Null for any."
    )

    class Meta:
        model = SectionRule
        fields = [
            "id",
            "topic",
            "include_subtopics",
            "difficulty",
            "question_type",
            "tags",
            "count",
            "order",
        ]
        read_only_fields = fields


class SectionQuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SectionQuestion
        fields = ["question", "order", "marks", "negative_marks"]
        read_only_fields = fields


class SectionSerializer(serializers.ModelSerializer):
    rules = SectionRuleSerializer(many=True, read_only=True)
    questions = SectionQuestionSerializer(many=True, read_only=True, source="fixed_questions")

    class Meta:
        model = Section
        fields = [
            "id",
            "title",
            "order",
            "instructions",
            "duration_seconds",
            "marking",
            "correct_marks",
            "wrong_penalty",
            "unattempted_marks",
            "negative_fraction",
            "rules",
            "questions",
        ]
        read_only_fields = fields


class TestSerializer(serializers.ModelSerializer):
    sections = SectionSerializer(many=True, read_only=True)

    class Meta:
        model = Test
        fields = [
            "id",
            "title",
            "slug",
            "instructions_md",
            "instructions_html",
            "mode",
            "duration_seconds",
            "max_attempts",
            "min_gap_seconds",
            "attempt_policy",
            "pass_mark_percent",
            "shuffle_questions",
            "shuffle_choices",
            "partial_marking",
            "navigation",
            "solution_policy",
            "on_time_up",
            "available_from",
            "available_until",
            "adaptive_config",
            "is_published",
            "published_at",
            "sections",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TestListSerializer(serializers.ModelSerializer):
    section_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Test
        fields = [
            "id",
            "title",
            "slug",
            "mode",
            "duration_seconds",
            "is_published",
            "section_count",
            "created_at",
        ]
        read_only_fields = fields
        ref_name = "TestSummary"  # its page: PaginatedTestSummaryList


class SectionRuleInputSerializer(StrictInputSerializer):
    topic = serializers.PrimaryKeyRelatedField(
        queryset=Topic.objects.all(), required=False, allow_null=True, default=None
    )
    include_subtopics = serializers.BooleanField(default=True)
    difficulty = NoneAsNullChoiceField(
        choices=Question.Difficulty.choices, required=False, default=None, help_text="Null: any."
    )
    question_type = NoneAsNullChoiceField(
        choices=Question.Type.choices, required=False, default=None, help_text="Null: any."
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list
    )
    count = serializers.IntegerField(min_value=1, max_value=500)


class SectionQuestionInputSerializer(StrictInputSerializer):
    question = serializers.PrimaryKeyRelatedField(queryset=Question.objects.all())
    marks = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True, min_value=0
    )
    negative_marks = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True, min_value=0
    )


class SectionInputSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=120)
    order = serializers.IntegerField(min_value=0, max_value=32_767, required=False)
    instructions = serializers.CharField(required=False, allow_blank=True, default="")
    duration_seconds = serializers.IntegerField(
        min_value=1, required=False, allow_null=True, default=None
    )
    marking = serializers.ChoiceField(choices=Section.Marking.choices, default="question")
    correct_marks = serializers.DecimalField(
        max_digits=6, decimal_places=2, required=False, allow_null=True, default=None
    )
    wrong_penalty = serializers.DecimalField(
        max_digits=6, decimal_places=2, min_value=0, default=Decimal("0")
    )
    unattempted_marks = serializers.DecimalField(
        max_digits=6, decimal_places=2, default=Decimal("0")
    )
    negative_fraction = serializers.DecimalField(
        max_digits=5, decimal_places=4, min_value=0, max_value=1, default=Decimal("0")
    )
    rules = SectionRuleInputSerializer(many=True, required=False, default=list)
    questions = SectionQuestionInputSerializer(many=True, required=False, default=list)


class TestInputSerializer(StrictInputSerializer):
    title = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=200, required=False, allow_blank=True)
    instructions_md = serializers.CharField(required=False, allow_blank=True, max_length=20_000)
    mode = serializers.ChoiceField(choices=Test.Mode.choices, default=Test.Mode.RANDOM)
    duration_seconds = serializers.IntegerField(min_value=1, max_value=7 * 24 * 3600)
    max_attempts = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True
    )
    min_gap_seconds = serializers.IntegerField(
        min_value=0, max_value=366 * 24 * 3600, required=False
    )
    attempt_policy = serializers.ChoiceField(choices=Test.AttemptPolicy.choices, required=False)
    pass_mark_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, allow_null=True
    )
    shuffle_questions = serializers.BooleanField(required=False)
    shuffle_choices = serializers.BooleanField(required=False)
    partial_marking = serializers.BooleanField(required=False)
    navigation = serializers.ChoiceField(choices=Test.Navigation.choices, required=False)
    solution_policy = serializers.ChoiceField(choices=Test.SolutionPolicy.choices, required=False)
    on_time_up = serializers.ChoiceField(choices=Test.OnTimeUp.choices, required=False)
    available_from = serializers.DateTimeField(required=False, allow_null=True)
    available_until = serializers.DateTimeField(required=False, allow_null=True)
    adaptive_config = serializers.DictField(required=False)
    sections = SectionInputSerializer(many=True, required=False)


# --- check and preview ------------------------------------------------------------------------


class RuleAvailabilitySerializer(serializers.Serializer):
    section_id = serializers.IntegerField()
    section = serializers.CharField()
    rule_id = serializers.IntegerField(allow_null=True)
    rule = serializers.CharField()
    needed = serializers.IntegerField()
    available = serializers.IntegerField()
    ok = serializers.BooleanField()


class CheckReportSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    rules = RuleAvailabilitySerializer(many=True)


class PaperChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body_html = serializers.CharField()
    is_correct = serializers.BooleanField()


class PaperQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    version = serializers.IntegerField()
    type = serializers.ChoiceField(choices=Question.Type.choices)
    topic_id = serializers.IntegerField()
    topic = serializers.CharField()
    difficulty = serializers.ChoiceField(choices=Question.Difficulty.choices)
    body_html = serializers.CharField()
    explanation_html = serializers.CharField()
    image = serializers.CharField()
    choices = PaperChoiceSerializer(many=True)
    marks = serializers.DecimalField(max_digits=6, decimal_places=2)
    negative_marks = serializers.DecimalField(max_digits=6, decimal_places=2)
    unattempted_marks = serializers.DecimalField(max_digits=6, decimal_places=2)
    partial_marking = serializers.BooleanField()
    numeric_answer = serializers.DecimalField(max_digits=20, decimal_places=6, allow_null=True)
    numeric_tolerance = serializers.DecimalField(max_digits=20, decimal_places=6)
    tolerance_kind = serializers.ChoiceField(choices=Question.Tolerance.choices)
    accepted_answers = serializers.ListField(child=serializers.CharField())


class PaperSectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    order = serializers.IntegerField()
    duration_seconds = serializers.IntegerField(allow_null=True)
    instructions = serializers.CharField()
    questions = PaperQuestionSerializer(many=True)


class PaperPreviewSerializer(serializers.Serializer):
    test_slug = serializers.CharField()
    seed = serializers.IntegerField()
    question_count = serializers.IntegerField()
    max_score = serializers.DecimalField(max_digits=14, decimal_places=2)
    sections = PaperSectionSerializer(many=True)


# --- import and export (testengine.api.importexport) -------------------------------------


class ImportChoiceSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The choice, in Markdown.")
    correct = serializers.BooleanField(default=False)


class ImportQuestionSerializer(serializers.Serializer):
    """One question of an import or export file (JSON). The CSV format has the same
    columns, with lists ``|``-separated and ``correct`` as choice numbers."""

    external_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_null=True,
        help_text="Your stable id; unique in the bank. Optional.",
    )
    topic = serializers.SlugField(help_text="Slug of an existing topic.")
    type = serializers.ChoiceField(choices=Question.Type.choices)
    body = serializers.CharField(help_text="The question, in Markdown (no script-capable HTML).")
    explanation = serializers.CharField(required=False, allow_blank=True, default="")
    difficulty = serializers.ChoiceField(
        choices=Question.Difficulty.choices, default=Question.Difficulty.MEDIUM
    )
    status = serializers.ChoiceField(choices=Question.Status.choices, default=Question.Status.DRAFT)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), default=list)
    marks = serializers.DecimalField(max_digits=6, decimal_places=2, default=Decimal("1"))
    negative_marks = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal("0"),
        help_text="A positive penalty; 0 for none.",
    )
    choices = ImportChoiceSerializer(
        many=True, default=list, help_text="Single, multiple and true/false questions only."
    )
    numeric_answer = serializers.DecimalField(
        max_digits=20, decimal_places=6, allow_null=True, default=None
    )
    numeric_tolerance = serializers.DecimalField(
        max_digits=20, decimal_places=6, default=Decimal("0")
    )
    tolerance_kind = serializers.ChoiceField(
        choices=Question.Tolerance.choices, default=Question.Tolerance.ABSOLUTE
    )
    accepted_answers = serializers.ListField(
        child=serializers.CharField(max_length=200),
        default=list,
        help_text="Short-text questions only.",
    )


@extend_schema_field(ImportQuestionSerializer(many=True))
class _QuestionsField(serializers.ListField):
    """A list, checked row by row by the importer (so every bad row is reported with its
    number) rather than by a nested serializer that would stop at the shape."""

    child = serializers.JSONField()


class ImportUploadSerializer(StrictInputSerializer):
    """A file upload (multipart/form-data)."""

    file = serializers.FileField(help_text=f"A CSV or JSON file of at most {MAX_ROWS} questions.")
    format = serializers.ChoiceField(
        choices=FORMATS,
        required=False,
        help_text="csv or json; by default told from the file name's extension.",
    )
    dry_run = serializers.BooleanField(default=False, help_text="Check everything, write nothing.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        fmt = attrs.get("format") or format_from_filename(attrs["file"].name or "")
        if fmt is None:
            raise serializers.ValidationError(
                {"format": ["Give the format (csv or json): the file name does not tell."]}
            )
        return {**attrs, "format": fmt}


class ImportJsonSerializer(StrictInputSerializer):
    """Questions sent as a JSON body instead of a file."""

    format = serializers.ChoiceField(choices=[JSON], default=JSON)
    questions = _QuestionsField(help_text=f"At most {MAX_ROWS} questions.")
    dry_run = serializers.BooleanField(default=False, help_text="Check everything, write nothing.")


class ImportReportSerializer(serializers.Serializer):
    """What a clean import did (or, on a dry run, would do)."""

    created = serializers.IntegerField(
        help_text="Questions created; on a dry run, the number that would be created."
    )
    dry_run = serializers.BooleanField()


class ExportQuerySerializer(serializers.Serializer):
    """Query parameters of the export; filters combine."""

    format = serializers.ChoiceField(choices=FORMATS, default="csv")
    topic = serializers.SlugField(
        required=False, help_text="Only this topic (by slug) and its subtopics."
    )
    status = serializers.ChoiceField(choices=Question.Status.choices, required=False)
    difficulty = serializers.ChoiceField(choices=Question.Difficulty.choices, required=False)
    tag = serializers.CharField(required=False, max_length=50, help_text="Only questions with it.")

    def validate_topic(self, slug: str) -> Topic:
        topic = Topic.objects.filter(slug=slug).first()
        if topic is None:
            raise serializers.ValidationError(f"Unknown topic {slug!r}.")
        return topic
