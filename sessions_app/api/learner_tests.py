"""The learner's tests: ``GET tests/`` (what I may sit) and ``GET tests/{slug}/``.

Access is the catalogue's rule (``catalogue.selectors.accessible_tests``), as one queryset
so a learner with many enrollments costs the same few queries as one with none. Whether a
test can be started is ``policy.start_refusal``, the rule starting itself applies, so
``reason`` is the code that starting would answer. Nothing here reads questions:
no answer key, no explanation can leak.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict
from uuid import UUID

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from catalogue.selectors import accessible_tests, question_counts
from core.api.schema import error_response, errors
from sessions_app import policy
from sessions_app.errors import (
    AttemptsExhausted,
    AttemptTooSoon,
    TestClosed,
    TestNotFound,
    TestNotOpen,
)
from sessions_app.models import AttemptOverride, ExamSession
from sessions_app.services import grace
from testengine.errors import PaperUnavailable
from testengine.models import Section, SectionQuestion, SectionRule, Test

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from accounts.authentication import AuthenticatedRequest
    from accounts.models import User

    class _Standing(TypedDict):
        attempts_used: int
        extra_attempts: int
        last_ended_at: datetime | None
        open_session: UUID | None
        has_submitted: bool

    # A test as learner_tests() annotates it with the learner's standing.
    LearnerTest = WithAnnotations[Test, _Standing]

TAG = ["sessions"]
_DEC: dict[str, Any] = {"max_digits": 10, "decimal_places": 2}

REASONS = [
    PaperUnavailable.code,
    TestNotOpen.code,
    TestClosed.code,
    AttemptsExhausted.code,
    AttemptTooSoon.code,
]
STATUS_FILTERS = ["open", "available", "completed"]


# --- reads -----------------------------------------------------------------------------------


def learner_tests(*, user: User, now: datetime) -> QuerySet[LearnerTest]:
    """Accessible tests annotated with the learner's sitting state (one query): attempts
    used, extra attempts granted, when the latest attempt ended, the resumable session."""
    mine = ExamSession.objects.filter(user=user, test_id=OuterRef("pk"))
    used = mine.order_by().values("test_id").annotate(n=Count("id")).values("n")
    extra = AttemptOverride.objects.filter(user=user, test_id=OuterRef("pk")).values(
        "extra_attempts"
    )
    last_end = (
        mine.order_by("-attempt")
        .annotate(end=Coalesce("submitted_at", "deadline_at"))
        .values("end")[:1]
    )
    resumable = mine.filter(
        status=ExamSession.Status.IN_PROGRESS, deadline_at__gte=now - grace()
    ).values("id")[:1]
    return (
        accessible_tests(user=user, now=now)
        .annotate(
            attempts_used=Coalesce(Subquery(used, output_field=IntegerField()), 0),
            extra_attempts=Coalesce(Subquery(extra, output_field=IntegerField()), 0),
            last_ended_at=Subquery(last_end, output_field=DateTimeField()),
            open_session=Subquery(resumable),
            has_submitted=Exists(mine.filter(status=ExamSession.Status.SUBMITTED)),
        )
        .defer("instructions_md", "adaptive_config")
        .order_by("-published_at", "-id")
    )


def filter_status(
    tests: QuerySet[LearnerTest], status: str, *, now: datetime
) -> list[LearnerTest] | QuerySet[LearnerTest]:
    """``open``: a session to resume; ``completed``: a submitted attempt; ``available``:
    ``can_start`` is true — decided by the start rule itself (``policy.start_refusal``)
    over the learner's tests, never by a second copy of it in SQL."""
    if status == "open":
        return tests.filter(open_session__isnull=False)
    if status == "completed":
        return tests.filter(has_submitted=True)
    return [test for test in tests if _refusal(test, now=now) is None]


def _refusal(test: LearnerTest, *, now: datetime) -> policy.Refusal | None:
    return policy.start_refusal(
        test,
        attempts_used=test.attempts_used,
        extra_attempts=test.extra_attempts,
        last_ended_at=test.last_ended_at,
        resumable=test.open_session is not None,
        now=now,
    )


def sitting_state(test: LearnerTest, *, now: datetime) -> dict[str, Any]:
    """May the learner start (or resume) ``test`` now, and if not, the code
    ``session_start`` would refuse with (the same rule: ``policy.start_refusal``).
    ``test`` carries :func:`learner_tests`' annotations."""
    refusal = _refusal(test, now=now)
    return {
        "attempts_used": test.attempts_used,
        "attempts_left": policy.attempts_left(
            test, attempts_used=test.attempts_used, extra_attempts=test.extra_attempts
        ),
        "open_session": test.open_session,
        "can_start": refusal is None,
        "reason": refusal.code if refusal else None,
        "next_attempt_at": refusal.next_attempt_at if refusal else None,
    }


_RESULT_FIELDS = ("test_id", "id", "attempt", "score", "max_score", "percentage", "submitted_at")


def results_of(*, user: User, test_ids: list[int]) -> dict[int, dict[str, dict[str, Any]]]:
    """The best (highest score, earliest on ties) and last submitted attempt per test:
    two ``DISTINCT ON`` queries of at most one row per test."""
    submitted = ExamSession.objects.filter(
        user=user, test_id__in=test_ids, status=ExamSession.Status.SUBMITTED, score__isnull=False
    )
    found: dict[int, dict[str, dict[str, Any]]] = {pk: {} for pk in test_ids}
    for key, order in (("best", ("-score", "attempt")), ("last", ("-attempt",))):
        for row in (
            submitted.order_by("test_id", *order).distinct("test_id").values(*_RESULT_FIELDS)
        ):
            test_id = row.pop("test_id")
            row["session"] = row.pop("id")
            found[test_id][key] = row
    return found


def _row(
    test: LearnerTest, *, now: datetime, results: dict[str, Any], count: int
) -> dict[str, Any]:
    return {
        "slug": test.slug,
        "title": test.title,
        "mode": test.mode,
        "duration_seconds": test.duration_seconds,
        "question_count": count,
        "available_from": test.available_from,
        "available_until": test.available_until,
        "max_attempts": test.max_attempts,
        **sitting_state(test, now=now),
        "best_result": results.get("best"),
        "last_result": results.get("last"),
    }


def sections_of(test: Test) -> list[dict[str, Any]]:
    """Each section with its question count (rules' draws plus hand-picked): one query."""
    drawn = (
        SectionRule.objects.filter(section_id=OuterRef("pk"))
        .order_by()
        .values("section_id")
        .annotate(n=Sum("count"))
        .values("n")
    )
    fixed = (
        SectionQuestion.objects.filter(section_id=OuterRef("pk"))
        .order_by()
        .values("section_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    sections = Section.objects.filter(test=test).annotate(
        drawn=Coalesce(Subquery(drawn, output_field=IntegerField()), Value(0)),
        fixed=Coalesce(Subquery(fixed, output_field=IntegerField()), Value(0)),
    )
    return [
        {
            "id": section.id,
            "title": section.title,
            "order": section.order,
            "instructions": section.instructions,
            "question_count": section.drawn + section.fixed,
            "duration_seconds": section.duration_seconds,
            "marking": section.marking,
            "correct_marks": section.correct_marks,
            "wrong_penalty": section.wrong_penalty,
            "negative_fraction": section.negative_fraction,
            "unattempted_marks": section.unattempted_marks,
        }
        for section in sections.order_by("order", "id")
    ]


# --- serializers -----------------------------------------------------------------------------


class ResultBriefSerializer(serializers.Serializer):
    session = serializers.UUIDField()
    attempt = serializers.IntegerField()
    score = serializers.DecimalField(**_DEC)
    max_score = serializers.DecimalField(**_DEC)
    percentage = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    submitted_at = serializers.DateTimeField()


class LearnerTestSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    title = serializers.CharField()
    mode = serializers.ChoiceField(choices=Test.Mode.choices)
    duration_seconds = serializers.IntegerField()
    question_count = serializers.IntegerField(
        help_text="Questions in a paper: what the rules draw plus hand-picked ones."
    )
    available_from = serializers.DateTimeField(allow_null=True)
    available_until = serializers.DateTimeField(allow_null=True)
    max_attempts = serializers.IntegerField(allow_null=True, help_text="Null: unlimited.")
    attempts_used = serializers.IntegerField(help_text="Your sessions of this test, any status.")
    attempts_left = serializers.IntegerField(
        allow_null=True, help_text="Null: unlimited. Counts extra attempts granted to you."
    )
    open_session = serializers.UUIDField(
        allow_null=True, help_text="Your session in progress (starting the test resumes it)."
    )
    can_start = serializers.BooleanField(
        help_text="Would `POST tests/{slug}/sessions/` start or resume a session now?"
    )
    reason = serializers.ChoiceField(
        choices=REASONS,
        allow_null=True,
        help_text="Why not, when `can_start` is false: the code starting would answer — "
        + ", ".join(f"`{code}`" for code in REASONS)
        + ".",
    )
    next_attempt_at = serializers.DateTimeField(
        allow_null=True, help_text="When the minimum gap between attempts has passed."
    )
    best_result = ResultBriefSerializer(
        allow_null=True, help_text="Your highest-scoring submitted attempt (earliest on ties)."
    )
    last_result = ResultBriefSerializer(allow_null=True, help_text="Your latest submitted attempt.")


class LearnerSectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    order = serializers.IntegerField()
    instructions = serializers.CharField(allow_blank=True)
    question_count = serializers.IntegerField()
    duration_seconds = serializers.IntegerField(
        allow_null=True, help_text="Own time limit; null shares the test's time."
    )
    marking = serializers.ChoiceField(
        choices=Section.Marking.choices,
        help_text="`question`: each question's own marks and penalty; `fixed`: the same "
        "marks for every question; `fraction`: question marks, penalty a fraction of them.",
    )
    correct_marks = serializers.DecimalField(
        max_digits=6, decimal_places=2, allow_null=True, help_text="`fixed` marking only."
    )
    wrong_penalty = serializers.DecimalField(
        max_digits=6, decimal_places=2, help_text="`fixed` marking only (a positive number)."
    )
    negative_fraction = serializers.DecimalField(
        max_digits=5, decimal_places=4, help_text="`fraction` marking: penalty ÷ marks."
    )
    unattempted_marks = serializers.DecimalField(max_digits=6, decimal_places=2)


class LearnerTestDetailSerializer(LearnerTestSerializer):
    instructions_html = serializers.CharField(allow_blank=True)
    navigation = serializers.ChoiceField(choices=Test.Navigation.choices)
    min_gap_seconds = serializers.IntegerField(help_text="Minimum time between attempts.")
    attempt_policy = serializers.ChoiceField(
        choices=Test.AttemptPolicy.choices, help_text="Which attempt's score counts."
    )
    solution_policy = serializers.ChoiceField(choices=Test.SolutionPolicy.choices)
    pass_mark_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    partial_marking = serializers.BooleanField(
        help_text="Multiple-choice answers with only correct options score a share of marks."
    )
    sections = LearnerSectionSerializer(many=True)


class LearnerTestQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=STATUS_FILTERS, required=False)


# --- views -----------------------------------------------------------------------------------

_RESULT_EXAMPLE = {
    "session": "6f1c3a52-7a55-4c1b-9b0e-2f1e5b7d9a10",
    "attempt": 1,
    "score": "6.00",
    "max_score": "8.00",
    "percentage": "75.00",
    "submitted_at": "2026-11-20T05:30:00Z",
}
_ROW_EXAMPLE = {
    "slug": "sql-mock-1",
    "title": "SQL mock test 1",
    "mode": "random",
    "duration_seconds": 1800,
    "question_count": 4,
    "available_from": None,
    "available_until": "2026-12-01T18:30:00Z",
    "max_attempts": 3,
    "attempts_used": 1,
    "attempts_left": 2,
    "open_session": None,
    "can_start": False,
    "reason": "attempt_too_soon",
    "next_attempt_at": "2026-11-21T05:30:00Z",
    "best_result": _RESULT_EXAMPLE,
    "last_result": _RESULT_EXAMPLE,
}
_DETAIL_EXAMPLE = {
    **_ROW_EXAMPLE,
    "instructions_html": "<p>Four questions, thirty minutes. Wrong answers cost ¼.</p>",
    "navigation": "free",
    "min_gap_seconds": 86400,
    "attempt_policy": "highest",
    "solution_policy": "after_submit",
    "pass_mark_percent": "40.00",
    "partial_marking": False,
    "sections": [
        {
            "id": 3,
            "title": "SQL",
            "order": 0,
            "instructions": "",
            "question_count": 4,
            "duration_seconds": None,
            "marking": "fixed",
            "correct_marks": "2.00",
            "wrong_penalty": "0.50",
            "negative_fraction": "0.0000",
            "unattempted_marks": "0.00",
        }
    ],
}
_E404_TEST = error_response(404, ("not_found", "No such test."))


class LearnerTestViewSet(viewsets.GenericViewSet):
    """Published tests the learner has access to, with their sitting state."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = LearnerTestSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[LearnerTest]:
        if getattr(self, "swagger_fake_view", False):
            return Test.objects.none()  # type: ignore[return-value]  # the schema's, never read
        return learner_tests(user=self.request.user, now=self.now)  # type: ignore[arg-type]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.now = timezone.now()  # one clock for the access check and every row's state
        super().initial(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary="The tests I may sit",
        description=(
            "Published tests you have access to (through a live enrollment, or a product "
            "that is free), newest first, with your sitting state: attempts used and left "
            "(extra attempts granted to you included), the session to resume, whether "
            "starting would succeed now and, if not, the `reason` code it would answer, "
            "and your best and last submitted results. `status` narrows the list: `open` "
            "(a session in progress), `available` (`can_start` is true), `completed` (at "
            "least one submitted attempt)."
        ),
        parameters=[
            OpenApiParameter(
                "status", str, enum=STATUS_FILTERS, description="Only tests in this state."
            )
        ],
        responses={
            200: LearnerTestSerializer(many=True),
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"status": ['"done" is not a valid choice.']},
                ),
            ),
            **errors(401),
        },
        examples=[OpenApiExample("A test", value=_ROW_EXAMPLE, response_only=True)],
    )
    def list(self, request: AuthenticatedRequest) -> Response:
        query = LearnerTestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = self.get_queryset()
        tests: list[LearnerTest] | QuerySet[LearnerTest] = queryset
        if "status" in query.validated_data:
            tests = filter_status(queryset, query.validated_data["status"], now=self.now)
        page = self.paginate_queryset(tests)
        ids = [test.id for test in page]  # type: ignore[union-attr]  # paginated
        counts = question_counts(ids)
        results = results_of(user=request.user, test_ids=ids)
        rows = [
            _row(test, now=self.now, results=results[test.id], count=counts[test.id])
            for test in page  # type: ignore[union-attr]
        ]
        return self.get_paginated_response(LearnerTestSerializer(rows, many=True).data)

    @extend_schema(
        tags=TAG,
        summary="A test I may sit",
        description=(
            "Everything `GET tests/` shows, plus the instructions, navigation, attempt and "
            "solution policies, pass mark, and each section with its question count, own "
            "time limit and marking scheme. Never questions or answers. A test that does "
            "not exist, is not published or is not yours to sit is 404."
        ),
        parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Test slug.")],
        responses={200: LearnerTestDetailSerializer, **errors(401), 404: _E404_TEST},
        examples=[OpenApiExample("A test", value=_DETAIL_EXAMPLE, response_only=True)],
    )
    def retrieve(self, request: AuthenticatedRequest, slug: str) -> Response:
        test = self.get_queryset().filter(slug=slug).first()
        if test is None:
            raise TestNotFound()
        sections = sections_of(test)
        results = results_of(user=request.user, test_ids=[test.id])[test.id]
        count = sum(section["question_count"] for section in sections)
        data = {
            **_row(test, now=self.now, results=results, count=count),
            "instructions_html": test.instructions_html,
            "navigation": test.navigation,
            "min_gap_seconds": test.min_gap_seconds,
            "attempt_policy": test.attempt_policy,
            "solution_policy": test.solution_policy,
            "pass_mark_percent": test.pass_mark_percent,
            "partial_marking": test.partial_marking,
            "sections": sections,
        }
        return Response(LearnerTestDetailSerializer(data).data)
