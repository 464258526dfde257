"""Staff API for question import and export (``questions/import/``, ``questions/export/``).

Thin views over ``testengine.importexport``: read the request, call the service, answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.http import HttpResponse
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser
from core.api.permissions import StaffModelPermissions
from testengine.api import schema
from testengine.api import serializers as s
from testengine.importexport import (
    CONTENT_TYPES,
    export_filename,
    questions_export,
    questions_import,
)
from testengine.models import Question
from testengine.selectors import topic_subtree_ids
from testengine.services.questions import normalise_tags

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


class _FormatIsNotARenderer(DefaultContentNegotiation):
    """Here ``?format=`` names the file to export, not a DRF renderer: answer in JSON
    (errors) whatever it says, instead of DRF's 404 for an unknown renderer."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return renderers[0], renderers[0].media_type  # type: ignore[index]  # DRF's list


class QuestionImportView(APIView):
    permission_classes = [StaffModelPermissions]
    parser_classes = [MultiPartParser, JSONParser]
    queryset = Question.objects.none()  # the model whose permissions apply

    @schema.question_import
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer: serializers.Serializer
        if request.content_type.startswith("multipart/"):
            serializer = s.ImportUploadSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            values = serializer.validated_data
            content: bytes | str = values["file"].read()
        else:
            serializer = s.ImportJsonSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            values = serializer.validated_data
            content = json.dumps(values["questions"])
        report = questions_import(
            content=content, fmt=values["format"], dry_run=values["dry_run"], by=request.user
        )
        body = s.ImportReportSerializer(report).data
        return Response(
            body, status=status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED
        )


class QuestionExportView(APIView):
    permission_classes = [StaffModelPermissions]
    content_negotiation_class = _FormatIsNotARenderer
    queryset = Question.objects.none()  # the model whose permissions apply

    @schema.question_export
    def get(self, request: Request) -> HttpResponse:
        serializer = s.ExportQuerySerializer(data=request.query_params)
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
