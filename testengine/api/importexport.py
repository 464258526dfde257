"""Staff API for question import and export (``questions/import/``, ``questions/export/``).

Thin views over ``testengine.importexport``: read the request, call the service, answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.api.schema import error_response
from core.api.serializers import StrictInputSerializer
from testengine.api.permissions import StaffModelPermissions
from testengine.importexport import (
    CONTENT_TYPES,
    FORMATS,
    JSON,
    MAX_ROWS,
    export_filename,
    format_from_filename,
    questions_export,
    questions_import,
)
from testengine.models import Question, Topic
from testengine.paper import topic_subtree_ids
from testengine.services.questions import normalise_tags

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

TAG = ["testengine"]
_STAFF_ERRORS = {
    401: error_response(401),
    403: error_response(403, description="Not staff, or lacking the model permission."),
}


# --- shapes ------------------------------------------------------------------------------


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
    marks = serializers.DecimalField(max_digits=6, decimal_places=2, default="1")  # type: ignore[arg-type]  # DRF takes the string
    negative_marks = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        default="0",  # type: ignore[arg-type]
        help_text="A positive penalty; 0 for none.",
    )
    choices = ImportChoiceSerializer(
        many=True, default=list, help_text="Single, multiple and true/false questions only."
    )
    numeric_answer = serializers.DecimalField(
        max_digits=20, decimal_places=6, allow_null=True, default=None
    )
    numeric_tolerance = serializers.DecimalField(max_digits=20, decimal_places=6, default="0")  # type: ignore[arg-type]
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


# --- views -------------------------------------------------------------------------------


class _FormatIsNotARenderer(DefaultContentNegotiation):
    """Here ``?format=`` names the file to export, not a DRF renderer: answer in JSON
    (errors) whatever it says, instead of DRF's 404 for an unknown renderer."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type  # type: ignore[index]  # DRF's list


_ROWS_EXAMPLE = [
    {"row": 3, "field": "topic", "message": "Unknown topic 'algebra-2'."},
    {"row": 7, "field": "marks", "message": "Enter a number."},
    {
        "row": 7,
        "field": "choices",
        "message": "A single-choice question has exactly one correct choice (2 marked).",
    },
    {"row": 12, "field": "external_id", "message": "Row 5 has the same external id."},
]
_QUESTION_EXAMPLE = {
    "external_id": "phy-001",
    "topic": "kinematics",
    "type": "single",
    "body": "A car covers **120 km** in 2 hours. Its average speed is:",
    "explanation": "Speed = distance ÷ time = 120 ÷ 2.",
    "difficulty": "easy",
    "status": "published",
    "tags": ["speed", "jee-main"],
    "marks": "4",
    "negative_marks": "1",
    "choices": [
        {"text": "40 km/h", "correct": False},
        {"text": "60 km/h", "correct": True},
        {"text": "80 km/h", "correct": False},
        {"text": "240 km/h", "correct": False},
    ],
    "numeric_answer": None,
    "numeric_tolerance": "0",
    "tolerance_kind": "absolute",
    "accepted_answers": [],
}
_CSV_EXAMPLE = (
    "external_id,topic,type,body,explanation,difficulty,status,tags,marks,negative_marks,"
    "choices,correct,numeric_answer,numeric_tolerance,tolerance_kind,accepted_answers\r\n"
    "phy-001,kinematics,single,A car covers **120 km** in 2 hours. Its average speed is:,"
    "Speed = distance ÷ time = 120 ÷ 2.,easy,published,speed|jee-main,4,1,"
    "40 km/h|60 km/h|80 km/h|240 km/h,2,,0,absolute,\r\n"
)
_IMPORT_DESCRIPTION = f"""
Imports questions from a CSV or JSON file (multipart: `file`, `format`, `dry_run`) or
from a JSON body (`{{"format": "json", "questions": [...], "dry_run": false}}`).

**All or nothing.** Every row is checked first, with the same rules as creating one
question; if any row is wrong, nothing is written and the answer is 400 with code
`import_rejected` listing **every** problem in `fields.rows` as
`{{"row", "field", "message"}}` objects (sorted by row, then column). CSV rows count from
2 (the header is row 1); JSON questions from 1; row 0 is the file as a whole (not UTF-8,
not valid JSON, empty, more than {MAX_ROWS} questions). With `dry_run` nothing is written
and a clean file answers 200 with the number of questions it would create.

**Columns** (CSV header / JSON keys): `external_id`, `topic` (slug), `type`, `body`,
`explanation`, `difficulty`, `status`, `tags`, `marks`, `negative_marks`, `choices`,
`correct` (CSV only), `numeric_answer`, `numeric_tolerance`, `tolerance_kind`,
`accepted_answers`. Only `topic`, `type` and `body` are required; empty cells take the
defaults of a new question. In CSV, `tags`, `accepted_answers` and `choices` are
`|`-separated (write `\\|` for a bar inside a text) and `correct` lists the 1-based
numbers of the correct choices, e.g. `2` or `1|3`. Unknown columns are refused.
External ids must be new to the bank and unique in the file.

Request bodies above the API's size limit (`API_MAX_BODY_BYTES`, 1 MB by default: a few
thousand short questions) are refused with 413; split the file, or use the admin's import
page, which has no such limit.

Needs a staff account with the `testengine.add_question` permission.
"""


class QuestionImportView(APIView):
    permission_classes = [StaffModelPermissions]
    parser_classes = [MultiPartParser, JSONParser]
    queryset = Question.objects.none()  # the model whose permissions apply

    @extend_schema(
        tags=TAG,
        summary="Import questions (CSV or JSON, all or nothing)",
        description=_IMPORT_DESCRIPTION,
        request={
            "multipart/form-data": ImportUploadSerializer,
            "application/json": ImportJsonSerializer,
        },
        responses={
            201: OpenApiResponse(ImportReportSerializer, description="Imported."),
            200: OpenApiResponse(
                ImportReportSerializer, description="Dry run: the file is clean; nothing saved."
            ),
            400: error_response(
                400,
                (
                    "import_rejected",
                    "The file has 4 errors in 3 rows; nothing was imported.",
                    {"rows": _ROWS_EXAMPLE},
                ),
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"format": ["Give the format (csv or json): the file name does not tell."]},
                ),
                description=(
                    "`import_rejected`: the file has errors, each in `fields.rows` as "
                    '`{"row", "field", "message"}`; nothing was written. `invalid`: the '
                    "request itself (format, missing file)."
                ),
            ),
            413: error_response(413),
            415: error_response(415),
            **_STAFF_ERRORS,
        },
        examples=[
            OpenApiExample(
                "JSON body",
                value={"format": "json", "dry_run": False, "questions": [_QUESTION_EXAMPLE]},
                request_only=True,
                media_type="application/json",
            ),
            OpenApiExample(
                "Imported",
                value={"created": 250, "dry_run": False},
                response_only=True,
                status_codes=["201"],
            ),
            OpenApiExample(
                "Dry run",
                value={"created": 250, "dry_run": True},
                response_only=True,
                status_codes=["200"],
            ),
        ],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        if request.content_type.startswith("multipart/"):
            serializer: ImportUploadSerializer | ImportJsonSerializer = ImportUploadSerializer(
                data=request.data
            )
            serializer.is_valid(raise_exception=True)
            values = serializer.validated_data
            content: bytes | str = values["file"].read()
        else:
            serializer = ImportJsonSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            values = serializer.validated_data
            content = json.dumps(values["questions"])
        report = questions_import(
            content=content, fmt=values["format"], dry_run=values["dry_run"], by=request.user
        )
        body = ImportReportSerializer(report).data
        return Response(
            body, status=status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED
        )


class QuestionExportView(APIView):
    permission_classes = [StaffModelPermissions]
    content_negotiation_class = _FormatIsNotARenderer
    queryset = Question.objects.none()  # the model whose permissions apply

    @extend_schema(
        tags=TAG,
        summary="Export questions (CSV or JSON file)",
        description=(
            "Downloads questions (oldest first) as an attachment in exactly the format the "
            "import reads: exporting and importing into an empty bank gives the same "
            "questions. Filters combine; `topic` includes its subtopics. Needs a staff "
            "account with the `testengine.view_question` permission."
        ),
        parameters=[ExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="`format=csv` (the default): a CSV file with a header row.",
                examples=[OpenApiExample("CSV", value=_CSV_EXAMPLE)],
            ),
            (200, "application/json"): OpenApiResponse(
                ImportQuestionSerializer(many=True),
                description="`format=json`: a JSON list of questions.",
                # drf-spectacular wraps the example of a list response in the list itself.
                examples=[OpenApiExample("JSON", value=_QUESTION_EXAMPLE)],
            ),
            400: error_response(
                400,
                ("invalid", "Some fields are not valid.", {"topic": ["Unknown topic 'algebra'."]}),
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"format": ['"xml" is not a valid choice.']},
                ),
            ),
            **_STAFF_ERRORS,
        },
    )
    def get(self, request: Request) -> HttpResponse:
        serializer = ExportQuerySerializer(data=request.query_params)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        queryset = Question.objects.all()
        if "topic" in values:
            topic = values["topic"]
            queryset = queryset.filter(topic_id__in=topic_subtree_ids([topic.pk])[topic.pk])
        for name in ("status", "difficulty"):
            if name in values:
                queryset = queryset.filter(**{name: values[name]})
        if values.get("tag"):
            queryset = queryset.filter(tags__contains=list(normalise_tags([values["tag"]])))
        fmt = values["format"]
        response = HttpResponse(
            questions_export(queryset=queryset, fmt=fmt), content_type=CONTENT_TYPES[fmt]
        )
        response["Content-Disposition"] = f'attachment; filename="{export_filename(fmt)}"'
        return response
