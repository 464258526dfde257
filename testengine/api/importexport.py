"""Staff API for question import and export (``questions/import/``, ``questions/export/``).

Thin views over ``testengine.importexport``: read the request, call the service, answer.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.api.permissions import StaffModelPermissions
from core.api.serializers import StrictInputSerializer
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
from testengine.selectors import topic_subtree_ids
from testengine.services.questions import normalise_tags

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
    marks = serializers.DecimalField(max_digits=6, decimal_places=2, default="1")
    negative_marks = serializers.DecimalField(
        max_digits=6, decimal_places=2, default="0", help_text="A positive penalty; 0 for none."
    )
    choices = ImportChoiceSerializer(
        many=True, default=list, help_text="Single, multiple and true/false questions only."
    )
    numeric_answer = serializers.DecimalField(
        max_digits=20, decimal_places=6, allow_null=True, default=None
    )
    numeric_tolerance = serializers.DecimalField(max_digits=20, decimal_places=6, default="0")
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

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class QuestionImportView(APIView):
    permission_classes = [StaffModelPermissions]
    parser_classes = [MultiPartParser, JSONParser]
    queryset = Question.objects.none()  # the model whose permissions apply

    def post(self, request: Request) -> Response:
        if request.content_type.startswith("multipart/"):
            serializer = ImportUploadSerializer(data=request.data)
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
