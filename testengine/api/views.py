"""Staff API of the test engine: topics, questions, tests, check, preview, publish."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import Count, QuerySet
from django.db.models.deletion import ProtectedError
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.permissions import StaffModelPermissions
from core.api.serializers import validated_input
from testengine import services
from testengine.api import schema
from testengine.api import serializers as s
from testengine.errors import QuestionInUse, QuestionNotDraft, TestInUse, TestPublished
from testengine.models import Question, Test, Topic
from testengine.paper import generate_paper
from testengine.selectors import topic_subtree_ids
from testengine.services.questions import ChoiceData, QuestionData, question_data_from

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

# Retiring a question, or moving it out of what a published test draws from, is refused
# while it would leave that test unable to build a paper.


# --- topics -----------------------------------------------------------------------------------


@schema.topics
class TopicViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The subject → chapter → topic tree (flat list; ``parent`` links the nodes)."""

    permission_classes = [StaffModelPermissions]
    serializer_class = s.TopicSerializer
    queryset = Topic.objects.none()

    def get_queryset(self) -> QuerySet[Topic]:
        return Topic.objects.annotate(question_count=Count("questions")).order_by(
            "parent_id", "order", "name"
        )

    @schema.topic_create
    def create(self, request: Request) -> Response:
        data = validated_input(s.TopicInputSerializer, request)
        topic = services.topic_create(**data)
        return Response(self._out(topic), status=status.HTTP_201_CREATED)

    @schema.topic_update
    def update(self, request: Request, pk: str) -> Response:
        topic = self.get_object()
        data = validated_input(s.TopicInputSerializer, request)
        return Response(self._out(services.topic_update(topic=topic, **data)))

    @schema.topic_partial_update
    def partial_update(self, request: Request, pk: str) -> Response:
        topic = self.get_object()
        data = validated_input(s.TopicInputSerializer, request, partial=True)
        return Response(self._out(services.topic_update(topic=topic, **data)))

    @schema.topic_delete
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


@schema.questions
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

    @schema.question_create
    def create(self, request: AuthenticatedRequest) -> Response:
        values = validated_input(s.QuestionInputSerializer, request)
        question = services.question_create(data=_question_data(values), by=request.user)
        return Response(self._out(question), status=status.HTTP_201_CREATED)

    @schema.question_update
    def update(self, request: Request, pk: str) -> Response:
        question = self.get_object()
        values = validated_input(s.QuestionInputSerializer, request)
        question = services.question_update(question=question, data=_question_data(values))
        return Response(self._out(question))

    @schema.question_partial_update
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

    @schema.question_delete
    def destroy(self, request: Request, pk: str) -> Response:
        question = self.get_object()
        if question.status != Question.Status.DRAFT:
            raise QuestionNotDraft()
        try:
            question.delete()
        except ProtectedError as exc:  # a fixed test lists it
            raise QuestionInUse() from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @schema.question_publish
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self._set_status(Question.Status.PUBLISHED)

    @schema.question_retire
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


@schema.tests
class TestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Tests and their blueprints (staff)."""

    permission_classes = [StaffModelPermissions]
    change_actions = ("publish", "unpublish")
    lookup_field = "slug"
    queryset = Test.objects.none()

    def get_serializer_class(self):
        return s.TestListSerializer if self.action == "list" else s.TestSerializer

    def get_queryset(self) -> QuerySet[Test]:
        staff_tests = Test.objects.curated()  # not learners' practice
        if self.action == "list":
            return staff_tests.annotate(section_count=Count("sections")).order_by("-created_at")
        return staff_tests.prefetch_related("sections__rules", "sections__fixed_questions")

    @schema.test_create
    def create(self, request: AuthenticatedRequest) -> Response:
        values = dict(validated_input(s.TestInputSerializer, request))
        sections = _sections(values.pop("sections", []))
        test = services.test_create(values=values, sections=sections or [], by=request.user)
        return Response(self._out(test), status=status.HTTP_201_CREATED)

    @schema.test_update
    def partial_update(self, request: Request, slug: str) -> Response:
        test = self.get_object()
        values = dict(validated_input(s.TestInputSerializer, request, patch=True))
        sections = _sections(values.pop("sections", None))
        return Response(
            self._out(services.test_update(test=test, values=values, sections=sections))
        )

    @schema.test_delete
    def destroy(self, request: Request, slug: str) -> Response:
        test = self.get_object()
        if test.is_published:
            raise TestPublished()
        try:
            test.delete()
        except ProtectedError as exc:  # a product grants it
            raise TestInUse() from exc
        return Response(status=status.HTTP_204_NO_CONTENT)

    @schema.test_check
    @action(detail=True, methods=["get"])
    def check(self, request: Request, slug: str) -> Response:
        report = services.test_check(test=self.get_object())
        return Response(report.as_dict())

    @schema.test_preview
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

    @schema.test_publish
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.test_publish(test=self.get_object())))

    @schema.test_unpublish
    @action(detail=True, methods=["post"])
    def unpublish(self, request: Request, slug: str) -> Response:
        return Response(self._out(services.test_unpublish(test=self.get_object())))

    def _out(self, test: Test) -> dict:
        fresh = Test.objects.prefetch_related("sections__rules", "sections__fixed_questions").get(
            pk=test.pk
        )
        return s.TestSerializer(fresh).data
