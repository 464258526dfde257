"""OpenAPI documentation of the test engine's staff API: topics, questions and tests
(``testengine.api.views``) and question import and export (``testengine.api.importexport``),
applied there as ``@schema.<name>``. Error responses are declared with the errors each
operation raises (core.api.schema.error_responses)."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.exceptions import ValidationError

from core.api.schema import ErrorCase, error_responses
from testengine.api import serializers as s
from testengine.errors import (
    ImportRejected,
    PaperUnavailable,
    PublishedTestsBroken,
    QuestionInvalid,
    QuestionNotDraft,
    RulesUnfillable,
    TestInUse,
    TestInvalid,
    TestPublished,
    TopicInUse,
)
from testengine.importexport import MAX_ROWS
from testengine.models import Question

TAG = ["testengine"]


def _staff(*cases: ErrorCase) -> dict[int, OpenApiResponse]:
    """A staff operation's errors, with the 401 and 403 every one of them answers."""
    return error_responses(*cases, 401, 403)


_QUESTION_INVALID = (
    QuestionInvalid(
        fields={"choices": ["A single-choice question has exactly one correct choice (2 marked)."]}
    ),
    QuestionInvalid(fields={"numeric_answer": ["A numeric question needs its answer."]}),
    QuestionInvalid(
        fields={"body_md": ["Remove the HTML that could run code ('<script'); use Markdown."]}
    ),
)
# Retiring a question, or moving it out of what a published test draws from, is refused
# while it would leave that test unable to build a paper.
_BREAKS_PUBLISHED = PublishedTestsBroken(
    fields={"tests": ["“SQL basics”: Section “SQL”: 5 easy from Joins needs 5, 4 available."]},
)
_UNFILLABLE = RulesUnfillable(
    fields={"rules": ["Section “SQL”: 25 hard from Indexes needs 25, 12 available."]}
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


topics = extend_schema_view(
    list=extend_schema(
        tags=TAG, summary="List topics", responses={200: s.TopicSerializer, **_staff()}
    ),
    retrieve=extend_schema(
        tags=TAG,
        summary="Get a topic",
        responses={200: s.TopicSerializer, **_staff(404)},
    ),
)

topic_create = extend_schema(
    tags=TAG,
    summary="Create a topic",
    request=s.TopicInputSerializer,
    responses={
        201: s.TopicSerializer,
        **_staff(ValidationError({"slug": ["A topic with this slug already exists."]})),
    },
    examples=[
        OpenApiExample(
            "Create",
            value={"name": "Indexes", "slug": "sql-indexes", "parent": 3, "order": 2},
            request_only=True,
        )
    ],
)

topic_update = extend_schema(
    tags=TAG,
    summary="Change a topic",
    request=s.TopicInputSerializer,
    responses={200: s.TopicSerializer, **_staff(400, 404)},
)

topic_partial_update = extend_schema(
    tags=TAG,
    summary="Change some fields of a topic",
    request=s.TopicInputSerializer,
    responses={200: s.TopicSerializer, **_staff(400, 404)},
)

topic_delete = extend_schema(
    tags=TAG,
    summary="Delete a topic",
    description="Only a topic without subtopics, questions or test rules can be deleted.",
    responses={
        204: None,
        **_staff(
            404,
            TopicInUse,
        ),
    },
)

questions = extend_schema_view(
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
        responses={200: s.QuestionSerializer, **_staff()},
    ),
    retrieve=extend_schema(
        tags=TAG,
        summary="Get a question with its choices and statistics",
        responses={200: s.QuestionSerializer, **_staff(404)},
    ),
)

question_create = extend_schema(
    tags=TAG,
    summary="Create a question",
    description=(
        "Body, explanation and choices are Markdown, rendered to sanitised HTML. A "
        "question that cannot be marked correctly (single choice with 0 or 2 correct, "
        "numeric without answer, text without accepted answers, script-capable HTML) "
        "is refused with field errors and nothing is saved."
    ),
    request=s.QuestionInputSerializer,
    responses={201: s.QuestionSerializer, **_staff(*_QUESTION_INVALID)},
    examples=[OpenApiExample("Single choice", value=_QUESTION_EXAMPLE, request_only=True)],
)

question_update = extend_schema(
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
        **_staff(*_QUESTION_INVALID, 404, _BREAKS_PUBLISHED),
    },
)

question_partial_update = extend_schema(
    tags=TAG,
    summary="Change some fields of a question",
    request=s.QuestionInputSerializer,
    responses={
        200: s.QuestionSerializer,
        **_staff(*_QUESTION_INVALID, 404, _BREAKS_PUBLISHED),
    },
)

question_delete = extend_schema(
    tags=TAG,
    summary="Delete a draft question",
    description="Published or retired questions may be in papers: retire them instead.",
    responses={
        204: None,
        **_staff(
            404,
            QuestionNotDraft,
        ),
    },
)

question_publish = extend_schema(
    tags=TAG,
    summary="Publish a question",
    request=None,
    responses={200: s.QuestionSerializer, **_staff(404)},
)

question_retire = extend_schema(
    tags=TAG,
    summary="Retire a question",
    description=(
        "Retired questions are never drawn into new papers; old papers keep them. "
        "Refused (409) while a published test needs the question to build a paper."
    ),
    request=None,
    responses={
        200: s.QuestionSerializer,
        **_staff(404, _BREAKS_PUBLISHED),
    },
)

tests = extend_schema_view(
    list=extend_schema(
        tags=TAG, summary="List tests", responses={200: s.TestListSerializer, **_staff()}
    ),
    retrieve=extend_schema(
        tags=TAG,
        summary="Get a test with its sections, rules and questions",
        responses={200: s.TestSerializer, **_staff(404)},
    ),
)

test_create = extend_schema(
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
        **_staff(
            TestInvalid(
                fields={
                    "sections.0.correct_marks": [
                        "Fixed marking needs the marks for a correct answer."
                    ]
                }
            )
        ),
    },
    examples=[OpenApiExample("Random mock test", value=_TEST_EXAMPLE, request_only=True)],
)

test_update = extend_schema(
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
        **_staff(400, 404, _UNFILLABLE),
    },
)

test_delete = extend_schema(
    tags=TAG,
    summary="Delete an unpublished test",
    responses={
        204: None,
        **_staff(
            404,
            TestPublished,
            TestInUse,
        ),
    },
)

test_check = extend_schema(
    tags=TAG,
    summary="Can every rule be filled?",
    description=(
        "For each rule: how many published questions match versus how many it needs; "
        "`problems` also catches rules that overlap and starve each other."
    ),
    responses={200: s.CheckReportSerializer, **_staff(404)},
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

test_preview = extend_schema(
    tags=TAG,
    summary="A sample paper (with answers, for staff)",
    parameters=[
        OpenApiParameter(
            "seed", OpenApiTypes.INT, description="Same seed, same paper; random if absent."
        )
    ],
    responses={
        200: s.PaperPreviewSerializer,
        **_staff(
            ValidationError({"seed": ["Enter a whole number."]}),
            404,
            PaperUnavailable("Section 4: not enough published questions match (12 of 25)."),
        ),
    },
)

test_publish = extend_schema(
    tags=TAG,
    summary="Publish a test",
    description="Refused with the shortfall report when the bank cannot fill every rule.",
    request=None,
    responses={200: s.TestSerializer, **_staff(404, _UNFILLABLE)},
)

test_unpublish = extend_schema(
    tags=TAG,
    summary="Unpublish a test",
    request=None,
    responses={200: s.TestSerializer, **_staff(404)},
)


# --- import and export (testengine.api.importexport) ----------------------------------------


def _import_export(
    *cases: ErrorCase, descriptions: dict[int, str] | None = None
) -> dict[int, OpenApiResponse]:
    """Import and export answer 403 to staff without the model permission too."""
    return error_responses(
        *cases,
        401,
        403,
        descriptions={403: "Not staff, or lacking the model permission.", **(descriptions or {})},
    )


_ROWS_EXAMPLE = [
    {"row": 3, "field": "topic", "message": "Unknown topic 'algebra-2'."},
    {"row": 7, "field": "marks", "message": "Enter a number."},
    {
        "row": 7,
        "field": "choices",
        "message": "A single-choice question has exactly one correct choice (2 marked).",
    },
    {"row": 12, "field": "external_id", "message": "Row 5 has the same external id."},
]

_IMPORT_QUESTION_EXAMPLE = {
    "external_id": "phy-001",
    "topic": "kinematics",
    "type": "single",
    "body": "A car covers **120 km** in 2 hours. Its average speed is:",
    "explanation": "Speed = distance ÷ time = 120 ÷ 2.",
    "difficulty": "easy",
    "status": "published",
    "tags": ["speed", "jee-main"],
    "marks": "4",
    "negative_marks": "1",
    "choices": [
        {"text": "40 km/h", "correct": False},
        {"text": "60 km/h", "correct": True},
        {"text": "80 km/h", "correct": False},
        {"text": "240 km/h", "correct": False},
    ],
    "numeric_answer": None,
    "numeric_tolerance": "0",
    "tolerance_kind": "absolute",
    "accepted_answers": [],
}

_CSV_EXAMPLE = (
    "external_id,topic,type,body,explanation,difficulty,status,tags,marks,negative_marks,"
    "choices,correct,numeric_answer,numeric_tolerance,tolerance_kind,accepted_answers\r\n"
    "phy-001,kinematics,single,A car covers **120 km** in 2 hours. Its average speed is:,"
    "Speed = distance ÷ time = 120 ÷ 2.,easy,published,speed|jee-main,4,1,"
    "40 km/h|60 km/h|80 km/h|240 km/h,2,,0,absolute,\r\n"
)

_IMPORT_DESCRIPTION = f"""
Imports questions from a CSV or JSON file (multipart: `file`, `format`, `dry_run`) or
from a JSON body (`{{"format": "json", "questions": [...], "dry_run": false}}`).

**All or nothing.** Every row is checked first, with the same rules as creating one
question; if any row is wrong, nothing is written and the answer is 400 with code
`import_rejected` listing **every** problem in `fields.rows` as
`{{"row", "field", "message"}}` objects (sorted by row, then column). CSV rows count from
2 (the header is row 1); JSON questions from 1; row 0 is the file as a whole (not UTF-8,
not valid JSON, empty, more than {MAX_ROWS} questions). With `dry_run` nothing is written
and a clean file answers 200 with the number of questions it would create.

**Columns** (CSV header / JSON keys): `external_id`, `topic` (slug), `type`, `body`,
`explanation`, `difficulty`, `status`, `tags`, `marks`, `negative_marks`, `choices`,
`correct` (CSV only), `numeric_answer`, `numeric_tolerance`, `tolerance_kind`,
`accepted_answers`. Only `topic`, `type` and `body` are required; empty cells take the
defaults of a new question. In CSV, `tags`, `accepted_answers` and `choices` are
`|`-separated (write `\\|` for a bar inside a text) and `correct` lists the 1-based
numbers of the correct choices, e.g. `2` or `1|3`. Unknown columns are refused.
External ids must be new to the bank and unique in the file.

Request bodies above the API's size limit (`API_MAX_BODY_BYTES`, 1 MB by default: a few
thousand short questions) are refused with 413; split the file, or use the admin's import
page, which has no such limit.

Needs a staff account with the `testengine.add_question` permission.
"""


question_import = extend_schema(
    tags=TAG,
    summary="Import questions (CSV or JSON, all or nothing)",
    description=_IMPORT_DESCRIPTION,
    request={
        "multipart/form-data": s.ImportUploadSerializer,
        "application/json": s.ImportJsonSerializer,
    },
    responses={
        201: OpenApiResponse(s.ImportReportSerializer, description="Imported."),
        200: OpenApiResponse(
            s.ImportReportSerializer,
            description="Dry run: the file is clean; nothing saved.",
        ),
        **_import_export(
            ImportRejected(
                "The file has 4 errors in 3 rows; nothing was imported.",
                fields={"rows": _ROWS_EXAMPLE},  # type: ignore[dict-item]  # row dicts
            ),
            ValidationError(
                {"format": ["Give the format (csv or json): the file name does not tell."]}
            ),
            413,
            415,
            descriptions={
                400: "`import_rejected`: the file has errors, each in `fields.rows` as "
                '`{"row", "field", "message"}`; nothing was written. `invalid`: the '
                "request itself (format, missing file)."
            },
        ),
    },
    examples=[
        OpenApiExample(
            "JSON body",
            value={"format": "json", "dry_run": False, "questions": [_IMPORT_QUESTION_EXAMPLE]},
            request_only=True,
            media_type="application/json",
        ),
        OpenApiExample(
            "Imported",
            value={"created": 250, "dry_run": False},
            response_only=True,
            status_codes=["201"],
        ),
        OpenApiExample(
            "Dry run",
            value={"created": 250, "dry_run": True},
            response_only=True,
            status_codes=["200"],
        ),
    ],
)

question_export = extend_schema(
    tags=TAG,
    summary="Export questions (CSV or JSON file)",
    description=(
        "Downloads questions (oldest first) as an attachment in exactly the format the "
        "import reads: exporting and importing into an empty bank gives the same "
        "questions. Filters combine; `topic` includes its subtopics. Needs a staff "
        "account with the `testengine.view_question` permission."
    ),
    parameters=[s.ExportQuerySerializer],
    responses={
        (200, "text/csv"): OpenApiResponse(
            OpenApiTypes.STR,
            description="`format=csv` (the default): a CSV file with a header row.",
            examples=[OpenApiExample("CSV", value=_CSV_EXAMPLE)],
        ),
        (200, "application/json"): OpenApiResponse(
            s.ImportQuestionSerializer(many=True),
            description="`format=json`: a JSON list of questions.",
            # drf-spectacular wraps the example of a list response in the list itself.
            examples=[OpenApiExample("JSON", value=_IMPORT_QUESTION_EXAMPLE)],
        ),
        **_import_export(
            ValidationError({"topic": ["Unknown topic 'algebra'."]}),
            ValidationError({"format": ['"xml" is not a valid choice.']}),
        ),
    },
)
