"""The learner's sitting: start or resume, status and palette, the paper, autosave (one or a
batch), submit. Thin views over ``sessions_app.services``; every session URL is scoped to
the requesting learner (another learner's session is 404). No response ever carries the
answer key or explanations: results and review live in ``sessions_app.api.results``."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.views import OwnedViewSet
from core.request_context import bind_log_context
from sessions_app import policy, selectors, services
from sessions_app.api import schema
from sessions_app.api import serializers as s
from sessions_app.detail import fast_serialized, session_detail_payload
from sessions_app.errors import SessionClosed, SessionNotFound
from sessions_app.models import ExamSession
from testengine.paper import CENT
from testengine.scoring import answer_for_client

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


# --- building payloads -------------------------------------------------------------------------


def _decimal(value: str) -> str:
    """A paper's marks as the API's DecimalField (two places) writes them."""
    return format(Decimal(value).quantize(CENT), "f")


def _paper(session: ExamSession) -> dict[str, Any]:
    return fast_serialized(s.SittingPaperSerializer, _paper_data(session), "questions")


def _learner_question(
    section_id: int, question: dict[str, Any], number: int, answer: Any, marked: bool
) -> dict[str, Any]:
    """A frozen question as the learner may see it during the sitting: no key, no
    explanation (explicit fields only)."""
    return {
        "id": question["id"],
        "section": section_id,
        "number": number,
        "type": question["type"],
        "body_html": question["body_html"],
        "image": question.get("image", ""),
        "choices": [
            {"id": choice["id"], "body_html": choice["body_html"]} for choice in question["choices"]
        ],
        "marks": _decimal(question["marks"]),
        "negative_marks": _decimal(question["negative_marks"]),
        "answer": answer_for_client(answer),
        "marked_for_review": marked,
    }


def _paper_data(session: ExamSession) -> dict[str, Any]:
    """The learner's view of the paper: the questions the paper rule shows now
    (``policy.visible_questions``), safe fields only, with their saved state."""
    questions = [
        _learner_question(
            visible.section_id,
            visible.question,
            visible.number,
            visible.answer,
            visible.marked_for_review,
        )
        for visible in selectors.visible_paper(session)
    ]
    return {
        "session": session.id,
        "navigation": session.test.navigation,
        "question_count": session.question_count,
        "sections": [
            {
                "id": section["id"],
                "title": section["title"],
                "order": section["order"],
                "duration_seconds": section["duration_seconds"],
                "instructions": section.get("instructions", ""),
            }
            for section in session.paper["sections"]
        ],
        "questions": questions,
    }


def _saved_payload(result: services.SaveResult) -> dict[str, Any]:
    response = result.response
    return {
        "question_id": response.question_id,
        "answer": response.answer,
        "marked_for_review": response.marked_for_review,
        "time_spent_ms": response.time_spent_ms,
        "seq": response.seq,
        "saved_at": response.saved_at,
        "applied": result.applied,
        "adaptive": _adaptive_payload(result.adaptive),
    }


def _adaptive_payload(progress: dict[str, Any] | None) -> dict[str, Any] | None:
    if progress is None:
        return None
    current = progress["current"]
    return {
        "complete": progress["complete"],
        "answered": progress["answered"],
        "next_question": None
        if current is None
        else _learner_question(progress["section"], current, progress["number"], None, False),
    }


# The autosave's serializers, built once and shared by every request: building a
# serializer deep-copies its declared fields, which cost more than validating the few
# values of a save. Validating and representing keep no state on the instance, so this is
# exactly what ``is_valid(raise_exception=True)`` / ``.data`` do, errors included.
_SAVE_INPUT = s.ResponseSaveInputSerializer()
_SAVED_OUTPUT = s.SavedResponseSerializer()


# --- views ---------------------------------------------------------------------------------


class SessionStartView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @schema.session_start
    def post(self, request: AuthenticatedRequest, slug: str) -> Response:
        session, created = services.session_start(user=request.user, test_slug=slug)
        bind_log_context(exam_session_id=session.pk)
        # The service's row carries its test and every stored value: no re-read. A new
        # sitting has no saved answers yet, so its palette needs no query either.
        return Response(
            session_detail_payload(session, fresh=created),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class SessionViewSet(mixins.ListModelMixin, OwnedViewSet):
    """The learner's own exam sessions."""

    serializer_class = s.SessionListSerializer

    def get_owned_queryset(self) -> QuerySet[ExamSession]:
        return ExamSession.objects.select_related("test").order_by("-started_at", "-id")

    def _session(self, pk: UUID, *, finalize: bool = True) -> ExamSession:
        bind_log_context(exam_session_id=pk)
        session = self.get_queryset().filter(pk=pk).first()
        if session is None:
            raise SessionNotFound()
        if (
            finalize
            and session.status == ExamSession.Status.IN_PROGRESS
            and timezone.now() > session.deadline_at + services.grace()
        ):
            services.session_finalize_if_expired(session_id=session.pk)
            session = self.get_queryset().get(pk=pk)
        return session

    @schema.session_list
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @schema.session_detail
    def retrieve(self, request: Request, pk: UUID) -> Response:
        return Response(session_detail_payload(self._session(pk)))

    @schema.session_paper
    @action(detail=True, methods=["get"])
    def questions(self, request: Request, pk: UUID) -> Response:
        session = self._session(pk)
        policy.require_sitting_access(session)
        if session.status != ExamSession.Status.IN_PROGRESS:
            raise SessionClosed()
        return Response(_paper(session))

    @schema.response_save
    def save_response(self, request: AuthenticatedRequest, pk: UUID, question_id: int) -> Response:
        values = _SAVE_INPUT.run_validation(request.data)
        result = services.response_save(
            user=request.user, session_id=pk, question_id=int(question_id), **values
        )
        return Response(_SAVED_OUTPUT.to_representation(_saved_payload(result)))

    @schema.responses_save
    @action(detail=True, methods=["post"], url_path="responses")
    def responses(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        data = s.BatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.responses_save(
            user=request.user, session_id=pk, items=data.validated_data["responses"]
        )
        results = [_saved_payload(result) for result in saved]
        return Response(s.BatchResultSerializer({"results": results}).data)

    @schema.section_next
    @action(detail=True, methods=["post"], url_path="sections/next")
    def next_section(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        data = s.SectionAdvanceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.section_advance(
            user=request.user, session_id=pk, section_id=data.validated_data["section"]
        )
        return Response(session_detail_payload(self._session(pk, finalize=False)))

    @schema.session_submit
    @action(detail=True, methods=["post"])
    def submit(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        session = services.session_submit(user=request.user, session_id=pk)
        return Response(s.SubmitSummarySerializer(session).data)
