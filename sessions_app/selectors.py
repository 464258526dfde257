"""Reads of exam sessions: the facts the sitting rules read (the learner's tests, a
sitting's paper), results, rank and percentile, counted grade, leaderboards.

Rankings look only at submitted *first* attempts of a test (``sessions_ranking_idx``) and
use aggregate queries, never a Python loop over every sitting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db import connection
from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from sessions_app import policy, timing
from sessions_app.errors import SessionNotFound
from sessions_app.models import AttemptOverride, ExamSession, SessionResponse
from sessions_app.policy_sql import accessible_tests, status_filter
from testengine.models import Test

if TYPE_CHECKING:
    from typing import TypedDict

    from django_stubs_ext import WithAnnotations

    from accounts.models import User

    class _Standing(TypedDict):
        attempts_used: int
        extra_attempts: int
        last_ended_at: datetime | None
        open_session: UUID | None
        has_submitted: bool

    # A test as learner_tests() annotates it with the learner's standing.
    LearnerTest = WithAnnotations[Test, _Standing]

CENT = Decimal("0.01")
ZERO = Decimal("0")


# --- the facts of the sitting rules ----------------------------------------------------------


def learner_tests(*, user: User, now: datetime, status: str | None = None) -> QuerySet[LearnerTest]:
    """The tests ``user`` may sit (``policy_sql.accessible_tests``), newest first, each
    annotated with the facts of the start rule (:func:`sitting_facts` reads them): one
    query, however many enrollments. ``status`` keeps the tests ``policy.in_status``
    allows, filtered in the database (``policy_sql.status_filter``)."""
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
        status=ExamSession.Status.IN_PROGRESS, deadline_at__gte=now - policy.grace()
    ).values("id")[:1]
    tests = (
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
    if status is not None:
        tests = tests.filter(status_filter(status, now=now))
    return tests


def sitting_facts(test: LearnerTest) -> policy.SittingFacts:
    """The start rule's facts of a row of :func:`learner_tests`."""
    return policy.SittingFacts(
        attempts_used=test.attempts_used,
        extra_attempts=test.extra_attempts,
        last_ended_at=test.last_ended_at,
        open_session=test.open_session,
        has_submitted=test.has_submitted,
    )


def saved_answers(session: ExamSession) -> dict[int, tuple[Any, bool]]:
    """The learner's saved answer and mark per question of a sitting: one query."""
    return {
        question_id: (answer, marked)
        for question_id, answer, marked in SessionResponse.objects.filter(
            session_id=session.pk
        ).values_list("question_id", "answer", "marked_for_review")
    }


def visible_paper(session: ExamSession) -> list[policy.VisibleQuestion]:
    """The questions of an open sitting the learner may see now (``policy
    .visible_questions``), with their saved state (one query)."""
    return list(
        policy.visible_questions(
            session.paper,
            saved_answers(session),
            mode=session.test.mode,
            navigation=session.test.navigation,
            clock=timing.session_clock(session, now=timezone.now()),
        )
    )


# --- results and rankings --------------------------------------------------------------------


def first_attempts(test_id: int) -> QuerySet[ExamSession]:
    """The ranked population: submitted first attempts whose access was not withdrawn
    (refund or revoke), exactly the partial ranking index."""
    return ExamSession.objects.filter(
        test_id=test_id, status=ExamSession.Status.SUBMITTED, attempt=1, access_ended_at=None
    )


def session_of(*, user: User, session_id: UUID | str) -> ExamSession:
    """The caller's own session with its test (another learner's is not found)."""
    session = ExamSession.objects.select_related("test").filter(pk=session_id, user=user).first()
    if session is None:
        raise SessionNotFound()
    return session


RANK_BASES = ["first_attempt", "would_rank"]


def rank_basis(*, session: ExamSession, place: Standing) -> str | None:
    """What ``rank`` means for this sitting. ``first_attempt``: it is one of the ranked
    first attempts, counted in ``candidates`` (1 ≤ rank ≤ candidates). ``would_rank``: it
    is not (a later attempt, or a sitting taken out of rankings by a refund or revoke),
    so its rank is where its score would place among the candidates, who do not include
    it (1 ≤ rank ≤ candidates + 1). None when there is no rank."""
    if place.rank is None:
        return None
    in_population = (
        session.attempt == 1
        and session.status == ExamSession.Status.SUBMITTED
        and session.access_ended_at is None
    )
    return RANK_BASES[0] if in_population else RANK_BASES[1]


@dataclass(frozen=True)
class Standing:
    rank: int | None
    percentile: Decimal | None
    candidates: int
    topper_score: Decimal | None


def standing(*, test_id: int, score: Decimal | None) -> Standing:
    """Rank (1 + candidates with a strictly higher score) and NTA-style percentile
    (100 × candidates scoring at most ``score`` ÷ candidates) among first attempts, and
    the topper's score: one aggregate query."""
    counts: dict[str, Any] = {"candidates": Count("id"), "topper": Max("score")}
    if score is not None:
        counts["above"] = Count("id", filter=Q(score__gt=score))
        counts["at_or_below"] = Count("id", filter=Q(score__lte=score))
    totals = first_attempts(test_id).aggregate(**counts)
    candidates = totals["candidates"]
    if not candidates or score is None:
        return Standing(None, None, candidates, totals["topper"])
    percentile = (Decimal(100) * totals["at_or_below"] / candidates).quantize(
        CENT, rounding=ROUND_HALF_UP
    )
    return Standing(totals["above"] + 1, percentile, candidates, totals["topper"])


def counted_score(*, user: User | int, test: Test) -> Decimal | None:
    """The learner's grade for the test over their submitted attempts, per the test's
    attempt policy (highest, average, first or last); None before any is submitted."""
    # Null scores are excluded: every value is a Decimal.
    scores: list[Decimal] = list(
        ExamSession.objects.filter(  # type: ignore[arg-type]
            user=user, test=test, status=ExamSession.Status.SUBMITTED
        )
        .exclude(score__isnull=True)
        .order_by("attempt")
        .values_list("score", flat=True)
    )
    if not scores:
        return None
    policy = test.attempt_policy
    if policy == Test.AttemptPolicy.AVERAGE:
        return (sum(scores, ZERO) / len(scores)).quantize(CENT, rounding=ROUND_HALF_UP)
    if policy == Test.AttemptPolicy.FIRST:
        return scores[0]
    if policy == Test.AttemptPolicy.LAST:
        return scores[-1]
    return max(scores)


def session_result(*, session: ExamSession, solutions_visible: bool) -> dict[str, Any]:
    """Everything ``GET sessions/{id}/result/`` shows (the session must be submitted).
    Never includes an answer key: that belongs to the review only. Each question's
    outcome and marks are included only when ``solutions_visible`` (the solution rule):
    before that, a one-question difference in score would give the key away."""
    test = session.test
    responses = {
        r.question_id: r
        for r in SessionResponse.objects.filter(session=session).only(
            "question_id", "time_spent_ms", "outcome", "marks"
        )
    }
    questions = []
    lost = ZERO
    for section in session.paper["sections"]:
        for question in section["questions"]:
            response = responses.get(question["id"])
            marks = response.marks if response is not None else None
            if marks is None:
                marks = Decimal(question.get("unattempted_marks") or "0")
            if marks < 0:
                lost -= marks
            entry = {
                "question_id": question["id"],
                "section_id": section["id"],
                "time_spent_ms": response.time_spent_ms if response else 0,
            }
            if solutions_visible:
                entry["outcome"] = (response.outcome if response else "") or "unattempted"
                entry["marks"] = marks
            questions.append(entry)
    attempted = (session.correct or 0) + (session.partial or 0) + (session.wrong or 0)
    if test.practice_owner_id is not None:
        place = Standing(None, None, 0, None)  # a personal practice test is never ranked
    else:
        place = standing(test_id=test.id, score=session.score)
    passed = None
    if test.pass_mark_percent is not None and session.percentage is not None:
        passed = session.percentage >= test.pass_mark_percent
    breakdown = session.breakdown or {}
    return {
        "session": session.id,
        "test": test.slug,
        "attempt": session.attempt,
        "submitted_at": session.submitted_at,
        "submit_reason": session.submit_reason,
        "score": session.score,
        "max_score": session.max_score,
        "percentage": session.percentage,
        "pass_mark_percent": test.pass_mark_percent,
        "passed": passed,
        "correct": session.correct,
        "wrong": session.wrong,
        "partial": session.partial,
        "unattempted": session.unattempted,
        "accuracy": round(session.correct / attempted, 4) if attempted else None,  # type: ignore[operator]
        "negative_marks_lost": lost,
        "time_taken_seconds": session.time_taken_seconds,
        "rank": place.rank,
        "rank_basis": rank_basis(session=session, place=place),
        "percentile": place.percentile,
        "candidates": place.candidates,
        "topper_score": place.topper_score,
        "counted_score": counted_score(user=session.user_id, test=test),
        "attempt_policy": test.attempt_policy,
        "sections": breakdown.get("sections", []),
        "topics": breakdown.get("topics", []),
        "solutions_visible": solutions_visible,
        "questions": questions,
        "ability": _ability(session, breakdown.get("adaptive")),
    }


def _ability(session: ExamSession, adaptive: dict[str, Any] | None) -> dict[str, Any] | None:
    """Adaptive sittings: θ̂, SE, scaled score, and the percentile of θ̂ among the test's
    first attempts (one aggregate query)."""
    if adaptive is None or session.ability is None:
        return None
    if session.test.practice_owner_id is not None:
        return {**adaptive, "percentile": None}
    totals = first_attempts(session.test_id).aggregate(
        candidates=Count("id", filter=Q(ability__isnull=False)),
        at_or_below=Count("id", filter=Q(ability__lte=session.ability)),
    )
    percentile = None
    if totals["candidates"]:
        percentile = (Decimal(100) * totals["at_or_below"] / totals["candidates"]).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
    return {**adaptive, "percentile": percentile}


def solution_open_sittings(*, user: User, now: datetime) -> tuple[set[int], set[int]]:
    """The tests whose solutions are open to this learner now, and the questions of
    their sittings of them: their submitted sittings (access not withdrawn) of curated
    tests they may still sit, whose solution policy has opened. Everything here the
    learner may already read in a review. Three queries."""
    sat = ExamSession.objects.filter(
        user_id=user.pk,
        status=ExamSession.Status.SUBMITTED,
        access_ended_at=None,
        test__in=Test.objects.curated(),
    )
    tests = (
        accessible_tests(user=user, now=now)
        .filter(pk__in=sat.values("test_id"))
        .only("id", "solution_policy", "available_until")
    )
    open_ids = {test.pk for test in tests if policy.solutions_open(test, now=now)}
    if not open_ids:
        return set(), set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT (jsonb_path_query(paper, '$.sections[*].questions[*].id'))::bigint "
            "FROM sessions_app_examsession "
            "WHERE user_id = %s AND status = %s AND access_ended_at IS NULL "
            "AND test_id = ANY(%s)",
            [user.pk, ExamSession.Status.SUBMITTED, sorted(open_ids)],
        )
        questions = {row[0] for row in cursor.fetchall()}
    return open_ids, questions


def session_review(*, session: ExamSession) -> dict[str, Any]:
    """Each question in paper order with the learner's answer, its outcome and marks, the
    answer key and the explanation (callers ask ``policy.solutions_visible`` first)."""
    responses = {
        r.question_id: r
        for r in SessionResponse.objects.filter(session=session).only(
            "question_id", "answer", "time_spent_ms", "outcome", "marks"
        )
    }
    questions = []
    for section in session.paper["sections"]:
        for question in section["questions"]:
            response = responses.get(question["id"])
            marks = response.marks if response is not None else None
            if marks is None:
                marks = Decimal(question.get("unattempted_marks") or "0")
            numeric = question.get("numeric_answer")
            questions.append(
                {
                    "id": question["id"],
                    "section_id": section["id"],
                    "section": section["title"],
                    "type": question["type"],
                    "topic": question["topic"],
                    "body_html": question["body_html"],
                    "image": question.get("image", ""),
                    "choices": question["choices"],
                    "max_marks": Decimal(question["marks"]),
                    "negative_marks": Decimal(question["negative_marks"]),
                    "answer": response.answer if response else None,
                    "time_spent_ms": response.time_spent_ms if response else 0,
                    "outcome": (response.outcome if response else "") or "unattempted",
                    "marks": marks,
                    "correct_answer": {
                        "choices": [c["id"] for c in question["choices"] if c["is_correct"]],
                        "value": Decimal(numeric) if numeric is not None else None,
                        "tolerance": Decimal(question["numeric_tolerance"])
                        if numeric is not None
                        else None,
                        "tolerance_kind": question["tolerance_kind"] if numeric is not None else "",
                        "accepted_answers": question["accepted_answers"],
                    },
                    "explanation_html": question["explanation_html"],
                }
            )
    return {"session": session.id, "test": session.test.slug, "questions": questions}


# --- leaderboard -------------------------------------------------------------------------------


def leader_name(user: User) -> str:
    """A public display name: the full name, else "Learner" and the last four characters
    of the public id. Never the email or phone."""
    return user.full_name.strip() or f"Learner {user.public_id.hex[-4:]}"


def leaderboard(*, test: Test, user: User, limit: int) -> dict[str, Any]:
    """The top ``limit`` first attempts (score desc, then time asc), the caller's own
    entry with its rank (even outside the top), and the number of candidates. Entries
    tied on both score and time share a rank. Four queries, whatever the size."""
    ranked = first_attempts(test.id)
    top = list(
        ranked.select_related("user")
        .only("id", "score", "time_taken_seconds", "user__full_name", "user__public_id")
        .order_by("-score", "time_taken_seconds", "submitted_at", "id")[:limit]
    )
    entries: list[dict[str, Any]] = []
    previous = None
    for index, session in enumerate(top, start=1):
        key = (session.score, session.time_taken_seconds)
        rank = entries[-1]["rank"] if previous == key else index
        previous = key
        entries.append(
            {
                "rank": rank,
                "name": leader_name(session.user),
                "score": session.score,
                "time_taken_seconds": session.time_taken_seconds,
                "is_me": session.user_id == user.id,
            }
        )
    mine = ranked.filter(user=user).only("score", "time_taken_seconds").first()
    counts: dict[str, Any] = {"candidates": Count("id")}
    if mine is not None:
        counts["ahead"] = Count(
            "id",
            filter=Q(score__gt=mine.score)
            | Q(score=mine.score, time_taken_seconds__lt=mine.time_taken_seconds),
        )
    totals = ranked.aggregate(**counts)
    me = None
    if mine is not None:
        me = {
            "rank": totals["ahead"] + 1,
            "name": leader_name(user),
            "score": mine.score,
            "time_taken_seconds": mine.time_taken_seconds,
            "is_me": True,
        }
    return {"test": test.slug, "candidates": totals["candidates"], "top": entries, "me": me}


def sessions_in_progress_count() -> int:
    """Sittings open right now (started, not yet submitted or finalised)."""
    return ExamSession.objects.filter(status=ExamSession.Status.IN_PROGRESS).count()
