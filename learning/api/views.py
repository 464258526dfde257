"""The learning API: my mastery, my recommendations, a personal practice sitting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from rest_framework import mixins, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from core.api.views import OwnedViewSet
from learning import selectors, services
from learning.api import schema
from learning.api import serializers as s
from learning.models import TopicMastery
from learning.recommenders import get_recommender
from sessions_app.detail import session_detail_payload
from sessions_app.models import ExamSession

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


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


class MasteryViewSet(mixins.ListModelMixin, OwnedViewSet):
    """The learner's per-topic mastery."""

    serializer_class = s.MasterySerializer

    def get_owned_queryset(self) -> QuerySet[TopicMastery]:
        return TopicMastery.objects.select_related("topic")

    @schema.mastery_list
    def list(self, request: Request) -> Response:
        query = s.MasteryQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = self.get_queryset().order_by(*selectors.ORDERINGS[query.validated_data["order"]])
        page = self.paginate_queryset(rows)
        data = s.MasterySerializer([_mastery_payload(row) for row in page], many=True).data  # type: ignore[union-attr]  # paginated
        return self.get_paginated_response(data)


class RecommendationsView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @schema.recommendations
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

    @schema.practice_start
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
