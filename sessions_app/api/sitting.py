"""The learner's sitting: start or resume, status and palette, the paper, autosave (one or a
batch), submit. Thin views over ``sessions_app.services``; every session URL is scoped to
the requesting learner (another learner's session is 404). No response ever carries the
answer key or explanations: results and review live in ``sessions_app.api.results``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.schema import error_response, errors, uuid_id_parameter
from core.api.views import OwnedViewSet
from core.request_context import bind_log_context
from sessions_app import policy, services, timing
from sessions_app.api import serializers as s
from sessions_app.errors import AnswerRejected, SessionClosed, SessionExpired, SessionNotFound
from sessions_app.models import ExamSession, SessionResponse
from testengine.models import Test
from testengine.paper import CENT
from testengine.scoring import answer_for_client

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

TAG = ["sessions"]

_SESSION_ID = uuid_id_parameter("The session's id.")
_QUESTION_ID = OpenApiParameter("question_id", int, OpenApiParameter.PATH)

_E401 = errors(401)[401]
ACCESS_ENDED = ("no_access", "Your access to this test has ended.")
E403_ACCESS_ENDED = error_response(
    403,
    ACCESS_ENDED,
    description="Access to the test was withdrawn (a refund or a revoke): the sitting is "
    "closed to you; or, for a sitting that is over, you may no longer sit its test.",
)
_E404_SESSION = error_response(404, ("not_found", "No such session."))
_E409_CLOSED = error_response(
    409, ("session_closed", "This session has been submitted; answers can no longer change.")
)
_E410_EXPIRED = error_response(
    410,
    (
        "session_expired",
        "Time is up: the session has been submitted with the answers saved until then.",
    ),
)
_E409_SECTION = (
    "section_locked",
    "Section “Quantitative aptitude” is over; its answers can no longer change.",
    {"question_id": ["Question 1042 is in a locked section."]},
)
_E409_NOT_OPEN = (
    "section_not_open",
    "This section has not started yet: finish the current section first.",
)
_E409_SAVE = error_response(
    409,
    ("session_closed", "This session has been submitted; answers can no longer change."),
    _E409_SECTION,
    (*_E409_NOT_OPEN, {"question_id": ["Question 1310 is in a later section."]}),
)
_E400_SAVE = error_response(
    400,
    (
        "not_current_question",
        "This test is sequential: only the current question can be answered, not an earlier one.",
        {"question_id": ["Answer question 988 (the current one)."]},
    ),
    (
        "invalid",
        "The answer does not fit the question.",
        {"answer": ["This question takes one choice."]},
    ),
    (
        "invalid",
        "The answer does not fit the question.",
        {"question_id": ["Question 7 is not in this paper."]},
    ),
    ("invalid", "Some fields are not valid.", {"seq": ["This field is required."]}),
)

_SAVE_EXAMPLES = [
    OpenApiExample(
        "Choice answer",
        value={
            "answer": {"choices": [311]},
            "marked_for_review": False,
            "time_spent_ms": 42000,
            "seq": 17,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Numeric answer, marked for review",
        value={
            "answer": {"value": 9.81},
            "marked_for_review": True,
            "time_spent_ms": 65000,
            "seq": 18,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Clear the answer",
        value={"answer": None, "marked_for_review": False, "time_spent_ms": 70000, "seq": 19},
        request_only=True,
    ),
]

_SAVED_EXAMPLE = {
    "question_id": 1042,
    "answer": {"choices": [311]},
    "marked_for_review": False,
    "time_spent_ms": 42000,
    "seq": 17,
    "saved_at": "2026-11-22T10:15:03.120Z",
    "applied": True,
}

_DETAIL_EXAMPLE = {
    "id": "5f0c3d9e-2b7a-4c61-9d8e-1a2b3c4d5e6f",
    "status": "in_progress",
    "test": {
        "slug": "django-orm-mock-1",
        "title": "Django ORM mock test 1",
        "navigation": "free",
        "duration_seconds": 3600,
    },
    "attempt": 1,
    "started_at": "2026-11-22T10:00:00Z",
    "deadline_at": "2026-11-22T11:00:00Z",
    "submitted_at": None,
    "submit_reason": "",
    "server_time": "2026-11-22T10:15:04Z",
    "remaining_seconds": 2696,
    "question_count": 3,
    "answered_count": 1,
    "current_section": None,
    "sections": [
        {
            "id": 7,
            "title": "ORM basics",
            "duration_seconds": None,
            "state": "open",
            "deadline_at": None,
            "remaining_seconds": None,
            "timed": False,
        },
        {
            "id": 8,
            "title": "Query optimisation",
            "duration_seconds": None,
            "state": "open",
            "deadline_at": None,
            "remaining_seconds": None,
            "timed": False,
        },
    ],
    "palette": [
        {"question_id": 1042, "section": 7, "number": 1, "state": "answered"},
        {"question_id": 988, "section": 7, "number": 2, "state": "marked_for_review"},
        {"question_id": 1310, "section": 8, "number": 3, "state": "not_visited"},
    ],
}


# --- building payloads -------------------------------------------------------------------------


def _paper_questions(paper: dict[str, Any]):
    """(section json, question json, 1-based number) in paper order."""
    number = 0
    for section in paper["sections"]:
        for question in section["questions"]:
            number += 1
            yield section, question, number


def _state(row: tuple[Any, bool] | None) -> str:
    if row is None:
        return "not_visited"
    answer, marked = row
    if answer is None:
        return "marked_for_review" if marked else "not_answered"
    return "answered_marked_for_review" if marked else "answered"


def _saved(session: ExamSession) -> dict[int, tuple[Any, bool]]:
    """The learner's saved state per question: one query."""
    return {
        question_id: (answer, marked)
        for question_id, answer, marked in SessionResponse.objects.filter(
            session_id=session.pk
        ).values_list("question_id", "answer", "marked_for_review")
    }


def _skeleton(session: ExamSession) -> dict[str, Any]:
    """What the status and palette read of the paper — sections and question ids in
    order: the paper when it is loaded, else its answer layout (the same keys; a sitting
    started on a prepared paper leaves the paper unloaded)."""
    return session.layout if "paper" in session.get_deferred_fields() else session.paper


def _sections(
    session: ExamSession, now: datetime, skeleton: dict[str, Any]
) -> tuple[list[dict[str, Any]], Any]:
    """Each section's state for the palette, and the current section's clock (None when
    the test is not sectionally timed: every section is then ``open``)."""
    clock = None
    if session.status == ExamSession.Status.IN_PROGRESS:
        clock = timing.session_clock(session, now=now, paper=skeleton)
    timed = timing.is_sectional(skeleton)
    sections = []
    for index, section in enumerate(skeleton["sections"]):
        if session.status != ExamSession.Status.IN_PROGRESS:
            state = "locked"
        elif clock is None:
            state = "open"
        else:
            state = (
                "locked"
                if index < clock.index
                else "current"
                if index == clock.index
                else "upcoming"
            )
        current = state == "current"
        sections.append(
            {
                "id": section["id"],
                "title": section["title"],
                "duration_seconds": section["duration_seconds"],
                "state": state,
                "deadline_at": clock.deadline_at if current else None,  # type: ignore[union-attr]
                "remaining_seconds": _remaining(clock.deadline_at, now) if current else None,  # type: ignore[union-attr]
                "timed": timed,
            }
        )
    return sections, clock


def _remaining(deadline: datetime, now: datetime) -> int:
    return max(0, int((deadline - now).total_seconds()))


def _decimal(value: str) -> str:
    """A paper's marks as the API's DecimalField (two places) writes them."""
    return format(Decimal(value).quantize(CENT), "f")


def _fast(
    serializer_class: type[serializers.Serializer], data: dict[str, Any], bulky: str
) -> dict[str, Any]:
    """``serializer_class(data).data`` without running the serializer over ``data[bulky]``,
    a long list (100 questions or palette entries) already built of plain ints and strings
    exactly as the serializer would give it (tests hold the two equal): DRF's per-field
    walk over a 100-question paper cost more than the rest of the request."""
    payload = serializer_class({**data, bulky: []}).data
    payload[bulky] = data[bulky]
    return payload


def _detail(session: ExamSession, *, fresh: bool = False) -> dict[str, Any]:
    """``fresh``: the sitting was created in this request (nothing saved yet)."""
    return _fast(s.SessionDetailSerializer, _detail_data(session, fresh=fresh), "palette")


def session_detail_payload(session: ExamSession, *, fresh: bool = False) -> dict[str, Any]:
    """``SessionDetailSerializer``'s payload for a session (its ``test`` selected): what
    starting a sitting answers, for other apps that start one (learning's practice).
    ``fresh``: created just now, so there are no saved answers to read."""
    return _detail(session, fresh=fresh)


SESSION_DETAIL_EXAMPLE = _DETAIL_EXAMPLE


def _detail_data(session: ExamSession, *, fresh: bool = False) -> dict[str, Any]:
    saved = {} if fresh else _saved(session)
    now = timezone.now()
    skeleton = _skeleton(session)
    sections, clock = _sections(session, now, skeleton)
    current = None
    if clock is not None and not clock.finished(skeleton["sections"]):
        current = skeleton["sections"][clock.index]["id"]
    palette = [
        {
            "question_id": question["id"],
            "section": section["id"],
            "number": number,
            "state": _state(saved.get(question["id"])),
        }
        for section, question, number in _paper_questions(skeleton)
    ]
    return {
        "id": session.id,
        "status": session.status,
        "test": session.test,
        "attempt": session.attempt,
        "started_at": session.started_at,
        "deadline_at": session.deadline_at,
        "submitted_at": session.submitted_at,
        "submit_reason": session.submit_reason,
        "server_time": now,
        "remaining_seconds": _remaining(session.deadline_at, now)
        if session.status == ExamSession.Status.IN_PROGRESS
        else 0,
        "question_count": session.question_count,
        "answered_count": sum(1 for answer, _ in saved.values() if answer is not None),
        "current_section": current,
        "sections": sections,
        "palette": palette,
    }


def _paper(session: ExamSession) -> dict[str, Any]:
    return _fast(s.SittingPaperSerializer, _paper_data(session), "questions")


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
    """The learner's view of the paper: safe fields only, with saved state. Sequential
    navigation stops at (and includes) the first question without a saved answer."""
    saved = _saved(session)
    adaptive_test = session.test.mode == Test.Mode.ADAPTIVE
    sequential = adaptive_test or session.test.navigation == Test.Navigation.SEQUENTIAL
    clock = timing.session_clock(session, now=timezone.now())
    only = None
    if clock is not None:
        sections = session.paper["sections"]
        only = sections[clock.index]["id"] if not clock.finished(sections) else -1
    questions = []
    for section, question, number in _paper_questions(session.paper):
        if only is not None and section["id"] != only:
            continue
        answer, marked = saved.get(question["id"], (None, False))
        if adaptive_test and answer is not None:
            continue  # an adaptive sitting shows the current item only
        questions.append(_learner_question(section["id"], question, number, answer, marked))
        if sequential and answer is None:
            break
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

    @extend_schema(
        tags=TAG,
        summary="Start a test, or resume the open session",
        description=(
            "Starts a new sitting (201) with a paper frozen at start and a fixed "
            "`deadline_at`, or returns the learner's open session of this test (200). "
            "`attempt_too_soon` carries `Retry-After` (seconds)."
        ),
        request=None,
        responses={
            201: s.SessionDetailSerializer,
            200: s.SessionDetailSerializer,
            401: _E401,
            403: error_response(
                403,
                (
                    "no_access",
                    "You do not have access to this test. Enroll in a product that contains it.",
                ),
            ),
            404: error_response(404, ("not_found", "No such test.")),
            409: error_response(
                409,
                ("attempts_exhausted", "You have used every attempt this test allows."),
                ("attempt_too_soon", "The next attempt opens at 2026-11-23T10:00:00+00:00."),
                ("test_not_open", "This test opens at 2026-12-01T04:30:00+00:00."),
                ("paper_unavailable", "A paper cannot be generated for this test."),
            ),
            410: error_response(410, ("test_closed", "This test has closed.")),
        },
        examples=[OpenApiExample("Session", value=_DETAIL_EXAMPLE, response_only=True)],
    )
    def post(self, request: AuthenticatedRequest, slug: str) -> Response:
        session, created = services.session_start(user=request.user, test_slug=slug)
        bind_log_context(exam_session_id=session.pk)
        # The service's row carries its test and every stored value: no re-read. A new
        # sitting has no saved answers yet, so its palette needs no query either.
        return Response(
            _detail(session, fresh=created),
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

    @extend_schema(
        tags=TAG,
        summary="My exam sessions",
        description="Newest first; `score` is null until the session is submitted.",
        responses={200: s.SessionListSerializer(many=True), 401: _E401},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary="Session status, clock and palette",
        description=(
            "`server_time` and `remaining_seconds` come from the server's clock. The palette "
            "lists every question in paper order with its state: `not_visited` (never "
            "saved), `not_answered`, `answered`, `marked_for_review`, "
            "`answered_marked_for_review`. A session past its deadline is finalized first."
        ),
        parameters=[_SESSION_ID],
        responses={
            200: s.SessionDetailSerializer,
            401: _E401,
            404: _E404_SESSION,
        },
        examples=[OpenApiExample("Session", value=_DETAIL_EXAMPLE, response_only=True)],
    )
    def retrieve(self, request: Request, pk: UUID) -> Response:
        return Response(_detail(self._session(pk)))

    @extend_schema(
        tags=TAG,
        summary="The paper",
        description=(
            "Sections and questions in the paper's frozen order (choices too), with the "
            "learner's saved `answer` and `marked_for_review` so a resumed client restores "
            "itself. Never the answer key or explanations. For tests with `navigation` "
            '"sequential", only the questions up to and including the first one without a '
            "saved answer are returned: save an answer to reveal the next. A submitted "
            "session answers 409 `session_closed` (see the result and review endpoints)."
        ),
        parameters=[_SESSION_ID],
        responses={
            200: s.SittingPaperSerializer,
            401: _E401,
            403: E403_ACCESS_ENDED,
            404: _E404_SESSION,
            409: _E409_CLOSED,
        },
    )
    @action(detail=True, methods=["get"])
    def questions(self, request: Request, pk: UUID) -> Response:
        session = self._session(pk)
        policy.require_sitting_access(session)
        if session.status != ExamSession.Status.IN_PROGRESS:
            raise SessionClosed()
        return Response(_paper(session))

    @extend_schema(
        tags=TAG,
        summary="Save one answer (autosave)",
        description=(
            "Idempotent and order-proof: a save whose `seq` is not above the stored one "
            "changes nothing and returns the stored state with `applied: false`. "
            "`answer: null` clears the answer. After the deadline (plus a short grace) the "
            "session is finalized and the save refused with 410."
        ),
        parameters=[_SESSION_ID, _QUESTION_ID],
        request=s.ResponseSaveInputSerializer,
        responses={
            200: s.SavedResponseSerializer,
            400: _E400_SAVE,
            401: _E401,
            403: E403_ACCESS_ENDED,
            404: _E404_SESSION,
            409: _E409_SAVE,
            410: _E410_EXPIRED,
        },
        examples=[
            *_SAVE_EXAMPLES,
            OpenApiExample("Saved", value=_SAVED_EXAMPLE, response_only=True),
        ],
    )
    def save_response(self, request: AuthenticatedRequest, pk: UUID, question_id: int) -> Response:
        values = _SAVE_INPUT.run_validation(request.data)
        result = services.response_save(
            user=request.user, session_id=pk, question_id=int(question_id), **values
        )
        return Response(_SAVED_OUTPUT.to_representation(_saved_payload(result)))

    @extend_schema(
        tags=TAG,
        summary="Save a batch of answers (offline sync)",
        description=(
            f"Up to {s.MAX_BATCH} saves, applied in order with the same rules as the single "
            "save. All or nothing: if any item is refused, none is saved (400 names the item, "
            "e.g. `responses.3.answer`)."
        ),
        parameters=[_SESSION_ID],
        request=s.BatchInputSerializer,
        responses={
            200: s.BatchResultSerializer,
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"responses": ["Ensure this field has no more than 200 elements."]},
                ),
                (
                    "invalid",
                    "The answer does not fit the question.",
                    {"responses.3.answer": ["Choice 99 is not a choice of this question."]},
                ),
            ),
            401: _E401,
            403: E403_ACCESS_ENDED,
            404: _E404_SESSION,
            409: _E409_SAVE,
            410: _E410_EXPIRED,
        },
        examples=[
            OpenApiExample(
                "Batch",
                value={
                    "responses": [
                        {
                            "question_id": 1042,
                            "answer": {"choices": [311]},
                            "marked_for_review": False,
                            "time_spent_ms": 42000,
                            "seq": 17,
                        },
                        {
                            "question_id": 988,
                            "answer": {"text": "select_related"},
                            "marked_for_review": True,
                            "time_spent_ms": 30500,
                            "seq": 18,
                        },
                    ]
                },
                request_only=True,
            ),
            OpenApiExample("Saved", value={"results": [_SAVED_EXAMPLE]}, response_only=True),
        ],
    )
    @action(detail=True, methods=["post"], url_path="responses")
    def responses(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        data = s.BatchInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session_id = pk
        results = []
        try:
            with transaction.atomic():
                for index, item in enumerate(data.validated_data["responses"]):
                    try:
                        result = services.response_save(
                            user=request.user, session_id=session_id, **item
                        )
                    except AnswerRejected as exc:
                        raise AnswerRejected(
                            exc.detail,
                            fields={
                                f"responses.{index}.{name}": messages
                                for name, messages in (exc.fields or {}).items()
                            },
                        ) from exc
                    results.append(_saved_payload(result))
        except SessionExpired:
            # The service finalized the session inside our (now rolled back) transaction.
            services.session_finalize_if_expired(session_id=session_id)
            raise
        return Response(s.BatchResultSerializer({"results": results}).data)

    @extend_schema(
        tags=TAG,
        summary="Move on to the next section",
        description=(
            "Sectionally timed tests only. Locks the current section (its answers can no "
            "longer change) and starts the next one's clock now; the session's "
            "`deadline_at` moves earlier when every remaining section is timed. Name the "
            "section being left: retrying the request is harmless. Time moves the learner "
            "on by itself, without this call. The last section is finished by submitting."
        ),
        parameters=[_SESSION_ID],
        request=s.SectionAdvanceInputSerializer,
        responses={
            200: s.SessionDetailSerializer,
            400: error_response(
                400,
                (
                    "invalid",
                    "No such section in this paper.",
                    {"section": ["Section 99 is not in this paper."]},
                ),
            ),
            401: _E401,
            403: E403_ACCESS_ENDED,
            404: _E404_SESSION,
            409: error_response(
                409,
                (
                    "session_closed",
                    "This session has been submitted; answers can no longer change.",
                ),
                _E409_NOT_OPEN,
                ("last_section", "This is the last section: submit the test to finish."),
                (
                    "not_sectional",
                    "This test has no sectional time limits; move between questions freely.",
                ),
            ),
            410: _E410_EXPIRED,
        },
        examples=[OpenApiExample("Leave section 7", value={"section": 7}, request_only=True)],
    )
    @action(detail=True, methods=["post"], url_path="sections/next")
    def next_section(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        data = s.SectionAdvanceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.section_advance(
            user=request.user, session_id=pk, section_id=data.validated_data["section"]
        )
        return Response(_detail(self._session(pk, finalize=False)))

    @extend_schema(
        tags=TAG,
        summary="Submit the session",
        description=(
            "Scores the session once; submitting again returns the same summary. A submit "
            "after the deadline is recorded at the deadline. Details: the result endpoint."
        ),
        parameters=[_SESSION_ID],
        request=None,
        responses={
            200: s.SubmitSummarySerializer,
            401: _E401,
            403: E403_ACCESS_ENDED,
            404: _E404_SESSION,
        },
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        session = services.session_submit(user=request.user, session_id=pk)
        return Response(s.SubmitSummarySerializer(session).data)
