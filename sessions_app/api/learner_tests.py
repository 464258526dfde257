"""The learner's tests: ``GET tests/`` (what I may sit) and ``GET tests/{slug}/``.

The rows are ``sessions_app.selectors.learner_tests``: the access rule as one queryset, so
a learner with many enrollments costs the same few queries as one with none, annotated
with the facts of the start rule. Whether a test can be started is
``policy.sitting_state``, the rule starting itself applies, so ``reason`` is the code that
starting would answer; ``?status=`` is ``policy.in_status``. Nothing here reads questions:
no answer key, no explanation can leak.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from catalogue.selectors import question_counts
from sessions_app import policy, selectors
from sessions_app.errors import (
    AttemptsExhausted,
    AttemptTooSoon,
    TestClosed,
    TestNotFound,
    TestNotOpen,
)
from sessions_app.models import ExamSession
from testengine.errors import PaperUnavailable
from testengine.models import Section, SectionQuestion, SectionRule, Test

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest
    from accounts.models import User
    from sessions_app.selectors import LearnerTest


_DEC: dict[str, Any] = {"max_digits": 10, "decimal_places": 2}

REASONS = [
    PaperUnavailable.code,
    TestNotOpen.code,
    TestClosed.code,
    AttemptsExhausted.code,
    AttemptTooSoon.code,
]
STATUS_FILTERS = list(policy.LISTING_STATUSES)


# --- reads -----------------------------------------------------------------------------------


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
        **asdict(policy.sitting_state(test, selectors.sitting_facts(test), now=now)),
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


class LearnerTestViewSet(viewsets.GenericViewSet):
    """Published tests the learner has access to, with their sitting state."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = LearnerTestSerializer
    lookup_field = "slug"
    request: AuthenticatedRequest  # IsAuthenticated

    def get_queryset(self) -> QuerySet[LearnerTest]:
        if getattr(self, "swagger_fake_view", False):
            return Test.objects.none()  # type: ignore[return-value]  # the schema's, never read
        return selectors.learner_tests(user=self.request.user, now=self.now)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.now = timezone.now()  # one clock for the access check and every row's state
        super().initial(request, *args, **kwargs)

    def list(self, request: AuthenticatedRequest) -> Response:
        query = LearnerTestQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        tests = selectors.learner_tests(
            user=request.user, now=self.now, status=query.validated_data.get("status")
        )
        page = self.paginate_queryset(tests)
        ids = [test.id for test in page]  # type: ignore[union-attr]  # paginated
        counts = question_counts(ids)
        results = results_of(user=request.user, test_ids=ids)
        rows = [
            _row(test, now=self.now, results=results[test.id], count=counts[test.id])
            for test in page  # type: ignore[union-attr]
        ]
        return self.get_paginated_response(LearnerTestSerializer(rows, many=True).data)

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
