"""Staff API of the test engine: topics, questions, tests, check, preview, publish."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Count, QuerySet
from django.db.models.deletion import ProtectedError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.schema import error_response, errors
from core.errors import Conflict
from testengine import services
from testengine.api import serializers as s
from testengine.api.permissions import StaffModelPermissions
from testengine.models import Question, Test, Topic
from testengine.paper import generate_paper, topic_subtree_ids
from testengine.services.questions import ChoiceData, QuestionData, question_data_from

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

TAG = ["testengine"]
_STAFF_ERRORS = {401: errors(401)[401], 403: errors(403)[403]}
_NOT_FOUND = error_response(404)
_QUESTION_INVALID = error_response(
    400,
    (
        "invalid",
        "The question is not valid.",
        {"choices": ["A single-choice question has exactly one correct choice (2 marked)."]},
    ),
    (
        "invalid",
        "The question is not valid.",
        {"numeric_answer": ["A numeric question needs its answer."]},
    ),
    (
        "invalid",
        "The question is not valid.",
        {"body_md": ["Remove the HTML that could run code ('<script'); use Markdown."]},
    ),
)
# Retiring a question, or moving it out of what a published test draws from, is refused
# while it would leave that test unable to build a paper.
_BREAKS_PUBLISHED = error_response(
    409,
    (
        "breaks_published_tests",
        "This change would leave published tests unable to build a paper.",
        {"tests": ["“SQL basics”: Section “SQL”: 5 easy from Joins needs 5, 4 available."]},
    ),
)
_UNFILLABLE = error_response(
    409,
    (
        "rules_unfillable",
        "The bank cannot fill every rule of this test.",
        {"rules": ["Section “SQL”: 25 hard from Indexes needs 25, 12 available."]},
    ),
)


def _validated(
    serializer_class: type[serializers.Serializer], request: Request, **kwargs: Any
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- topics -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        tags=TAG, summary="List topics", responses={200: s.TopicSerializer, **_STAFF_ERRORS}
    ),
    retrieve=extend_schema(
        tags=TAG,
        summary="Get a topic",
        responses={200: s.TopicSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    ),
)
class TopicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The subject → chapter → topic tree (flat list; ``parent`` links the nodes)."""

    permission_classes = [StaffModelPermissions]
    serializer_class = s.TopicSerializer
    queryset = Topic.objects.none()

    def get_queryset(self) -> QuerySet[Topic]:
        return Topic.objects.annotate(question_count=Count("questions")).order_by(
            "parent_id", "order", "name"
        )

    @extend_schema(
        tags=TAG,
        summary="Create a topic",
        request=s.TopicInputSerializer,
        responses={
            201: s.TopicSerializer,
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"slug": ["A topic with this slug already exists."]},
                ),
            ),
            **_STAFF_ERRORS,
        },
        examples=[
            OpenApiExample(
                "Create",
                value={"name": "Indexes", "slug": "sql-indexes", "parent": 3, "order": 2},
                request_only=True,
            )
        ],
    )
    def create(self, request: Request) -> Response:
        data = _validated(s.TopicInputSerializer, request)
        topic = services.topic_create(**data)
        return Response(self._out(topic), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG,
        summary="Change a topic",
        request=s.TopicInputSerializer,
        responses={200: s.TopicSerializer, 400: errors(400)[400], 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    def update(self, request: Request, pk: str) -> Response:
        topic = self.get_object()
        data = _validated(s.TopicInputSerializer, request)
        return Response(self._out(services.topic_update(topic=topic, **data)))

    @extend_schema(
        tags=TAG,
        summary="Change some fields of a topic",
        request=s.TopicInputSerializer,
        responses={200: s.TopicSerializer, 400: errors(400)[400], 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        topic = self.get_object()
        data = _validated(s.TopicInputSerializer, request, partial=True)
        return Response(self._out(services.topic_update(topic=topic, **data)))

    @extend_schema(
        tags=TAG,
        summary="Delete a topic",
        description="Only a topic without subtopics, questions or test rules can be deleted.",
        responses={
            204: None,
            404: _NOT_FOUND,
            409: error_response(
                409,
                (
                    "topic_in_use",
                    "This topic still has subtopics, questions or test rules; move them first.",
                ),
            ),
            **_STAFF_ERRORS,
        },
    )
    def destroy(self, request: Request, pk: str) -> Response:
        services.topic_delete(topic=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _out(self, topic: Topic) -> dict:
        return s.TopicSerializer(self.get_queryset().get(pk=topic.pk)).data


# --- questions -------------------------------------------------------------------------------


def _question_data(values: dict[str, Any]) -> QuestionData:
    return QuestionData(
        type=values["type"],
        topic=values["topic"],
        body_md=values["body_md"],
        explanation_md=values.get("explanation_md", ""),
        difficulty=values.get("difficulty", Question.Difficulty.MEDIUM),
        status=values.get("status", Question.Status.DRAFT),
        tags=tuple(values.get("tags", ())),
        marks=values["marks"],
        negative_marks=values["negative_marks"],
        numeric_answer=values.get("numeric_answer"),
        numeric_tolerance=values["numeric_tolerance"],
        tolerance_kind=values["tolerance_kind"],
        accepted_answers=tuple(values.get("accepted_answers", ())),
        choices=tuple(
            ChoiceData(id=c.get("id"), body_md=c["body_md"], is_correct=c["is_correct"])
            for c in values.get("choices", ())
        ),
        irt_a=values.get("irt_a"),
        irt_b=values.get("irt_b"),
        irt_c=values.get("irt_c"),
        external_id=values.get("external_id"),
    )


_QUESTION_EXAMPLE = {
    "type": "single",
    "topic": 7,
    "body_md": "Which HTTP status code means **Not Modified**?",
    "explanation_md": "`304` answers a conditional request whose cached copy is still fresh.",
    "difficulty": "easy",
    "status": "published",
    "tags": ["http", "caching"],
    "marks": "4.00",
    "negative_marks": "1.00",
    "choices": [
        {"body_md": "`200`", "is_correct": False},
        {"body_md": "`304`", "is_correct": True},
        {"body_md": "`404`", "is_correct": False},
        {"body_md": "`412`", "is_correct": False},
    ],
}


@extend_schema_view(
    list=extend_schema(
        tags=TAG,
        summary="List questions",
        parameters=[
            OpenApiParameter("topic", str, description="Topic slug (includes its subtopics)."),
            OpenApiParameter("difficulty", str, enum=Question.Difficulty.values),
            OpenApiParameter("status", str, enum=Question.Status.values),
            OpenApiParameter("type", str, enum=Question.Type.values),
            OpenApiParameter("tag", str, description="Questions carrying this tag."),
            OpenApiParameter("q", str, description="Full-text search in the question text."),
        ],
        responses={200: s.QuestionSerializer, **_STAFF_ERRORS},
    ),
    retrieve=extend_schema(
        tags=TAG,
        summary="Get a question with its choices and statistics",
        responses={200: s.QuestionSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    ),
)
class QuestionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The question bank. Answers and explanations are visible here: staff only."""

    permission_classes = [StaffModelPermissions]
    change_actions = ("publish", "retire")
    serializer_class = s.QuestionSerializer
    queryset = Question.objects.none()

    def get_queryset(self) -> QuerySet[Question]:
        queryset = (
            Question.objects.select_related("topic", "statistics")
            .prefetch_related("choices")
            .order_by("-created_at", "-id")
        )
        if self.action != "list":
            return queryset
        params = self.request.query_params
        if params.get("topic"):
            topic = Topic.objects.filter(slug=params["topic"]).first()
            if topic is None:
                return queryset.none()
            queryset = queryset.filter(topic_id__in=topic_subtree_ids([topic.pk])[topic.pk])
        for name in ("difficulty", "status", "type"):
            if params.get(name):
                queryset = queryset.filter(**{name: params[name]})
        if params.get("tag"):
            queryset = queryset.filter(tags__contains=[params["tag"].strip().lower()])
        # A NUL byte can never be in a question and PostgreSQL refuses it in a query.
        text = params.get("q", "").replace("\x00", "").strip()
        if text:
            queryset = queryset.annotate(search=SearchVector("body_md", config="english")).filter(
                search=SearchQuery(text, config="english", search_type="websearch")
            )
        return queryset

    @extend_schema(
        tags=TAG,
        summary="Create a question",
        description=(
            "Body, explanation and choices are Markdown, rendered to sanitised HTML. A "
            "question that cannot be marked correctly (single choice with 0 or 2 correct, "
            "numeric without answer, text without accepted answers, script-capable HTML) "
            "is refused with field errors and nothing is saved."
        ),
        request=s.QuestionInputSerializer,
        responses={201: s.QuestionSerializer, 400: _QUESTION_INVALID, **_STAFF_ERRORS},
        examples=[OpenApiExample("Single choice", value=_QUESTION_EXAMPLE, request_only=True)],
    )
    def create(self, request: AuthenticatedRequest) -> Response:
        values = _validated(s.QuestionInputSerializer, request)
        question = services.question_create(data=_question_data(values), by=request.user)
        return Response(self._out(question), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG,
        summary="Replace a question",
        description=(
            "Send choices with their `id` to keep them; choices left out are removed. "
            "Papers already generated keep the version they were given; a change to what "
            "learners see bumps `version`."
        ),
        request=s.QuestionInputSerializer,
        responses={
            200: s.QuestionSerializer,
            400: _QUESTION_INVALID,
            404: _NOT_FOUND,
            409: _BREAKS_PUBLISHED,
            **_STAFF_ERRORS,
        },
    )
    def update(self, request: Request, pk: str) -> Response:
        question = self.get_object()
        values = _validated(s.QuestionInputSerializer, request)
        question = services.question_update(question=question, data=_question_data(values))
        return Response(self._out(question))

    @extend_schema(
        tags=TAG,
        summary="Change some fields of a question",
        request=s.QuestionInputSerializer,
        responses={
            200: s.QuestionSerializer,
            400: _QUESTION_INVALID,
            404: _NOT_FOUND,
            409: _BREAKS_PUBLISHED,
            **_STAFF_ERRORS,
        },
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        question = self.get_object()
        current = question_data_from(question)
        serializer = s.QuestionInputSerializer(data=request.data, patch=True)
        serializer.is_valid(raise_exception=True)
        changes = {
            key: value for key, value in serializer.validated_data.items() if key in request.data
        }
        merged = {
            **{name: getattr(current, name) for name in current.__dataclass_fields__},
            **changes,
        }
        if "choices" not in changes:
            merged["choices"] = [
                {"id": c.id, "body_md": c.body_md, "is_correct": c.is_correct}
                for c in current.choices
            ]
        question = services.question_update(question=question, data=_question_data(merged))
        return Response(self._out(question))

    @extend_schema(
        tags=TAG,
        summary="Delete a draft question",
        description="Published or retired questions may be in papers: retire them instead.",
        responses={
            204: None,
            404: _NOT_FOUND,
            409: error_response(
                409, ("question_in_use", "Only draft questions can be deleted; retire it instead.")
            ),
            **_STAFF_ERRORS,
        },
    )
    def destroy(self, request: Request, pk: str) -> Response:
        question = self.get_object()
        if question.status != Question.Status.DRAFT:
            raise Conflict(
                "Only draft questions can be deleted; retire it instead.", code="question_in_use"
            )
        try:
            question.delete()
        except ProtectedError as exc:  # a fixed test lists it
            raise Conflict(
                "A test lists this question; remove it from the test first.",
                code="question_in_use",
            ) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=TAG,
        summary="Publish a question",
        request=None,
        responses={200: s.QuestionSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self._set_status(Question.Status.PUBLISHED)

    @extend_schema(
        tags=TAG,
        summary="Retire a question",
        description=(
            "Retired questions are never drawn into new papers; old papers keep them. "
            "Refused (409) while a published test needs the question to build a paper."
        ),
        request=None,
        responses={
            200: s.QuestionSerializer,
            404: _NOT_FOUND,
            409: _BREAKS_PUBLISHED,
            **_STAFF_ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str) -> Response:
        return self._set_status(Question.Status.RETIRED)

    def _set_status(self, new_status: str) -> Response:
        question = self.get_object()
        services.question_set_status(questions=[question], status=new_status)
        return Response(self._out(question))

    def _out(self, question: Question) -> dict:
        return s.QuestionSerializer(self.get_queryset().get(pk=question.pk)).data


# --- tests -------------------------------------------------------------------------------------


def _sections(values: list[dict[str, Any]] | None) -> list[dict[str, Any]] | None:
    return None if values is None else [dict(section) for section in values]


_TEST_EXAMPLE = {
    "title": "Backend engineering mock test",
    "slug": "backend-mock-1",
    "mode": "random",
    "duration_seconds": 10800,
    "max_attempts": 3,
    "attempt_policy": "highest",
    "pass_mark_percent": "40.00",
    "shuffle_questions": True,
    "shuffle_choices": True,
    "solution_policy": "after_submit",
    "sections": [
        {
            "title": "SQL",
            "marking": "fixed",
            "correct_marks": "4",
            "wrong_penalty": "1",
            "rules": [{"topic": 12, "difficulty": "medium", "count": 20}],
        },
        {
            "title": "HTTP",
            "marking": "fraction",
            "negative_fraction": "0.3333",
            "duration_seconds": 1800,
            "rules": [{"topic": 3, "count": 25, "tags": ["caching"]}],
        },
    ],
}


@extend_schema_view(
    list=extend_schema(
        tags=TAG, summary="List tests", responses={200: s.TestListSerializer, **_STAFF_ERRORS}
    ),
    retrieve=extend_schema(
        tags=TAG,
        summary="Get a test with its sections, rules and questions",
        responses={200: s.TestSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    ),
)
class TestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tests and their blueprints (staff)."""

    permission_classes = [StaffModelPermissions]
    change_actions = ("publish", "unpublish")
    lookup_field = "slug"
    queryset = Test.objects.none()

    def get_serializer_class(self):
        return s.TestListSerializer if self.action == "list" else s.TestSerializer

    def get_queryset(self) -> QuerySet[Test]:
        staff_tests = Test.objects.filter(practice_owner__isnull=True)  # not learners' practice
        if self.action == "list":
            return staff_tests.annotate(section_count=Count("sections")).order_by("-created_at")
        return staff_tests.prefetch_related("sections__rules", "sections__fixed_questions")

    @extend_schema(
        tags=TAG,
        summary="Create a test",
        description=(
            "Created unpublished. `sections` carry `rules` (random mode) or `questions` "
            "(fixed mode). Marking per section: `question` (each question's marks), "
            "`fixed` (+`correct_marks` / −`wrong_penalty`, JEE style) or `fraction` "
            "(penalty = `negative_fraction` × marks, GATE style)."
        ),
        request=s.TestInputSerializer,
        responses={
            201: s.TestSerializer,
            400: error_response(
                400,
                (
                    "invalid",
                    "The test is not valid.",
                    {
                        "sections.0.correct_marks": [
                            "Fixed marking needs the marks for a correct answer."
                        ]
                    },
                ),
            ),
            **_STAFF_ERRORS,
        },
        examples=[OpenApiExample("Random mock test", value=_TEST_EXAMPLE, request_only=True)],
    )
    def create(self, request: AuthenticatedRequest) -> Response:
        values = dict(_validated(s.TestInputSerializer, request))
        sections = _sections(values.pop("sections", []))
        test = services.test_create(values=values, sections=sections or [], by=request.user)
        return Response(self._out(test), status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=TAG,
        summary="Change a test",
        description=(
            "Fields not sent keep their values; `sections`, when sent, replaces all "
            "sections. Papers already generated do not change. A published test must stay "
            "fillable (409 otherwise)."
        ),
        request=s.TestInputSerializer,
        responses={
            200: s.TestSerializer,
            400: errors(400)[400],
            404: _NOT_FOUND,
            409: _UNFILLABLE,
            **_STAFF_ERRORS,
        },
    )
    def partial_update(self, request: Request, slug: str) -> Response:
        test = self.get_object()
        values = dict(_validated(s.TestInputSerializer, request, patch=True))
        sections = _sections(values.pop("sections", None))
        return Response(
            self._out(services.test_update(test=test, values=values, sections=sections))
        )

    @extend_schema(
        tags=TAG,
        summary="Delete an unpublished test",
        responses={
            204: None,
            404: _NOT_FOUND,
            409: error_response(
                409,
                ("test_published", "Unpublish the test before deleting it."),
                ("test_in_use", "A product grants this test; remove it from the product first."),
            ),
            **_STAFF_ERRORS,
        },
    )
    def destroy(self, request: Request, slug: str) -> Response:
        test = self.get_object()
        if test.is_published:
            raise Conflict("Unpublish the test before deleting it.", code="test_published")
        try:
            test.delete()
        except ProtectedError as exc:  # a product grants it
            raise Conflict(
                "A product grants this test; remove it from the product first.",
                code="test_in_use",
            ) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        tags=TAG,
        summary="Can every rule be filled?",
        description=(
            "For each rule: how many published questions match versus how many it needs; "
            "`problems` also catches rules that overlap and starve each other."
        ),
        responses={200: s.CheckReportSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
        examples=[
            OpenApiExample(
                "Short",
                value={
                    "ok": False,
                    "problems": [],
                    "rules": [
                        {
                            "section_id": 4,
                            "section": "SQL",
                            "rule_id": 9,
                            "rule": "25 hard from Indexes",
                            "needed": 25,
                            "available": 12,
                            "ok": False,
                        }
                    ],
                },
                response_only=True,
            )
        ],
    )
    @action(detail=True, methods=["get"])
    def check(self, request: Request, slug: str) -> Response:
        report = services.test_check(test=self.get_object())
        return Response(report.as_dict())

    @extend_schema(
        tags=TAG,
        summary="A sample paper (with answers, for staff)",
        parameters=[
            OpenApiParameter(
                "seed", OpenApiTypes.INT, description="Same seed, same paper; random if absent."
            )
        ],
        responses={
            200: s.PaperPreviewSerializer,
            400: error_response(
                400, ("invalid", "Some fields are not valid.", {"seed": ["Enter a whole number."]})
            ),
            404: _NOT_FOUND,
            409: error_response(
                409,
                (
                    "paper_unavailable",
                    "Section 4: not enough published questions match (12 of 25).",
                ),
            ),
            **_STAFF_ERRORS,
        },
    )
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, slug: str) -> Response:
        test = self.get_object()
        raw_seed = request.query_params.get("seed")
        if raw_seed is None:
            seed = secrets.randbelow(2**31)
        else:
            try:
                seed = int(raw_seed)
            except ValueError:
                raise ValidationError({"seed": ["Enter a whole number."]}) from None
        paper = generate_paper(test, seed)
        body = paper.to_json()
        body["question_count"] = len(paper.questions)
        body["max_score"] = str(paper.max_score)
        return Response(s.PaperPreviewSerializer(body).data)

    @extend_schema(
        tags=TAG,
        summary="Publish a test",
        description="Refused with the shortfall report when the bank cannot fill every rule.",
        request=None,
        responses={200: s.TestSerializer, 404: _NOT_FOUND, 409: _UNFILLABLE, **_STAFF_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.test_publish(test=self.get_object())))

    @extend_schema(
        tags=TAG,
        summary="Unpublish a test",
        request=None,
        responses={200: s.TestSerializer, 404: _NOT_FOUND, **_STAFF_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.test_unpublish(test=self.get_object())))

    def _out(self, test: Test) -> dict:
        fresh = Test.objects.prefetch_related("sections__rules", "sections__fixed_questions").get(
            pk=test.pk
        )
        return s.TestSerializer(fresh).data
