"""OpenAPI documentation of the learning API (``learning.api.views``): one decorator per
operation, applied on the view as ``@schema.<name>``. Error responses are declared with the
errors each operation raises (core.api.schema.error_responses)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError

from core.api.schema import error_responses
from learning import selectors
from learning.api import serializers as s
from learning.errors import NotEnoughQuestions, NoWeakTopics, PracticeInvalid
from sessions_app.detail import SESSION_DETAIL_EXAMPLE, SessionDetailSerializer

TAG = ["learning"]

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

mastery_list = extend_schema(
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
        **error_responses(ValidationError({"order": ['"best" is not a valid choice.']}), 401),
    },
    examples=[OpenApiExample("A topic", value=_MASTERY_EXAMPLE, response_only=True)],
)

recommendations = extend_schema(
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
        **error_responses(
            ValidationError({"limit": ["Ensure this value is less than or equal to 20."]}), 401
        ),
    },
    examples=[OpenApiExample("A topic", value=[_RECOMMENDATION_EXAMPLE], response_only=True)],
)

practice_start = extend_schema(
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
        **error_responses(
            PracticeInvalid(fields={"topics": ["Unknown topic: 99."]}),
            ValidationError({"questions": ["Ensure this value is less than or equal to 50."]}),
            ValidationError({"minutes": ["Only for timed practice."]}),
            401,
            NotEnoughQuestions(
                fields={"topics": ["“Joins” has 3 published question(s); 5 needed."]}
            ),
            NoWeakTopics,
            429,
        ),
    },
    examples=[
        OpenApiExample("Ten untimed questions on my weakest topics", value={}, request_only=True),
        OpenApiExample(
            "Timed, two topics",
            value={"topics": [12, 17], "questions": 20, "timed": True, "minutes": 25},
            request_only=True,
        ),
        OpenApiExample("Session", value=SESSION_DETAIL_EXAMPLE, response_only=True),
    ],
)
