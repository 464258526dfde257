"""Learner results API: a sitting's result and review, and a test's leaderboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.utils import timezone
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.serializers import NoneAsNullChoiceField
from core.errors import Conflict, Forbidden
from sessions_app import policy, selectors
from sessions_app.api.serializers import AnswerField
from sessions_app.errors import TestNotFound
from sessions_app.models import ExamSession
from sessions_app.selectors import RANK_BASES
from testengine.models import Question, Test
from testengine.scoring import json_number

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


_DEC: dict[str, Any] = {"max_digits": 10, "decimal_places": 2}


OUTCOMES = ["correct", "partial", "wrong", "unattempted"]
STOP_REASONS = ["precision", "max_items", "pool_exhausted", "submitted"]


class SessionNotSubmitted(Conflict):
    code = "session_not_submitted"
    detail = "The session is still in progress: submit it first."


class SolutionsHidden(Forbidden):
    code = "solutions_hidden"
    detail = "This test does not show solutions."


# --- serializers -----------------------------------------------------------------------------


class _TallySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    score = serializers.DecimalField(**_DEC)
    max_score = serializers.DecimalField(**_DEC)
    correct = serializers.IntegerField()
    partial = serializers.IntegerField()  # type: ignore[assignment]  # the field, not DRF's flag
    wrong = serializers.IntegerField()
    unattempted = serializers.IntegerField()
    accuracy = serializers.FloatField(allow_null=True, help_text="Correct ÷ attempted (0–1).")


class SectionResultSerializer(_TallySerializer):
    title = serializers.CharField()


class TopicResultSerializer(_TallySerializer):
    name = serializers.CharField()


class QuestionTimeSerializer(serializers.Serializer):
    question_id = serializers.IntegerField()
    section_id = serializers.IntegerField()
    time_spent_ms = serializers.IntegerField()
    outcome = serializers.ChoiceField(
        choices=OUTCOMES,
        required=False,
        help_text="Present only when `solutions_visible` is true.",
    )
    marks = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        required=False,
        help_text="Present only when `solutions_visible` is true.",
    )


class AbilitySerializer(serializers.Serializer):
    theta = serializers.FloatField(help_text="Estimated ability θ̂ (logit scale, 0 = average).")
    se = serializers.FloatField(help_text="Its standard error.")
    scaled_score = serializers.FloatField(help_text="50 + 10·θ̂, clipped to 0–100.")
    items = serializers.IntegerField(help_text="Items given.")
    stop_reason = serializers.ChoiceField(
        choices=STOP_REASONS,
        help_text="`precision` (SE reached the target), `max_items`, `pool_exhausted` or "
        "`submitted` (the learner or the deadline ended it).",
    )
    percentile = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text="100 × first attempts with θ̂ at most this one ÷ first attempts.",
    )


class ResultSerializer(serializers.Serializer):
    session = serializers.UUIDField()
    test = serializers.CharField(help_text="The test's slug.")
    attempt = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    submit_reason = serializers.ChoiceField(choices=ExamSession.SubmitReason.choices)
    score = serializers.DecimalField(**_DEC)
    max_score = serializers.DecimalField(**_DEC)
    percentage = serializers.DecimalField(max_digits=6, decimal_places=2)
    pass_mark_percent = serializers.DecimalField(max_digits=5, decimal_places=2, allow_null=True)
    passed = serializers.BooleanField(allow_null=True, help_text="Null when no pass mark.")
    correct = serializers.IntegerField()
    wrong = serializers.IntegerField()
    partial = serializers.IntegerField()  # type: ignore[assignment]  # the field, not DRF's flag
    unattempted = serializers.IntegerField()
    accuracy = serializers.FloatField(
        allow_null=True, help_text="Correct ÷ attempted (0–1); null when none attempted."
    )
    negative_marks_lost = serializers.DecimalField(
        **_DEC, help_text="Marks lost to negative marking (a positive number)."
    )
    time_taken_seconds = serializers.IntegerField()
    rank = serializers.IntegerField(
        allow_null=True,
        help_text="1 + ranked first attempts with a strictly higher score (see `rank_basis`); "
        "null for a practice test or when nobody is ranked yet.",
    )
    rank_basis = serializers.ChoiceField(
        choices=RANK_BASES,
        allow_null=True,
        help_text="`first_attempt`: this sitting is a ranked first attempt, one of the "
        "`candidates` (rank ≤ candidates). `would_rank`: it is not one of them (a later "
        "attempt, or a sitting whose access was withdrawn): `rank` is where its score would "
        "place among the candidates' first attempts (rank ≤ candidates + 1). Null with a "
        "null rank.",
    )
    percentile = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        allow_null=True,
        help_text="100 × first attempts scoring at most this score ÷ first attempts.",
    )
    candidates = serializers.IntegerField(
        help_text="The ranked population: submitted first attempts of the test (access not "
        "withdrawn). It includes this sitting only when `rank_basis` is `first_attempt`."
    )
    topper_score = serializers.DecimalField(**_DEC, allow_null=True)
    counted_score = serializers.DecimalField(
        **_DEC, allow_null=True, help_text="Your grade for the test per its attempt policy."
    )
    attempt_policy = serializers.ChoiceField(choices=Test.AttemptPolicy.choices)
    sections = SectionResultSerializer(many=True)
    topics = TopicResultSerializer(many=True)
    solutions_visible = serializers.BooleanField(
        help_text="Whether the test's solution policy has opened for this sitting. Until it "
        "has, the result carries totals only (score, counts, sections, topics): each "
        "question's `outcome` and `marks` are left out, and `review/` answers 403 "
        "`solutions_hidden`."
    )
    questions = QuestionTimeSerializer(
        many=True,
        help_text="Time per question in paper order; with its outcome and marks once "
        "solutions are visible (never the answer key: see `review/`).",
    )
    ability = AbilitySerializer(
        allow_null=True, help_text="Adaptive tests only (else null): the ability estimate."
    )


class AnswerNumberField(serializers.FloatField):
    """A number of the answer key, as a JSON number like the learner's own answer
    (``7``, not ``"7.000000"``); null where the question has none."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        return None if value is None else json_number(value)


class ReviewChoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    body_html = serializers.CharField()
    is_correct = serializers.BooleanField()


class CorrectAnswerSerializer(serializers.Serializer):
    choices = serializers.ListField(child=serializers.IntegerField())
    value = AnswerNumberField(help_text="Numeric questions: the answer, a JSON number; else null.")
    tolerance = AnswerNumberField(
        help_text="Numeric questions: ± this (absolute) or this fraction of `value` (relative)."
    )
    tolerance_kind = NoneAsNullChoiceField(
        choices=Question.Tolerance.choices, help_text="Numeric questions; else null."
    )
    accepted_answers = serializers.ListField(child=serializers.CharField())


class ReviewQuestionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    section_id = serializers.IntegerField()
    section = serializers.CharField()
    type = serializers.ChoiceField(choices=Question.Type.choices)
    topic = serializers.CharField()
    body_html = serializers.CharField()
    image = serializers.CharField(allow_blank=True)
    choices = ReviewChoiceSerializer(many=True)
    max_marks = serializers.DecimalField(max_digits=8, decimal_places=2)
    negative_marks = serializers.DecimalField(max_digits=8, decimal_places=2)
    answer = AnswerField(help_text="Your answer (null: unattempted).")
    time_spent_ms = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    marks = serializers.DecimalField(max_digits=8, decimal_places=2)
    correct_answer = CorrectAnswerSerializer()
    explanation_html = serializers.CharField(allow_blank=True)


class ReviewSerializer(serializers.Serializer):
    session = serializers.UUIDField()
    test = serializers.CharField()
    questions = ReviewQuestionSerializer(many=True)


class LeaderEntrySerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    name = serializers.CharField(help_text='Full name, or "Learner" and four characters.')
    score = serializers.DecimalField(**_DEC)
    time_taken_seconds = serializers.IntegerField()
    is_me = serializers.BooleanField()


class LeaderboardSerializer(serializers.Serializer):
    test = serializers.CharField()
    candidates = serializers.IntegerField()
    top = LeaderEntrySerializer(many=True)
    me = LeaderEntrySerializer(allow_null=True)


class LeaderboardQuerySerializer(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=100, default=10)


# --- views -----------------------------------------------------------------------------------


class _SessionView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def _submitted(self, request: AuthenticatedRequest, session_id: UUID) -> ExamSession:
        session = selectors.session_of(user=request.user, session_id=session_id)
        policy.require_sitting_access(session)
        if session.status != ExamSession.Status.SUBMITTED:
            raise SessionNotSubmitted()
        return session


class SessionResultView(_SessionView):
    def get(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        session = self._submitted(request, pk)
        visible = policy.solutions_visible(session, now=timezone.now())
        result = selectors.session_result(session=session, solutions_visible=visible)
        return Response(ResultSerializer(result).data)


class SessionReviewView(_SessionView):
    def get(self, request: AuthenticatedRequest, pk: UUID) -> Response:
        session = self._submitted(request, pk)
        test = session.test
        if not policy.solutions_visible(session, now=timezone.now()):
            if test.solution_policy == Test.SolutionPolicy.NEVER:
                raise SolutionsHidden()
            raise SolutionsHidden(f"Solutions are shown after {test.available_until.isoformat()}.")  # type: ignore[union-attr]  # after_window: set
        return Response(ReviewSerializer(selectors.session_review(session=session)).data)


class LeaderboardView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    def get(self, request: AuthenticatedRequest, slug: str) -> Response:
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        test = Test.objects.curated().filter(slug=slug, is_published=True).first()
        if test is None or not (request.user.is_staff or policy.may_sit(request.user, test)):
            raise TestNotFound()
        data = selectors.leaderboard(
            test=test, user=request.user, limit=query.validated_data["limit"]
        )
        return Response(LeaderboardSerializer(data).data)
