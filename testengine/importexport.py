"""Question import and export, in CSV and JSON.

An import is all or nothing: every row is parsed and checked first (each question by
``services.question_validate``, the one validation path of the bank), every problem is
reported with its row number, and only a file without a single error is written, in one
transaction, with a handful of bulk inserts. Export writes exactly the format import reads.

Formats (one question per CSV row / JSON object)::

    external_id, topic (slug), type, body, explanation, difficulty, status, tags, marks,
    negative_marks, choices, correct (CSV only), numeric_answer, numeric_tolerance,
    tolerance_kind, accepted_answers

JSON is a list of objects with those keys; ``tags`` and ``accepted_answers`` are lists of
texts and ``choices`` a list of ``{"text", "correct"}``. In CSV, ``tags``,
``accepted_answers`` and ``choices`` are ``|``-separated (``\\|`` is a literal bar and
``\\\\`` a literal backslash) and ``correct`` lists the 1-based numbers of the correct
choices (``2`` or ``1|3``). Empty cells and missing keys take the defaults of a new
question. Numbers may be JSON numbers or texts; export writes them as texts so no digit is
lost to floating point.

A CSV cell that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, after any leading ``'``) is written with a ``'`` in
front, and import removes exactly that one ``'`` (``core.spreadsheets``): the round trip is
lossless.

Row numbers are what a person sees: CSV rows count from 2 (the header is row 1), JSON
questions from 1. Row 0 is the file as a whole (not UTF-8, not JSON, empty, too long).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, QuerySet
from django.utils import timezone

from core.spreadsheets import formula_neutralised, formula_restored
from testengine.bank import bank_changed
from testengine.errors import ImportRejected, QuestionInvalid
from testengine.models import Choice, Question, Topic

# The question service's own clean-up and model building: reusing them makes an imported
# question exactly what question_create saves.
from testengine.services.questions import (
    ChoiceData,
    QuestionData,
    choice_objects,
    parse_decimal,
    question_apply,
    question_clean,
    question_validate,
)

if TYPE_CHECKING:
    from accounts.models import User

CSV = "csv"
JSON = "json"
FORMATS = (CSV, JSON)
CONTENT_TYPES = {CSV: "text/csv; charset=utf-8", JSON: "application/json"}
MAX_ROWS = 20_000
BATCH_SIZE = 1000
# Existing external ids are looked up in chunks of this many (one query each).
_LOOKUP_CHUNK = 5000

COLUMNS = (
    "external_id",
    "topic",
    "type",
    "body",
    "explanation",
    "difficulty",
    "status",
    "tags",
    "marks",
    "negative_marks",
    "choices",
    "correct",
    "numeric_answer",
    "numeric_tolerance",
    "tolerance_kind",
    "accepted_answers",
)
REQUIRED_COLUMNS = ("topic", "type", "body")
_COLUMN_ORDER = {name: index for index, name in enumerate(COLUMNS)}
JSON_KEYS = tuple(name for name in COLUMNS if name != "correct")
_TEXT_KEYS = (
    "external_id",
    "topic",
    "type",
    "body",
    "explanation",
    "difficulty",
    "status",
    "tolerance_kind",
)
_NUMBER_KEYS = ("marks", "negative_marks", "numeric_answer", "numeric_tolerance")
_LIST_KEYS = ("tags", "accepted_answers")
_CHOICE_KEYS = ("text", "correct")
# question_validate names fields as QuestionData does; people know them by column.
_FIELD_NAMES = {"body_md": "body", "explanation_md": "explanation"}
# Errors about these fields only make sense once the type is known.
_TYPE_DEPENDENT = ("choices", "numeric_answer", "accepted_answers")
_EXTERNAL_ID_MAX: int = Question._meta.get_field("external_id").max_length  # type: ignore[assignment]


@dataclass(frozen=True)
class ImportReport:
    """What an import did (or, as a dry run, would do)."""

    created: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    dry_run: bool = False


class _Errors:
    """Every problem found, as ``{"row", "field", "message"}``, in the order found."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, row: int, field_name: str, message: str) -> None:
        self.items.append({"row": row, "field": field_name, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)

    def rejected(self) -> ImportRejected:
        """The error to raise: the problems by row, and in a row by column."""
        rows = sorted(
            self.items, key=lambda item: (item["row"], _COLUMN_ORDER.get(item["field"], 99))
        )
        bad_rows = len({item["row"] for item in rows})
        detail = (
            f"The file has {_plural(len(rows), 'error')} in {_plural(bad_rows, 'row')}; "
            "nothing was imported."
        )
        return ImportRejected(detail, fields={"rows": rows})  # type: ignore[dict-item]  # row dicts


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


class _FileError(Exception):
    """The file cannot be read at all, so no row can be checked. ``problems`` holds
    ``(row, field, message)`` triples: the file (row 0) or its header (row 1)."""

    def __init__(self, *problems: tuple[int, str, str]) -> None:
        super().__init__(problems[0][2])
        self.problems = problems


def _file_error(message: str, *, row: int = 0, field_name: str = "file") -> _FileError:
    return _FileError((row, field_name, message))


@dataclass
class _Row:
    """One question as read from the file, before any checking of its values."""

    number: int
    values: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(JSON_KEYS))
    choices: list[tuple[str, bool]] = field(default_factory=list)
    # Values that could not be read, by column; a reason the row cannot be read at all.
    problems: dict[str, str] = field(default_factory=dict)
    unreadable: str | None = None

    @property
    def external_id(self) -> str | None:
        value = self.values["external_id"]
        return (value.strip() or None) if isinstance(value, str) else None


# --- public API --------------------------------------------------------------------------


def format_from_filename(name: str) -> str | None:
    """``csv`` or ``json`` from a file name's extension, None when it tells neither."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return suffix if suffix in FORMATS else None


def questions_import(
    *, content: bytes | str, fmt: str, dry_run: bool = False, by: User | None = None
) -> ImportReport:
    """Import questions from a CSV or JSON file, all or nothing.

    Every row is read and checked before anything is written; any problem anywhere
    (unreadable file, missing column, unknown topic, bad number, a choice number out of
    range, anything ``question_validate`` refuses, an external id repeated in the file or
    already in the bank, more than ``MAX_ROWS`` rows) raises ``ImportRejected`` listing
    every problem with its row, and nothing is written. A dry run checks everything the
    same way and writes nothing. Questions are saved as ``question_create`` would save
    them, all in one transaction.
    """
    errors = _Errors()
    try:
        rows = list(_read(content, fmt))
    except _FileError as exc:
        for row, field_name, message in exc.problems:
            errors.add(row, field_name, message)
        raise errors.rejected() from None
    valid = _check(rows, errors)
    if errors:
        raise errors.rejected()
    if dry_run:
        return ImportReport(created=len(valid), dry_run=True)
    _write(valid, by=by)
    return ImportReport(created=len(valid))


def export_filename(fmt: str) -> str:
    """A download name that sorts by time: ``questions-20261122-101500.csv`` (UTC)."""
    return f"questions-{timezone.now():%Y%m%d-%H%M%S}.{fmt}"


def questions_export(*, queryset: QuerySet[Question], fmt: str) -> str:
    """The questions of ``queryset`` in the format ``questions_import`` reads, oldest
    first, so that importing the result into an empty bank gives the same questions."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}; choose one of {FORMATS}.")
    questions = (
        queryset.select_related("topic")
        .prefetch_related("choices")
        .order_by("pk")
        .iterator(chunk_size=2000)
    )
    items = (_export_item(question) for question in questions)
    if fmt == JSON:
        return json.dumps(list(items), ensure_ascii=False, indent=2) + "\n"
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    writer.writerows(_csv_cells(item) for item in items)
    return buffer.getvalue()


# --- reading -----------------------------------------------------------------------------


def _read(content: bytes | str, fmt: str) -> Iterator[_Row]:
    if fmt not in FORMATS:
        raise _file_error(f"Choose the format: {' or '.join(FORMATS)}.", field_name="format")
    text = _decode(content)
    if not text.strip():
        raise _file_error("The file is empty.")
    return _read_csv(text) if fmt == CSV else _read_json(text)


def _decode(content: bytes | str) -> str:
    if isinstance(content, str):
        return content.removeprefix("\ufeff")
    try:
        # utf-8-sig drops the byte-order mark spreadsheets put in front of "CSV UTF-8".
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). "
            "Save it as UTF-8 (in a spreadsheet: “CSV UTF-8”)."
        ) from None


def _read_csv(text: str) -> Iterator[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows: list[_Row] = []
    number = 0  # the last row read; the header is row 1
    try:
        header = [name.strip().lower() for name in next(reader, [])]
        number = 1
        _check_header(header)
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue  # a blank line is not a question
            if len(rows) == MAX_ROWS:
                raise _file_error(f"The file has more than {MAX_ROWS} questions; split it.")
            rows.append(_csv_row(number, header, cells))
    except csv.Error as exc:
        raise _file_error(f"The CSV cannot be read here: {exc}.", row=number + 1) from None
    if not rows:
        raise _file_error("The file has no questions, only a header.")
    return iter(rows)


def _check_header(header: list[str]) -> None:
    """Every header problem at once: unknown, repeated and missing columns."""
    problems: list[tuple[int, str, str]] = []
    seen: set[str] = set()
    for name in header:
        if name not in COLUMNS:
            problems.append(
                (1, name or "(empty)", f"Unknown column; the columns are {', '.join(COLUMNS)}.")
            )
        elif name in seen:
            problems.append((1, name, "This column appears twice."))
        seen.add(name)
    problems.extend(
        (1, name, "This column is required.") for name in REQUIRED_COLUMNS if name not in seen
    )
    if problems:
        raise _FileError(*problems)


def _csv_row(number: int, header: list[str], cells: list[str]) -> _Row:
    row = _Row(number=number)
    values = row.values
    if len(cells) != len(header):
        row.unreadable = f"This row has {len(cells)} cells; the header has {len(header)} columns."
        return row
    given = dict(zip(header, map(formula_restored, cells), strict=True))
    for name in (*_TEXT_KEYS, *_NUMBER_KEYS):
        cell = given.get(name, "")
        values[name] = cell if cell.strip() else None
    for name in _LIST_KEYS:
        values[name] = split_cell(given.get(name, ""))
    texts = split_cell(given.get("choices", ""))
    correct, problem = _correct_numbers(given.get("correct", ""), len(texts))
    if problem:
        row.problems["correct"] = problem
    row.choices = [(text, index in correct) for index, text in enumerate(texts, start=1)]
    return row


def _correct_numbers(cell: str, choice_count: int) -> tuple[set[int], str | None]:
    numbers: set[int] = set()
    for part in split_cell(cell):
        part = part.strip()
        if not (part.isascii() and part.isdigit() and len(part) <= 4):
            return set(), f"Give the numbers of the correct choices, e.g. 2 or 1|3 (not {part!r})."
        number = int(part)
        if not 1 <= number <= choice_count:
            return set(), (
                f"There is no choice {number}: the row has {_plural(choice_count, 'choice')}."
            )
        numbers.add(number)
    return numbers, None


def _read_json(text: str) -> Iterator[_Row]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _file_error(f"The file is not valid JSON: {exc}.") from None
    if not isinstance(data, list):
        raise _file_error("The file must be a JSON list of questions.")
    if not data:
        raise _file_error("The file has no questions.")
    if len(data) > MAX_ROWS:
        raise _file_error(f"The file has more than {MAX_ROWS} questions; split it.")
    return (_json_row(number, item) for number, item in enumerate(data, start=1))


def _json_row(number: int, item: object) -> _Row:
    row = _Row(number=number)
    values, problems = row.values, row.problems
    if not isinstance(item, dict):
        row.unreadable = "Each question is a JSON object."
        return row
    problems.update({str(key): "Unknown field." for key in item if key not in JSON_KEYS})
    for name in _TEXT_KEYS:
        value = item.get(name)
        if name == "external_id" and isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # ids that a spreadsheet turned into numbers
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, str):
            values[name] = value
        else:
            problems[name] = "Enter a text."
    for name in _NUMBER_KEYS:
        value = item.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            problems[name] = "Enter a number."
        else:
            values[name] = value
    for name in _LIST_KEYS:
        value = item.get(name)
        if value is None:
            values[name] = []
        elif isinstance(value, list) and all(isinstance(entry, str) for entry in value):
            values[name] = value
        else:
            problems[name] = "Give a list of texts."
    row.choices, choice_problem = _json_choices(item.get("choices"))
    if choice_problem:
        problems["choices"] = choice_problem
    return row


def _json_choices(value: object) -> tuple[list[tuple[str, bool]], str | None]:
    if value is None:
        return [], None
    if not isinstance(value, list):
        return [], 'Give a list of {"text", "correct"} objects.'
    choices = []
    for position, choice in enumerate(value, start=1):
        if (
            not isinstance(choice, dict)
            or set(choice) - set(_CHOICE_KEYS)
            or not isinstance(choice.get("text"), str)
            or not isinstance(choice.get("correct", False), bool)
        ):
            return [], (
                f'Choice {position}: give {{"text": "…", "correct": true or false}} '
                "and nothing else."
            )
        choices.append((choice["text"], choice.get("correct", False)))
    return choices, None


# --- checking ----------------------------------------------------------------------------


def _check(rows: list[_Row], errors: _Errors) -> list[QuestionData]:
    """Each row as a clean QuestionData, reporting every problem of every row."""
    # NUL bytes never reach PostgreSQL (it refuses them): such values simply match nothing
    # here, and the row check reports them.
    slugs = {
        row.values["topic"].strip()
        for row in rows
        if isinstance(row.values["topic"], str) and "\x00" not in row.values["topic"]
    }
    topics = Topic.objects.in_bulk(slugs, field_name="slug") if slugs else {}
    first_row_of: dict[str, int] = {}
    repeated: set[int] = set()
    for row in rows:
        external_id = row.external_id
        if not external_id:
            continue
        if external_id in first_row_of:
            errors.add(
                row.number,
                "external_id",
                f"Row {first_row_of[external_id]} has the same external id.",
            )
            repeated.add(row.number)
        else:
            first_row_of[external_id] = row.number
    for external_id in _existing_external_ids([e for e in first_row_of if "\x00" not in e]):
        errors.add(
            first_row_of[external_id],
            "external_id",
            f"A question with external id {external_id!r} is already in the bank.",
        )
    valid = []
    for row in rows:
        data = _question_data(row, topics, errors)
        if data is not None and row.number not in repeated:
            valid.append(data)
    return valid


def _question_data(row: _Row, topics: dict[str, Topic], errors: _Errors) -> QuestionData | None:
    """The row as a clean QuestionData, or None after reporting each of its problems: the
    values that cannot be read, then what ``question_validate`` says about the rest."""
    values = row.values
    if row.unreadable:
        errors.add(row.number, "row", row.unreadable)
        return None
    found = dict(row.problems)
    texts = [
        *((name, values[name]) for name in _TEXT_KEYS),
        *((name, text) for name in _LIST_KEYS for text in values[name] or ()),
        *(("choices", text) for text, _ in row.choices),
    ]
    for name, text in texts:
        if isinstance(text, str) and "\x00" in text:
            found.setdefault(name, "Remove the NUL character.")

    numbers: dict[str, Decimal] = {}
    for name in _NUMBER_KEYS:
        if values[name] is not None and name not in found:
            number, problem = _number(name, values[name])
            if problem:
                found[name] = problem
            else:
                numbers[name] = number

    external_id = row.external_id
    if external_id and len(external_id) > _EXTERNAL_ID_MAX:
        found.setdefault("external_id", f"External ids are at most {_EXTERNAL_ID_MAX} characters.")
    slug = (values["topic"] or "").strip()
    topic = topics.get(slug)
    if "topic" not in found:
        if not slug:
            found["topic"] = "Give the topic's slug."
        elif topic is None:
            found["topic"] = f"Unknown topic {slug!r}."

    data = question_clean(
        QuestionData(
            type=(values["type"] or "").strip(),
            # Validation does not look at the topic; an unsaved stand-in keeps the type.
            topic=topic or Topic(slug=slug),
            body_md=values["body"] or "",
            explanation_md=values["explanation"] or "",
            difficulty=(values["difficulty"] or Question.Difficulty.MEDIUM).strip(),
            status=(values["status"] or Question.Status.DRAFT).strip(),
            tags=tuple(values["tags"] or ()),
            marks=numbers.get("marks", Decimal("1")),
            negative_marks=numbers.get("negative_marks", Decimal("0")),
            numeric_answer=numbers.get("numeric_answer"),
            numeric_tolerance=numbers.get("numeric_tolerance", Decimal("0")),
            tolerance_kind=(values["tolerance_kind"] or Question.Tolerance.ABSOLUTE).strip(),
            accepted_answers=tuple(values["accepted_answers"] or ()),
            choices=tuple(ChoiceData(body_md=text, is_correct=ok) for text, ok in row.choices),
            external_id=external_id,
        )
    )
    rule_errors = question_validate(data)
    if "type" in rule_errors:
        for name in _TYPE_DEPENDENT:
            rule_errors.pop(name, None)
    for name, messages in rule_errors.items():
        column = _FIELD_NAMES.get(name, name)
        if column in found or (column == "choices" and "correct" in found):
            continue  # the value could not even be read; that is the error to fix first
        for message in messages:
            errors.add(row.number, column, message)
    for name, message in found.items():
        errors.add(row.number, name, message)
    if found or rule_errors:
        return None
    return data


def _number(name: str, value: object) -> tuple[Decimal, str | None]:
    """A Decimal that fits the model field, or the reason it does not."""
    try:
        number = parse_decimal(value, field_name=name)
    except QuestionInvalid as exc:
        return Decimal(0), (exc.fields or {})[name][0]
    model_field = cast("DecimalField[Any, Any]", Question._meta.get_field(name))
    try:
        DecimalValidator(model_field.max_digits, model_field.decimal_places)(number)
    except ValidationError as exc:
        return Decimal(0), exc.messages[0]
    return number, None


def _existing_external_ids(external_ids: list[str]) -> Iterator[str]:
    for start in range(0, len(external_ids), _LOOKUP_CHUNK):
        chunk = external_ids[start : start + _LOOKUP_CHUNK]
        yield from Question.objects.filter(external_id__in=chunk).values_list(  # type: ignore[misc]
            "external_id", flat=True
        )


# --- writing -----------------------------------------------------------------------------


def _write(valid: list[QuestionData], *, by: User | None) -> None:
    """Insert every question and then every choice, in one transaction.

    The objects (with their rendered HTML) are built before the transaction starts so it
    stays short. Another writer may take an external id or delete a topic between the
    check and the insert: the database refuses, everything rolls back, and the import is
    rejected as a whole.
    """
    questions: list[Question] = []
    choices: list[Choice] = []
    for data in valid:
        question = Question(created_by=by)
        question_apply(question, data)
        questions.append(question)
        choices.extend(choice_objects(question, data.choices))
    try:
        with transaction.atomic():
            Question.objects.bulk_create(questions, batch_size=BATCH_SIZE)
            Choice.objects.bulk_create(choices, batch_size=BATCH_SIZE)
            bank_changed()  # bulk_create sends no signals
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) not in ("23505", "23503"):
            raise  # a broken invariant, not a race: let it be seen
        errors = _Errors()
        errors.add(
            0,
            "file",
            "The bank changed while importing (an external id was taken or a topic was "
            "deleted); nothing was imported. Try again.",
        )
        raise errors.rejected() from exc


# --- export ------------------------------------------------------------------------------


def _text(number: Decimal | None) -> str | None:
    """A Decimal as the shortest text that keeps its value: 1.00 → "1", 0.250000 → "0.25"."""
    if number is None:
        return None
    text = format(number.normalize(), "f")
    return "0" if text == "-0" else text


def _export_item(question: Question) -> dict[str, Any]:
    return {
        "external_id": question.external_id,
        "topic": question.topic.slug,
        "type": question.type,
        "body": question.body_md,
        "explanation": question.explanation_md,
        "difficulty": question.difficulty,
        "status": question.status,
        "tags": list(question.tags),
        "marks": _text(question.marks),
        "negative_marks": _text(question.negative_marks),
        "choices": [
            {"text": choice.body_md, "correct": choice.is_correct}
            for choice in question.choices.all()
        ],
        "numeric_answer": _text(question.numeric_answer),
        "numeric_tolerance": _text(question.numeric_tolerance),
        "tolerance_kind": question.tolerance_kind,
        "accepted_answers": list(question.accepted_answers),
    }


def _csv_cells(item: dict[str, Any]) -> list[str]:
    choices = item["choices"]
    values = {
        **item,
        "tags": join_cell(item["tags"]),
        "accepted_answers": join_cell(item["accepted_answers"]),
        "choices": join_cell(choice["text"] for choice in choices),
        "correct": join_cell(
            str(number) for number, choice in enumerate(choices, start=1) if choice["correct"]
        ),
    }
    # Cells a spreadsheet would run as formulas get a ' in front; _csv_row removes it.
    return [
        "" if values[name] is None else formula_neutralised(str(values[name])) for name in COLUMNS
    ]


def join_cell(values: Iterable[str]) -> str:
    """Texts joined with ``|`` in one CSV cell; ``|`` and ``\\`` inside them are escaped."""
    return "|".join(value.replace("\\", "\\\\").replace("|", "\\|") for value in values)


def split_cell(cell: str) -> list[str]:
    """The texts of a ``|``-separated cell (``join_cell`` reversed). ``\\|`` is a bar and
    ``\\\\`` a backslash; any other backslash is kept as written, so Markdown escapes
    such as ``\\*`` survive."""
    if not cell.strip():
        return []
    parts: list[str] = []
    current: list[str] = []
    chars = iter(cell)
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            if following in ("|", "\\"):
                current.append(following)
            else:
                current.append(char + following)
        elif char == "|":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
