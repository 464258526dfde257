"""The learning API: my mastery, my recommendations, a personal practice sitting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.api.schema import error_response, errors
from core.api.views import OwnedViewSet
from learning import selectors, services
from learning.api import serializers as s
from learning.models import TopicMastery
from learning.recommenders import get_recommender
from sessions_app.api.serializers import SessionDetailSerializer
from sessions_app.api.sitting import SESSION_DETAIL_EXAMPLE, session_detail_payload
from sessions_app.models import ExamSession

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

TAG = ["learning"]


class PracticeThrottle(UserRateThrottle):
    scope = "practice"


def _mastery_payload(row: TopicMastery) -> dict[str, Any]:
    return {
        "topic": {"id": row.topic_id, "name": row.topic.name, "slug": row.topic.slug},
        "mastery": row.mastery,
        "confidence": row.confidence,
        "theta": round(row.theta, 4),
        "se": round(row.se, 4),
        "responses": row.responses,
        "correct": row.correct,
        "updated_at": row.updated_at,
    }


_MASTERY_EXAMPLE = {
    "topic": {"id": 12, "name": "Joins", "slug": "sql-joins"},
    "mastery": 0.3318,
    "confidence": 0.4512,
    "theta": -0.7,
    "se": 0.5488,
    "responses": 14,
    "correct": 4,
    "updated_at": "2026-11-22T10:31:02Z",
}
_RECOMMENDATION_EXAMPLE = {
    **_MASTERY_EXAMPLE,
    "reason": "4 of 14 answers correct (mastery 33%): one of your weakest topics — practise it.",
    "tests": [
        {
            "slug": "sql-mock-1",
            "title": "SQL mock test 1",
            "mode": "random",
            "duration_seconds": 1800,
        }
    ],
}


class MasteryViewSet(mixins.ListModelMixin, OwnedViewSet):
    """The learner's per-topic mastery."""

    serializer_class = s.MasterySerializer

    def get_owned_queryset(self) -> QuerySet[TopicMastery]:
        return TopicMastery.objects.select_related("topic")

    @extend_schema(
        tags=TAG,
        summary="My mastery per topic",
        description=(
            "Every topic you have scored answers on, with `mastery` (the chance of a right "
            "answer to an average question, 0–1), `confidence` (1 − SE), the ability "
            "estimate θ̂ and its standard error, and the answers counted; updated in the "
            "background after each scored sitting. `order`: `weakest` (default, lowest θ̂ "
            "first), `strongest`, `least_confident`, `recent`, `topic` (by name). The "
            "model: docs/learning.md."
        ),
        parameters=[
            OpenApiParameter(
                "order", str, enum=list(selectors.ORDERINGS), description="Default `weakest`."
            )
        ],
        responses={
            200: s.MasterySerializer(many=True),
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"order": ['"best" is not a valid choice.']},
                ),
            ),
            **errors(401),
        },
        examples=[OpenApiExample("A topic", value=_MASTERY_EXAMPLE, response_only=True)],
    )
    def list(self, request: Request) -> Response:
        query = s.MasteryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = self.get_queryset().order_by(*selectors.ORDERINGS[query.validated_data["order"]])
        page = self.paginate_queryset(rows)
        data = s.MasterySerializer([_mastery_payload(row) for row in page], many=True).data  # type: ignore[union-attr]  # paginated
        return self.get_paginated_response(data)


class RecommendationsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=TAG,
        summary="What to work on next",
        description=(
            "Your weakest topics first — low mastery with enough answers to be sure, then "
            "topics with too few answers to judge — each with a short reason and the tests "
            "of your live enrollments that cover it (most focused first). Mastered topics "
            "are left out. The recommender is a plug-in (`LEARNING_RECOMMENDER`)."
        ),
        parameters=[OpenApiParameter("limit", int, description="How many topics (1–20, 5).")],
        responses={
            200: s.RecommendationSerializer(many=True),
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"limit": ["Ensure this value is less than or equal to 20."]},
                ),
            ),
            **errors(401),
        },
        examples=[OpenApiExample("A topic", value=[_RECOMMENDATION_EXAMPLE], response_only=True)],
    )
    def get(self, request: AuthenticatedRequest) -> Response:
        query = s.RecommendationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = list(selectors.mastery_of(user=request.user))
        mastery = {row.topic_id: row for row in rows}
        plain = selectors.mastery_rows_from(rows)
        tests = selectors.candidate_tests(user=request.user, now=timezone.now())
        by_slug = {test.slug: test for test in tests}
        found = get_recommender().recommend(plain, tests, limit=query.validated_data["limit"])
        body = []
        seen: set[int] = set()
        for item in found[: query.validated_data["limit"]]:
            row = mastery.get(item.topic_id)
            if row is None or item.topic_id in seen:
                continue  # a plug-in's answer is checked, not trusted
            seen.add(item.topic_id)
            body.append(
                {
                    **_mastery_payload(row),
                    "reason": item.reason,
                    "tests": [
                        {
                            "slug": test.slug,
                            "title": test.title,
                            "mode": test.mode,
                            "duration_seconds": test.duration_seconds,
                        }
                        for test in (by_slug.get(slug) for slug in dict.fromkeys(item.tests))
                        if test is not None and item.topic_id in test.topic_ids
                    ],
                }
            )
        return Response(s.RecommendationSerializer(body, many=True).data)


class PracticeView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    throttle_classes = [PracticeThrottle]

    @extend_schema(
        tags=TAG,
        summary="Start a personal practice session",
        description=(
            "Creates a practice test just for you — `questions` questions (1–50, default "
            "10) drawn from `topics` (default: your three weakest), split evenly, weakest "
            "first, leaving out questions you saw in the last `PRACTICE_FRESH_DAYS` days "
            "(14) while enough others exist — and starts it. Sit it through the usual "
            "session endpoints (`sessions/{id}/…`): untimed practice has seven days, timed "
            "practice `minutes` (default 1.5 per question). Solutions show after you "
            "submit; practice is never ranked and nobody else sees it. Nothing is created "
            "when the request is refused."
        ),
        request=s.PracticeInputSerializer,
        responses={
            201: SessionDetailSerializer,
            400: error_response(
                400,
                ("invalid", "Some fields are not valid.", {"topics": ["Unknown topic: 99."]}),
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"questions": ["Ensure this value is less than or equal to 50."]},
                ),
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"minutes": ["Only for timed practice."]},
                ),
            ),
            401: errors(401)[401],
            409: error_response(
                409,
                (
                    "not_enough_questions",
                    "The question bank does not have enough questions for this practice.",
                    {"topics": ["“Joins” has 3 published question(s); 5 needed."]},
                ),
                (
                    "no_mastery_yet",
                    "We do not know your weak topics yet: sit a test first, or name the topics.",
                ),
            ),
            429: errors(429)[429],
        },
        examples=[
            OpenApiExample(
                "Ten untimed questions on my weakest topics", value={}, request_only=True
            ),
            OpenApiExample(
                "Timed, two topics",
                value={"topics": [12, 17], "questions": 20, "timed": True, "minutes": 25},
                request_only=True,
            ),
            OpenApiExample("Session", value=SESSION_DETAIL_EXAMPLE, response_only=True),
        ],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = s.PracticeInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        session = services.practice_create(
            user=request.user,
            topic_ids=values.get("topics"),
            questions=values["questions"],
            timed=values["timed"],
            minutes=values.get("minutes"),
        )
        session = ExamSession.objects.select_related("test").get(pk=session.pk)
        return Response(session_detail_payload(session), status=status.HTTP_201_CREATED)
