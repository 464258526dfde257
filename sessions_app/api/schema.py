"""OpenAPI documentation of the sessions API: the sitting (``sitting``: decorators applied
on the views as ``@schema.<name>``), and the learner's tests and results (``learner_tests``,
``results``: their serializers live in those modules, so their views are documented from
here by ``document_results_and_tests``, which ``sessions_app.api.urls`` calls).
Error responses are declared with the errors each operation raises
(core.api.schema.error_responses)."""

from __future__ import annotations

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.exceptions import ValidationError

from core.api.schema import ErrorCase, error_responses, uuid_id_parameter
from sessions_app.api import learner_tests, results
from sessions_app.api import serializers as s
from sessions_app.detail import SESSION_DETAIL_EXAMPLE
from sessions_app.errors import (
    AccessEnded,
    AnswerRejected,
    AttemptsExhausted,
    AttemptTooSoon,
    LastSection,
    NoAccess,
    NotCurrentQuestion,
    NotSectional,
    SectionLocked,
    SectionNotOpen,
    SessionClosed,
    SessionExpired,
    SessionNotFound,
    TestClosed,
    TestNotFound,
    TestNotOpen,
)
from testengine.errors import PaperUnavailable

TAG = ["sessions"]
RESULTS_TAG = ["results"]

_SAVE_INVALID = (
    NotCurrentQuestion(
        "This test is sequential: only the current question can be answered, not an earlier one.",
        fields={"question_id": ["Answer question 988 (the current one)."]},
    ),
    AnswerRejected(fields={"answer": ["This question takes one choice."]}),
    AnswerRejected(fields={"question_id": ["Question 7 is not in this paper."]}),
    ValidationError({"seq": ["This field is required."]}),
)
_SAVE_REFUSED = (
    SessionClosed,
    SectionLocked(
        "Section “Quantitative aptitude” is over; its answers can no longer change.",
        fields={"question_id": ["Question 1042 is in a locked section."]},
    ),
    SectionNotOpen(fields={"question_id": ["Question 1310 is in a later section."]}),
)


def _sitting_errors(*cases: ErrorCase) -> dict[int, OpenApiResponse]:
    """A sitting's 403 is access withdrawn mid-sitting, or since the sitting ended."""
    return error_responses(
        *cases,
        descriptions={
            403: "Access to the test was withdrawn (a refund or a revoke): the sitting is "
            "closed to you; or, for a sitting that is over, you may no longer sit its test."
        },
    )


_SESSION_ID = uuid_id_parameter("The session's id.")

_QUESTION_ID = OpenApiParameter("question_id", int, OpenApiParameter.PATH)

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

# --- the sitting ----------------------------------------------------------------------

session_start = extend_schema(
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
        **error_responses(
            401,
            NoAccess,
            TestNotFound,
            AttemptsExhausted,
            AttemptTooSoon("The next attempt opens at 2026-11-23T10:00:00+00:00."),
            TestNotOpen("This test opens at 2026-12-01T04:30:00+00:00."),
            PaperUnavailable,
            TestClosed,
        ),
    },
    examples=[OpenApiExample("Session", value=SESSION_DETAIL_EXAMPLE, response_only=True)],
)

session_list = extend_schema(
    tags=TAG,
    summary="My exam sessions",
    description="Newest first; `score` is null until the session is submitted.",
    responses={200: s.SessionListSerializer(many=True), **error_responses(401)},
)

session_detail = extend_schema(
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
        **error_responses(401, SessionNotFound),
    },
    examples=[OpenApiExample("Session", value=SESSION_DETAIL_EXAMPLE, response_only=True)],
)

session_paper = extend_schema(
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
        **_sitting_errors(401, AccessEnded, SessionNotFound, SessionClosed),
    },
)

response_save = extend_schema(
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
        **_sitting_errors(
            *_SAVE_INVALID, 401, AccessEnded, SessionNotFound, *_SAVE_REFUSED, SessionExpired
        ),
    },
    examples=[
        *_SAVE_EXAMPLES,
        OpenApiExample("Saved", value=_SAVED_EXAMPLE, response_only=True),
    ],
)

responses_save = extend_schema(
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
        **_sitting_errors(
            ValidationError({"responses": ["Ensure this field has no more than 200 elements."]}),
            AnswerRejected(
                fields={"responses.3.answer": ["Choice 99 is not a choice of this question."]}
            ),
            401,
            AccessEnded,
            SessionNotFound,
            *_SAVE_REFUSED,
            SessionExpired,
        ),
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

section_next = extend_schema(
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
        **_sitting_errors(
            AnswerRejected(
                "No such section in this paper.",
                fields={"section": ["Section 99 is not in this paper."]},
            ),
            401,
            AccessEnded,
            SessionNotFound,
            SessionClosed,
            SectionNotOpen,
            LastSection,
            NotSectional,
            SessionExpired,
        ),
    },
    examples=[OpenApiExample("Leave section 7", value={"section": 7}, request_only=True)],
)

session_submit = extend_schema(
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
        **_sitting_errors(401, AccessEnded, SessionNotFound),
    },
)


# --- results and review ------------------------------------------------------------

_RESULT = {
    "session": "6f1c3a52-7a55-4c1b-9b0e-2f1e5b7d9a10",
    "test": "sql-mock-1",
    "attempt": 1,
    "submitted_at": "2026-11-20T05:30:00Z",
    "submit_reason": "learner",
    "score": "6.00",
    "max_score": "8.00",
    "percentage": "75.00",
    "pass_mark_percent": "40.00",
    "passed": True,
    "correct": 3,
    "wrong": 1,
    "partial": 0,
    "unattempted": 0,
    "accuracy": 0.75,
    "negative_marks_lost": "0.50",
    "time_taken_seconds": 1260,
    "rank": 2,
    "rank_basis": "first_attempt",
    "percentile": "75.00",
    "candidates": 4,
    "topper_score": "8.00",
    "counted_score": "6.00",
    "attempt_policy": "highest",
    "sections": [
        {
            "id": 3,
            "title": "SQL",
            "score": "6.00",
            "max_score": "8.00",
            "correct": 3,
            "partial": 0,
            "wrong": 1,
            "unattempted": 0,
            "accuracy": 0.75,
        }
    ],
    "topics": [
        {
            "id": 9,
            "name": "Joins",
            "score": "6.00",
            "max_score": "8.00",
            "correct": 3,
            "partial": 0,
            "wrong": 1,
            "unattempted": 0,
            "accuracy": 0.75,
        }
    ],
    "solutions_visible": True,
    "questions": [
        {
            "question_id": 41,
            "section_id": 3,
            "time_spent_ms": 84000,
            "outcome": "correct",
            "marks": "2.00",
        }
    ],
}

result = extend_schema(
    tags=RESULTS_TAG,
    summary="A submitted sitting's result",
    description=(
        "Score, pass/fail, counts, accuracy, negative marks lost, time per question, "
        "per-section and per-topic results, rank and percentile among the submitted "
        "first attempts of the test, the topper's score, and your counted grade per "
        "the test's attempt policy. Never the answer key (see `review/`). Until the test's "
        "solution policy opens (`solutions_visible`), no per-question outcome or marks."
    ),
    parameters=[_SESSION_ID],
    responses={
        200: results.ResultSerializer,
        **_sitting_errors(401, AccessEnded, SessionNotFound, results.SessionNotSubmitted),
    },
    examples=[
        OpenApiExample("A result", value=_RESULT, response_only=True),
        OpenApiExample(
            "Solutions not yet open",
            value={
                **_RESULT,
                "solutions_visible": False,
                "questions": [{"question_id": 41, "section_id": 3, "time_spent_ms": 84000}],
            },
            response_only=True,
        ),
    ],
)

review = extend_schema(
    tags=RESULTS_TAG,
    summary="Review a submitted sitting with solutions",
    description=(
        "Every question in paper order with your answer, outcome and marks, the correct "
        "answer and the explanation. Shown when the test's solution policy allows: "
        "`after_submit` once submitted, `after_window` once the test's availability "
        "window has closed (no window: once submitted), `never`: refused."
    ),
    parameters=[_SESSION_ID],
    responses={
        200: results.ReviewSerializer,
        **error_responses(
            401,
            results.SolutionsHidden,
            results.SolutionsHidden("Solutions are shown after 2026-12-01T18:30:00+00:00."),
            AccessEnded,
            SessionNotFound,
            results.SessionNotSubmitted,
        ),
    },
    examples=[
        OpenApiExample(
            "A review",
            response_only=True,
            value={
                "session": "6f1c3a52-7a55-4c1b-9b0e-2f1e5b7d9a10",
                "test": "sql-mock-1",
                "questions": [
                    {
                        "id": 41,
                        "section_id": 3,
                        "section": "SQL",
                        "type": "single",
                        "topic": "Joins",
                        "body_html": "<p>Which join keeps unmatched left rows?</p>",
                        "image": "",
                        "choices": [
                            {"id": 1, "body_html": "<p>LEFT JOIN</p>", "is_correct": True},
                            {"id": 2, "body_html": "<p>INNER JOIN</p>", "is_correct": False},
                        ],
                        "max_marks": "2.00",
                        "negative_marks": "0.50",
                        "answer": {"choices": [2]},
                        "time_spent_ms": 84000,
                        "outcome": "wrong",
                        "marks": "-0.50",
                        "correct_answer": {
                            "choices": [1],
                            "value": None,
                            "tolerance": None,
                            "tolerance_kind": "",
                            "accepted_answers": [],
                        },
                        "explanation_html": "<p>A LEFT JOIN keeps every left row.</p>",
                    }
                ],
            },
        )
    ],
)

leaderboard = extend_schema(
    tags=RESULTS_TAG,
    summary="A test's leaderboard",
    description=(
        "The top `limit` submitted first attempts by score (ties: less time first), "
        "with display names only (full name, or `Learner` and four characters; never "
        "an email or phone), your own entry and rank in `me` (null before your first "
        "attempt is submitted), and the number of candidates. Only for tests you may sit."
    ),
    parameters=[
        OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Test slug."),
        OpenApiParameter("limit", int, description="How many entries (1–100, default 10)."),
    ],
    responses={
        200: results.LeaderboardSerializer,
        **error_responses(
            ValidationError({"limit": ["Ensure this value is less than or equal to 100."]}),
            401,
            TestNotFound,
        ),
    },
    examples=[
        OpenApiExample(
            "A leaderboard",
            response_only=True,
            value={
                "test": "sql-mock-1",
                "candidates": 120,
                "top": [
                    {
                        "rank": 1,
                        "name": "Asha Rao",
                        "score": "8.00",
                        "time_taken_seconds": 900,
                        "is_me": False,
                    },
                    {
                        "rank": 2,
                        "name": "Learner 9f3a",
                        "score": "8.00",
                        "time_taken_seconds": 1100,
                        "is_me": False,
                    },
                ],
                "me": {
                    "rank": 37,
                    "name": "Ravi Kumar",
                    "score": "5.50",
                    "time_taken_seconds": 1500,
                    "is_me": True,
                },
            },
        )
    ],
)


# --- the learner's tests ------------------------------------------------------------

_RESULT_BRIEF = {
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
    "best_result": _RESULT_BRIEF,
    "last_result": _RESULT_BRIEF,
}

_TEST_DETAIL = {
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

learner_test_list = extend_schema(
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
            "status",
            str,
            enum=learner_tests.STATUS_FILTERS,
            description="Only tests in this state.",
        )
    ],
    responses={
        200: learner_tests.LearnerTestSerializer(many=True),
        **error_responses(ValidationError({"status": ['"done" is not a valid choice.']}), 401),
    },
    examples=[OpenApiExample("A test", value=_ROW_EXAMPLE, response_only=True)],
)

learner_test_detail = extend_schema(
    tags=TAG,
    summary="A test I may sit",
    description=(
        "Everything `GET tests/` shows, plus the instructions, navigation, attempt and "
        "solution policies, pass mark, and each section with its question count, own "
        "time limit and marking scheme. Never questions or answers. A test that does "
        "not exist, is not published or is not yours to sit is 404."
    ),
    parameters=[OpenApiParameter("slug", str, OpenApiParameter.PATH, description="Test slug.")],
    responses={
        200: learner_tests.LearnerTestDetailSerializer,
        **error_responses(401, TestNotFound),
    },
    examples=[OpenApiExample("A test", value=_TEST_DETAIL, response_only=True)],
)


def document_results_and_tests() -> None:
    """Attach the documentation above to the results and learner-test views, whose
    serializers live in their own modules (so those modules cannot import this one).
    Called once by the URL module that routes them; applying it again changes nothing."""
    extend_schema_view(get=result)(results.SessionResultView)
    extend_schema_view(get=review)(results.SessionReviewView)
    extend_schema_view(get=leaderboard)(results.LeaderboardView)
    extend_schema_view(list=learner_test_list, retrieve=learner_test_detail)(
        learner_tests.LearnerTestViewSet
    )
