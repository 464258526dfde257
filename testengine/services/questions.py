"""Question writes. One validation (``question_validate``) serves the API, the admin and
the importer, so a question cannot be saved wrong by any door."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from core.markdown import math_errors, render_markdown, unsafe_markup
from testengine.errors import PublishedTestsBroken, QuestionInvalid
from testengine.models import Choice, Question, QuestionStatistics, Topic

if TYPE_CHECKING:
    from accounts.models import User
    from testengine.statistics import ItemStatistics

MAX_CHOICES = 10
TAG_MAX = 50
MAX_TAGS = 30
BODY_MAX = 20_000
CHOICE_MAX = 2_000
MAX_ACCEPTED = 50
_B_PRIOR = {"easy": -1.0, "medium": 0.0, "hard": 1.0}


@dataclass(frozen=True)
class ChoiceData:
    body_md: str
    is_correct: bool = False
    id: int | None = None


@dataclass(frozen=True)
class QuestionData:
    """Everything that defines a question, as the API, admin or importer received it."""

    type: str
    topic: Topic
    body_md: str
    explanation_md: str = ""
    difficulty: str = Question.Difficulty.MEDIUM
    status: str = Question.Status.DRAFT
    tags: tuple[str, ...] = ()
    marks: Decimal = Decimal("1")
    negative_marks: Decimal = Decimal("0")
    numeric_answer: Decimal | None = None
    numeric_tolerance: Decimal = Decimal("0")
    tolerance_kind: str = Question.Tolerance.ABSOLUTE
    accepted_answers: tuple[str, ...] = ()
    choices: tuple[ChoiceData, ...] = ()
    irt_a: float | None = None
    irt_b: float | None = None
    irt_c: float | None = None
    external_id: str | None = None
    image: object | None = field(default=None, compare=False)


def default_irt(*, type: str, difficulty: str, choice_count: int) -> tuple[float, float, float]:
    """Cold-start 3PL parameters: b from the difficulty label, a = 1, c = chance of a blind
    guess for single-answer choice questions (0 where guessing cannot score)."""
    guess = 0.0
    if type in (Question.Type.SINGLE, Question.Type.TRUE_FALSE) and choice_count:
        guess = round(1 / choice_count, 4)
    return 1.0, _B_PRIOR.get(difficulty, 0.0), guess


def normalise_tags(tags: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for tag in tags:
        clean = "-".join(str(tag).strip().lower().split())
        if clean:
            seen[clean] = None
    return tuple(seen)


Add = Callable[[str, str], None]


def question_validate(data: QuestionData) -> dict[str, list[str]]:
    """Every reason the question cannot be saved, by field. Empty when it is valid.

    The checks every question shares, then its type's own (``_TYPE_CHECKS``: what the type
    needs, and that it carries nothing another type would), then the IRT parameters."""
    errors: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    _check_labels(data, add)
    _check_texts(data, add)
    _TYPE_CHECKS.get(data.type, _check_unknown_type)(data, add)
    _check_irt(data, add)
    return errors


def _check_labels(data: QuestionData, add: Add) -> None:
    if data.type not in Question.Type.values:
        add("type", f"Choose one of: {', '.join(Question.Type.values)}.")
    if data.difficulty not in Question.Difficulty.values:
        add("difficulty", f"Choose one of: {', '.join(Question.Difficulty.values)}.")
    if data.status not in Question.Status.values:
        add("status", f"Choose one of: {', '.join(Question.Status.values)}.")


def _check_texts(data: QuestionData, add: Add) -> None:
    if not data.body_md.strip():
        add("body_md", "The question needs a text.")
    if len(data.body_md) > BODY_MAX:
        add("body_md", f"At most {BODY_MAX} characters.")
    if len(data.explanation_md) > BODY_MAX:
        add("explanation_md", f"At most {BODY_MAX} characters.")
    if len(data.tags) > MAX_TAGS:
        add("tags", f"At most {MAX_TAGS} tags.")
    for name, text in (("body_md", data.body_md), ("explanation_md", data.explanation_md)):
        found = unsafe_markup(text)
        if found:
            add(name, f"Remove the HTML that could run code ({found!r}); use Markdown.")
        for message in math_errors(text):
            add(name, message)
    if any(len(tag) > TAG_MAX for tag in data.tags):
        add("tags", f"Tags are at most {TAG_MAX} characters.")
    if data.marks < 0:
        add("marks", "Marks cannot be negative.")
    if data.negative_marks < 0:
        add("negative_marks", "Give the penalty as a positive number (0 for none).")


# --- by type: each runs its parts in the same order (choices, numeric, text), so a field's
# messages come in the same order whatever the type.


def _check_single(data: QuestionData, add: Add) -> None:
    _check_choice_texts(data, add)
    _check_choice_count(data, add)
    correct = _correct_count(data)
    if correct != 1:
        add(
            "choices",
            f"A single-choice question has exactly one correct choice ({correct} marked).",
        )
    _check_not_numeric(data, add)
    _check_not_text(data, add)


def _check_multiple(data: QuestionData, add: Add) -> None:
    _check_choice_texts(data, add)
    _check_choice_count(data, add)
    if _correct_count(data) == 0:
        add("choices", "Mark at least one choice correct.")
    _check_not_numeric(data, add)
    _check_not_text(data, add)


def _check_true_false(data: QuestionData, add: Add) -> None:
    _check_choice_texts(data, add)
    if len(data.choices) != 2:
        add("choices", "A true/false question has exactly two choices.")
    if _correct_count(data) != 1:
        add("choices", "Mark exactly one of the two choices correct.")
    _check_not_numeric(data, add)
    _check_not_text(data, add)


def _check_numeric(data: QuestionData, add: Add) -> None:
    _check_no_choices(data, add)
    _check_tolerance_sign(data, add)
    if data.numeric_answer is None:
        add("numeric_answer", "A numeric question needs its answer.")
    if data.tolerance_kind not in Question.Tolerance.values:
        add("tolerance_kind", "Choose absolute or relative.")
    if data.tolerance_kind == Question.Tolerance.RELATIVE and data.numeric_tolerance >= 1:
        add("numeric_tolerance", "A relative tolerance is a fraction below 1 (0.01 = 1%).")
    _check_not_text(data, add)


def _check_text(data: QuestionData, add: Add) -> None:
    _check_no_choices(data, add)
    _check_not_numeric(data, add)
    if not any(answer.strip() for answer in data.accepted_answers):
        add("accepted_answers", "A short-text question needs at least one accepted answer.")
    if len(data.accepted_answers) > MAX_ACCEPTED:
        add("accepted_answers", f"At most {MAX_ACCEPTED} accepted answers.")
    if any(len(answer) > 200 for answer in data.accepted_answers):
        add("accepted_answers", "Accepted answers are at most 200 characters.")


def _check_unknown_type(data: QuestionData, add: Add) -> None:
    # The type itself is refused by _check_labels; what it carries is checked as for a
    # type that has none of it.
    _check_no_choices(data, add)
    _check_not_numeric(data, add)
    _check_not_text(data, add)


_TYPE_CHECKS: dict[str, Callable[[QuestionData, Add], None]] = {
    Question.Type.SINGLE: _check_single,
    Question.Type.MULTIPLE: _check_multiple,
    Question.Type.TRUE_FALSE: _check_true_false,
    Question.Type.NUMERIC: _check_numeric,
    Question.Type.TEXT: _check_text,
}


# --- the parts the types share


def _correct_count(data: QuestionData) -> int:
    return sum(1 for choice in data.choices if choice.is_correct)


def _check_choice_texts(data: QuestionData, add: Add) -> None:
    choices = data.choices
    if any(not choice.body_md.strip() for choice in choices):
        add("choices", "Every choice needs a text.")
    if any(len(choice.body_md) > CHOICE_MAX for choice in choices):
        add("choices", f"A choice is at most {CHOICE_MAX} characters.")
    if any(unsafe_markup(choice.body_md) for choice in choices):
        add("choices", "Remove the HTML that could run code from the choices.")
    for number, choice in enumerate(choices, start=1):
        for message in math_errors(choice.body_md):
            add("choices", f"Choice {number}: {message}")
    texts = [" ".join(choice.body_md.split()).casefold() for choice in choices]
    if len(set(texts)) != len(texts):
        add("choices", "Two choices have the same text.")


def _check_choice_count(data: QuestionData, add: Add) -> None:
    if len(data.choices) < 2:
        add("choices", "Give at least two choices.")
    if len(data.choices) > MAX_CHOICES:
        add("choices", f"Give at most {MAX_CHOICES} choices.")


def _check_no_choices(data: QuestionData, add: Add) -> None:
    if data.choices:
        add("choices", "Only choice questions have choices.")


def _check_tolerance_sign(data: QuestionData, add: Add) -> None:
    # Checked for every type (the table's constraint is): a non-numeric question keeps the
    # field, and a negative value sent with it must be a 400, not the database's refusal.
    if data.numeric_tolerance < 0:
        add("numeric_tolerance", "The tolerance cannot be negative.")


def _check_not_numeric(data: QuestionData, add: Add) -> None:
    _check_tolerance_sign(data, add)
    if data.numeric_answer is not None:
        add("numeric_answer", "Only numeric questions have a numeric answer.")


def _check_not_text(data: QuestionData, add: Add) -> None:
    if data.accepted_answers:
        add("accepted_answers", "Only short-text questions have accepted answers.")


def _check_irt(data: QuestionData, add: Add) -> None:
    if data.irt_a is not None and data.irt_a <= 0:
        add("irt_a", "Discrimination (a) must be above 0.")
    if data.irt_c is not None and not 0 <= data.irt_c < 1:
        add("irt_c", "Guessing (c) is between 0 and 1.")


def question_clean(data: QuestionData) -> QuestionData:
    """The data as it will be stored: trimmed text, normalised tags and answers."""
    return replace(
        data,
        body_md=data.body_md.strip(),
        explanation_md=data.explanation_md.strip(),
        tags=normalise_tags(data.tags),
        accepted_answers=tuple(
            " ".join(answer.split()) for answer in data.accepted_answers if answer.strip()
        ),
        external_id=(data.external_id or "").strip() or None,
    )


def _require_valid(data: QuestionData) -> QuestionData:
    data = question_clean(data)
    errors = question_validate(data)
    if errors:
        raise QuestionInvalid("The question is not valid.", fields=errors)
    return data


def question_apply(
    question: Question,
    data: QuestionData,
    *,
    previous_prior: tuple[float, float, float] | None = None,
) -> None:
    """Copy valid data onto an (unsaved) question, rendering its Markdown. Importers that
    bulk-insert use this so their rows are exactly what ``question_create`` saves.
    ``previous_prior``: on an update, the prior the question had before (see ``_apply_irt``)."""
    _apply_irt(question, data, previous_prior=previous_prior)
    question.type = data.type
    question.topic = data.topic
    question.body_md = data.body_md
    question.body_html = render_markdown(data.body_md)
    question.explanation_md = data.explanation_md
    question.explanation_html = render_markdown(data.explanation_md)
    question.difficulty = data.difficulty
    question.tags = list(data.tags)
    question.marks = data.marks
    question.negative_marks = data.negative_marks
    question.numeric_answer = data.numeric_answer
    question.numeric_tolerance = data.numeric_tolerance
    question.tolerance_kind = data.tolerance_kind
    question.accepted_answers = list(data.accepted_answers)
    question.external_id = data.external_id
    if data.image is not None:
        # None keeps the image; False (a form's "clear" box) or "" removes it.
        question.image = data.image or ""
    _set_status(question, data.status)


_IRT_FIELDS = ("irt_a", "irt_b", "irt_c")


def _apply_irt(
    question: Question, data: QuestionData, *, previous_prior: tuple[float, float, float] | None
) -> None:
    """The item's 3PL parameters after a create or an update.

    Never calibrated (``irt_source`` "prior"): a value given is kept, a missing one is the
    cold-start prior (``default_irt``) — and on an update, a value sent back unchanged that
    was the *old* prior follows the new one, so changing the difficulty label or the
    choices moves b and c with it, while values staff typed themselves stay.

    Calibrated: parameters fitted from responses survive edits that do not mention them
    (missing or sent back unchanged). Typing other values is a staff override: it makes
    the item a prior again, until the next calibration with enough responses.
    """
    prior = default_irt(type=data.type, difficulty=data.difficulty, choice_count=len(data.choices))
    given = (data.irt_a, data.irt_b, data.irt_c)
    stored = tuple(getattr(question, name) for name in _IRT_FIELDS)
    if previous_prior is not None and question.irt_source == Question.IrtSource.CALIBRATED:
        if all(value is None or value == old for value, old in zip(given, stored, strict=True)):
            return
        for name, value in zip(_IRT_FIELDS, given, strict=True):
            if value is not None:
                setattr(question, name, value)
        question.irt_source = Question.IrtSource.PRIOR
        question.irt_calibrated_at = None
        question.irt_responses = 0
        return
    old_prior = previous_prior or (None, None, None)
    for name, value, old, was_prior, new_prior in zip(
        _IRT_FIELDS, given, stored, old_prior, prior, strict=True
    ):
        follows_prior = value is None or (previous_prior is not None and value == old == was_prior)
        setattr(question, name, new_prior if follows_prior else value)


def _set_status(question: Question, status: str) -> None:
    if status == Question.Status.PUBLISHED and question.published_at is None:
        question.published_at = timezone.now()
    question.status = status


def _content_fingerprint(question: Question, choices: Iterable[Choice]) -> tuple[Any, ...]:
    """What a learner sees or is marked on; a change bumps the version."""
    return (
        question.type,
        question.body_md,
        question.explanation_md,
        # Decimals compare by value: 1 == 1.00 (strings would not).
        Decimal(question.marks),
        Decimal(question.negative_marks),
        None if question.numeric_answer is None else Decimal(question.numeric_answer),
        Decimal(question.numeric_tolerance),
        question.tolerance_kind,
        tuple(question.accepted_answers),
        question.image.name if question.image else "",
        tuple((choice.body_md, choice.is_correct) for choice in choices),
    )


def choice_objects(question: Question, choices: Iterable[ChoiceData]) -> list[Choice]:
    """Unsaved ``Choice`` rows for ``question``, rendered and ordered."""
    return [
        Choice(
            id=choice.id,
            question=question,
            body_md=choice.body_md.strip(),
            body_html=render_markdown(choice.body_md.strip()),
            is_correct=choice.is_correct,
            order=index,
        )
        for index, choice in enumerate(choices)
    ]


@transaction.atomic
def question_create(*, data: QuestionData, by: User | None = None) -> Question:
    """Create a question with its choices, refusing anything ``question_validate`` finds."""
    data = _require_valid(data)
    _check_external_id(data.external_id, exclude_pk=None)
    question = Question(created_by=by)
    question_apply(question, data)
    question.save()
    Choice.objects.bulk_create(choice_objects(question, replace_ids(data.choices)))
    return question


def replace_ids(choices: Iterable[ChoiceData]) -> list[ChoiceData]:
    return [replace(choice, id=None) for choice in choices]


@transaction.atomic
def question_update(*, question: Question, data: QuestionData) -> Question:
    """Replace a question's definition. Choices keep their ids when sent with them (the
    rest are created, the missing ones removed). Papers already generated keep their own
    snapshot; a change to what learners see bumps ``version``."""
    data = _require_valid(data)
    question = Question.objects.select_for_update().get(pk=question.pk)
    _check_external_id(data.external_id, exclude_pk=question.pk)
    existing = {choice.id: choice for choice in question.choices.all()}
    unknown = [choice.id for choice in data.choices if choice.id and choice.id not in existing]
    if unknown:
        raise QuestionInvalid(
            fields={"choices": [f"Choice {unknown[0]} does not belong to this question."]}
        )
    before = _content_fingerprint(question, existing.values())
    previous_prior = default_irt(
        type=question.type, difficulty=question.difficulty, choice_count=len(existing)
    )
    drawn_by = (
        question.status,
        question.topic_id,
        question.difficulty,
        question.type,
        tuple(question.tags),
    )
    question_apply(question, data, previous_prior=previous_prior)
    wanted = choice_objects(question, data.choices)
    if before != _content_fingerprint(question, wanted):
        question.version += 1
    question.save()
    keep = {choice.id for choice in wanted if choice.id}
    question.choices.exclude(id__in=keep).delete()
    Choice.objects.bulk_update(
        [c for c in wanted if c.id], ["body_md", "body_html", "is_correct", "order"]
    )
    Choice.objects.bulk_create([c for c in wanted if not c.id])
    was_published = drawn_by[0] == Question.Status.PUBLISHED
    if was_published and drawn_by != (
        question.status,
        question.topic_id,
        question.difficulty,
        question.type,
        tuple(question.tags),
    ):
        _keep_published_tests_fillable([question], old_topic_ids={drawn_by[1]})
    return question


def _check_external_id(external_id: str | None, *, exclude_pk: int | None) -> None:
    if (
        external_id
        and Question.objects.filter(external_id=external_id)
        .exclude(pk=exclude_pk)  # type: ignore[misc]  # pk=None excludes nothing
        .exists()
    ):
        raise QuestionInvalid(fields={"external_id": ["Another question has this external id."]})


@transaction.atomic
def question_set_status(*, questions: Iterable[Question], status: str) -> int:
    """Publish, retire or return questions to draft. Returns how many changed."""
    if status not in Question.Status.values:
        raise QuestionInvalid(fields={"status": ["Unknown status."]})
    changed: list[Question] = []
    for question in (
        Question.objects.select_for_update().filter(pk__in=[q.pk for q in questions]).order_by("pk")
    ):
        if question.status != status:
            _set_status(question, status)
            question.save(update_fields=["status", "published_at", "updated_at"])
            changed.append(question)
    if status != Question.Status.PUBLISHED and changed:
        _keep_published_tests_fillable(changed, old_topic_ids=set())
    return len(changed)


@transaction.atomic
def question_set_free_practice(*, questions: Iterable[Question], free: bool) -> int:
    """Put questions into the free practice pool (any learner may practise them and read
    their solutions; tests' rules stop drawing them) or take them out. Refused, changing
    nothing, when leaving the pools would leave a published test unable to build a paper.
    Returns how many changed."""
    changed: list[Question] = []
    for question in (
        Question.objects.select_for_update().filter(pk__in=[q.pk for q in questions]).order_by("pk")
    ):
        if question.free_practice != free:
            question.free_practice = free
            question.save(update_fields=["free_practice", "updated_at"])
            changed.append(question)
    if free and changed:
        _keep_published_tests_fillable(changed, old_topic_ids=set())
    return len(changed)


def _keep_published_tests_fillable(questions: list[Question], *, old_topic_ids: set[int]) -> None:
    """Refuse (and so roll back) a change that leaves a published test unable to build a
    paper: learners would be locked out of it. Staff unpublish or edit the test first."""
    from testengine.services.tests import published_tests_broken_by

    broken = published_tests_broken_by(
        topic_ids={q.topic_id for q in questions} | old_topic_ids,
        question_ids={q.pk for q in questions},
    )
    if broken:
        raise PublishedTestsBroken(fields={"tests": broken})


def question_data_from(question: Question) -> QuestionData:
    """The current definition of a saved question, e.g. to change one field of it."""
    return QuestionData(
        type=question.type,
        topic=question.topic,
        body_md=question.body_md,
        explanation_md=question.explanation_md,
        difficulty=question.difficulty,
        status=question.status,
        tags=tuple(question.tags),
        marks=question.marks,
        negative_marks=question.negative_marks,
        numeric_answer=question.numeric_answer,
        numeric_tolerance=question.numeric_tolerance,
        tolerance_kind=question.tolerance_kind,
        accepted_answers=tuple(question.accepted_answers),
        choices=tuple(
            ChoiceData(id=choice.id, body_md=choice.body_md, is_correct=choice.is_correct)
            for choice in question.choices.all()
        ),
        irt_a=question.irt_a,
        irt_b=question.irt_b,
        irt_c=question.irt_c,
        external_id=question.external_id,
    )


def parse_decimal(value: object, *, field_name: str) -> Decimal:
    """A Decimal from user input, or a field error naming the field."""
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise QuestionInvalid(fields={field_name: ["Enter a number."]}) from exc
    if not number.is_finite():
        raise QuestionInvalid(fields={field_name: ["Enter a finite number."]})
    return number


@transaction.atomic
def question_statistics_store(*, statistics: Iterable[ItemStatistics]) -> int:
    """Store computed item statistics (``testengine.statistics.ItemStatistics``), one row
    per question, replacing earlier figures. Returns how many rows were written."""
    now = timezone.now()
    rows = [
        QuestionStatistics(
            question_id=item.question_id,
            responses=item.responses,
            facility=item.facility,
            discrimination=item.discrimination,
            discriminative_efficiency=item.discriminative_efficiency,
            mark_sd=item.mark_sd,
            computed_at=now,
        )
        for item in statistics
    ]
    QuestionStatistics.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["question"],
        update_fields=[
            "responses",
            "facility",
            "discrimination",
            "discriminative_efficiency",
            "mark_sd",
            "computed_at",
        ],
    )
    return len(rows)
