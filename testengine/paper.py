"""Paper generation: a test's blueprint + a seed → a frozen paper.

A paper holds everything needed to show and to mark a sitting later (question content,
choice order, marks, answer key) so that editing or retiring questions never changes a
sitting that has already started. The same test definition, bank and seed always give
the same paper.

Rules are filled by fetching only the *ids* of matching published questions (an index
scan, ``testengine_q_pick_idx``) and sampling them with a seeded ``random.Random``; no
``ORDER BY random()`` over the table. Then one query loads the chosen questions and one
their choices.
"""

from __future__ import annotations

import random
from array import array
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import F

from testengine.bank import candidate_pools
from testengine.errors import PaperUnavailable
from testengine.models import Choice, Question, Section, SectionQuestion, Test

PAPER_FORMAT = 1
CENT = Decimal("0.01")


@dataclass(frozen=True)
class PaperChoice:
    id: int
    body_html: str
    is_correct: bool


@dataclass(frozen=True)
class PaperQuestion:
    id: int
    version: int
    type: str
    topic_id: int
    topic: str
    difficulty: str
    body_html: str
    explanation_html: str
    image: str
    choices: tuple[PaperChoice, ...]
    marks: Decimal
    negative_marks: Decimal
    unattempted_marks: Decimal
    partial_marking: bool
    numeric_answer: Decimal | None
    numeric_tolerance: Decimal
    tolerance_kind: str
    accepted_answers: tuple[str, ...]
    irt: tuple[float, float, float]

    @property
    def correct_choice_ids(self) -> frozenset[int]:
        return frozenset(choice.id for choice in self.choices if choice.is_correct)

    @property
    def choice_ids(self) -> frozenset[int]:
        return frozenset(choice.id for choice in self.choices)


@dataclass(frozen=True)
class PaperSection:
    id: int
    title: str
    order: int
    duration_seconds: int | None
    instructions: str
    questions: tuple[PaperQuestion, ...]


@dataclass(frozen=True)
class Paper:
    test_id: int
    test_slug: str
    seed: int
    sections: tuple[PaperSection, ...]
    format: int = PAPER_FORMAT
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def questions(self) -> list[PaperQuestion]:
        return [question for section in self.sections for question in section.questions]

    @property
    def max_score(self) -> Decimal:
        return sum((q.marks for q in self.questions), Decimal("0"))

    def question(self, question_id: int) -> PaperQuestion:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (Decimals as strings) for a ``JSONField``; the same as
        ``asdict`` would give, without its deep copies (every session start pays this)."""
        return _jsonable(self)

    @staticmethod
    def question_json(question: PaperQuestion) -> dict[str, Any]:
        """One question in the paper's JSON form (an adaptive sitting adds them one by one)."""
        return _jsonable(question)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Paper:
        sections = tuple(
            PaperSection(
                id=s["id"],
                title=s["title"],
                order=s["order"],
                duration_seconds=s["duration_seconds"],
                instructions=s.get("instructions", ""),
                questions=tuple(_question_from_json(q) for q in s["questions"]),
            )
            for s in data["sections"]
        )
        return cls(
            test_id=data["test_id"],
            test_slug=data["test_slug"],
            seed=data["seed"],
            sections=sections,
            format=data.get("format", PAPER_FORMAT),
            meta=data.get("meta", {}),
        )


def _question_from_json(q: dict[str, Any]) -> PaperQuestion:
    return PaperQuestion(
        id=q["id"],
        version=q["version"],
        type=q["type"],
        topic_id=q["topic_id"],
        topic=q["topic"],
        difficulty=q["difficulty"],
        body_html=q["body_html"],
        explanation_html=q["explanation_html"],
        image=q.get("image", ""),
        choices=tuple(PaperChoice(**c) for c in q["choices"]),
        marks=Decimal(q["marks"]),
        negative_marks=Decimal(q["negative_marks"]),
        unattempted_marks=Decimal(q["unattempted_marks"]),
        partial_marking=q["partial_marking"],
        numeric_answer=Decimal(q["numeric_answer"]) if q["numeric_answer"] is not None else None,
        numeric_tolerance=Decimal(q["numeric_tolerance"]),
        tolerance_kind=q["tolerance_kind"],
        accepted_answers=tuple(q["accepted_answers"]),
        irt=tuple(q["irt"]),
    )


@dataclass(frozen=True)
class LayoutQuestion:
    """What checking an answer needs of a question: its type and choice ids."""

    id: int
    type: str
    choice_ids: frozenset[int]


def answer_layout(paper: dict[str, Any]) -> dict[str, Any]:
    """The skeleton of a paper (its JSON form) that checking a save needs: sections (id,
    title, own time limit) in order and, per question, its type and choice ids — no
    content, no answer key, a few per cent of the paper's size. Same keys as the paper,
    so code that walks ``sections``/``questions`` by id reads either."""
    return {
        "sections": [
            {
                "id": section["id"],
                "title": section["title"],
                "duration_seconds": section["duration_seconds"],
                "questions": [
                    {
                        "id": question["id"],
                        "type": question["type"],
                        "choices": [choice["id"] for choice in question["choices"]],
                    }
                    for question in section["questions"]
                ],
            }
            for section in paper["sections"]
        ]
    }


def layout_question(layout: dict[str, Any], question_id: int) -> LayoutQuestion | None:
    for section in layout["sections"]:
        for question in section["questions"]:
            if question["id"] == question_id:
                return LayoutQuestion(
                    id=question_id, type=question["type"], choice_ids=frozenset(question["choices"])
                )
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(type(value), "__dataclass_fields__"):  # one of the frozen dataclasses above
        return {key: _jsonable(item) for key, item in vars(value).items()}
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


# --- filling the rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class RuleShortfall:
    section_id: int
    rule_id: int | None
    needed: int
    available: int
    reason: str


class Shortfall(Exception):
    """A rule (or a fixed section) cannot be filled: ``shortfall`` says which and by how much."""

    def __init__(self, shortfall: RuleShortfall) -> None:
        self.shortfall = shortfall


def load_blueprint(test: Test) -> list[Section]:
    """The test's sections with what its mode draws from (two queries): a fixed test's
    hand-picked questions, any other test's rules."""
    related = "fixed_questions" if test.mode == Test.Mode.FIXED else "rules"
    return list(test.sections.order_by("order", "id").prefetch_related(related))


def _sample(pool: array[int], count: int, taken: set[int], rng: random.Random) -> list[int] | None:
    """``count`` distinct ids from ``pool`` not in ``taken``, uniformly at random and
    reproducibly for the same ``rng`` state; None when too few are free.

    Draws positions at random and skips taken ones (cheap when the pool is large, the
    usual case); falls back to filtering the whole pool when draws keep colliding."""
    picks: list[int] = []
    seen: set[int] = set()
    size = len(pool)
    if size >= count:
        for _ in range(count * 8):
            pk = pool[rng.randrange(size)]
            if pk in taken or pk in seen:
                continue
            seen.add(pk)
            picks.append(pk)
            if len(picks) == count:
                return picks
    free = [pk for pk in pool if pk not in taken and pk not in seen]
    if len(free) < count - len(picks):
        return None
    return picks + rng.sample(free, count - len(picks))


def pick_question_ids(
    test: Test,
    sections: list[Section],
    rng: random.Random,
    *,
    use_cache: bool = True,
    exclude_ids: frozenset[int] = frozenset(),
) -> list[tuple[Section, list[tuple[int, Any]]]]:
    """For each section, the chosen question ids in paper order (with the fixed-question
    row where there is one). Rules never draw a question of ``exclude_ids`` (hand-picked
    questions are not affected). Raises ``Shortfall`` naming the first rule that cannot
    be filled, counting questions earlier rules already took."""
    pools = (
        candidate_pools(
            [r for s in sections for r in s.rules.all()],
            use_cache=use_cache,
            practice=test.practice_owner_id is not None,
        )
        if test.mode != Test.Mode.FIXED
        else {}
    )
    # Excluded ids count as already taken, so sampling skips them like a drawn question.
    taken: set[int] = set(exclude_ids) if test.mode != Test.Mode.FIXED else set()
    picked: list[tuple[Section, list[tuple[int, Any]]]] = []
    for section in sections:
        chosen: list[tuple[int, Any]] = []
        if test.mode == Test.Mode.FIXED:
            for row in section.fixed_questions.all():
                if row.question_id in taken:
                    raise Shortfall(
                        RuleShortfall(section.id, None, 1, 0, "question used twice in the paper")
                    )
                taken.add(row.question_id)
                chosen.append((row.question_id, row))
        else:
            for rule in section.rules.all():
                pool = pools[rule.id]
                sample = _sample(pool, rule.count, taken, rng)
                if sample is None:
                    free = sum(1 for pk in pool if pk not in taken)
                    raise Shortfall(
                        RuleShortfall(
                            section.id,
                            rule.id,
                            rule.count,
                            free,
                            "not enough published questions match"
                            + (" (after earlier rules took theirs)" if len(pool) > free else ""),
                        )
                    )
                taken.update(sample)
                chosen.extend((pk, None) for pk in sample)
        if test.shuffle_questions:
            rng.shuffle(chosen)
        picked.append((section, chosen))
    return picked


def _pick_and_load(
    test: Test,
    sections: list[Section],
    seed: int,
    *,
    use_cache: bool,
    exclude_ids: frozenset[int] = frozenset(),
):
    # Reproducible by design: the same seed must give the same paper.
    rng = random.Random(seed)  # noqa: S311
    try:
        picked = pick_question_ids(
            test, sections, rng, use_cache=use_cache, exclude_ids=exclude_ids
        )
    except Shortfall as exc:
        raise PaperUnavailable(
            f"Section {exc.shortfall.section_id}: {exc.shortfall.reason} "
            f"({exc.shortfall.available} of {exc.shortfall.needed})."
        ) from exc
    all_ids = [pk for _, chosen in picked for pk, _ in chosen]
    # Plain values, not model instances: this is the hot path of a 10:00 mock test, and a
    # paper needs the rendered HTML only, not the Markdown sources.
    rows = Question.objects.filter(pk__in=all_ids).values(
        *_QUESTION_VALUES, topic_name=F("topic__name")
    )
    return picked, {row["id"]: row for row in rows}, rng


_QUESTION_VALUES = (
    "id",
    "status",
    "version",
    "type",
    "topic_id",
    "difficulty",
    "body_html",
    "explanation_html",
    "image",
    "marks",
    "negative_marks",
    "numeric_answer",
    "numeric_tolerance",
    "tolerance_kind",
    "accepted_answers",
    "irt_a",
    "irt_b",
    "irt_c",
)


def _marks_for(
    section: Section, question: dict[str, Any], row: SectionQuestion | None
) -> tuple[Decimal, Decimal]:
    if section.marking == Section.Marking.FIXED:
        return section.correct_marks or Decimal("0"), section.wrong_penalty
    marks = row.marks if row is not None and row.marks is not None else question["marks"]
    if section.marking == Section.Marking.FRACTION:
        penalty = (marks * section.negative_fraction).quantize(CENT, rounding=ROUND_HALF_UP)
        return marks, penalty
    negative = (
        row.negative_marks
        if row is not None and row.negative_marks is not None
        else question["negative_marks"]
    )
    return marks, negative


def _paper_question(
    test: Test,
    section: Section,
    question: dict[str, Any],
    row: SectionQuestion | None,
    own_choices: list[PaperChoice],
    rng: random.Random,
) -> PaperQuestion:
    """One question as the paper freezes it: content, choices in the paper's order, the
    section's marking, the answer key and the IRT parameters."""
    if test.shuffle_choices and question["type"] != Question.Type.TRUE_FALSE:
        own_choices = own_choices[:]
        rng.shuffle(own_choices)
    marks, negative = _marks_for(section, question, row)
    return PaperQuestion(
        id=question["id"],
        version=question["version"],
        type=question["type"],
        topic_id=question["topic_id"],
        topic=question["topic_name"],
        difficulty=question["difficulty"],
        body_html=question["body_html"],
        explanation_html=question["explanation_html"],
        image=question["image"] or "",
        choices=tuple(own_choices),
        marks=marks,
        negative_marks=negative,
        unattempted_marks=section.unattempted_marks,
        partial_marking=test.partial_marking and question["type"] == Question.Type.MULTIPLE,
        numeric_answer=question["numeric_answer"],
        numeric_tolerance=question["numeric_tolerance"],
        tolerance_kind=question["tolerance_kind"],
        accepted_answers=tuple(question["accepted_answers"]),
        irt=(question["irt_a"], question["irt_b"], question["irt_c"]),
    )


def adaptive_item(test: Test, section: Section, question_id: int, rng: random.Random):
    """The next item of an adaptive sitting, frozen like a paper's question (two queries).
    None when it is no longer published (the caller picks another)."""
    question = (
        Question.objects.filter(pk=question_id, status=Question.Status.PUBLISHED)
        .values(*_QUESTION_VALUES, topic_name=F("topic__name"))
        .first()
    )
    if question is None:
        return None
    choices = [
        PaperChoice(*choice)
        for choice in Choice.objects.filter(question_id=question_id)
        .order_by("order", "id")
        .values_list("id", "body_html", "is_correct")
    ]
    return _paper_question(test, section, question, None, choices, rng)


def generate_paper(test: Test, seed: int, *, exclude_ids: frozenset[int] = frozenset()) -> Paper:
    """The frozen paper for ``test`` with ``seed``. Raises ``PaperUnavailable`` when the
    bank cannot fill the blueprint (the report says which rule). Rules draw none of
    ``exclude_ids`` (a learner's practice leaves out what they saw recently)."""
    if test.mode == Test.Mode.ADAPTIVE:
        raise PaperUnavailable("Adaptive tests choose items one at a time during the sitting.")
    sections = load_blueprint(test)
    if not sections:
        raise PaperUnavailable("The test has no sections.")
    picked, questions, rng = _pick_and_load(
        test, sections, seed, use_cache=True, exclude_ids=exclude_ids
    )
    if any(
        pk not in questions or questions[pk]["status"] != Question.Status.PUBLISHED
        for _, chosen in picked
        for pk, row in chosen
        if row is None
    ):
        # A bank change committed between reading the version and loading the questions:
        # draw again from the database itself.
        picked, questions, rng = _pick_and_load(
            test, sections, seed, use_cache=False, exclude_ids=exclude_ids
        )
    all_ids = list(questions)
    choices: dict[int, list[PaperChoice]] = {}
    for question_id, *choice in (
        Choice.objects.filter(question_id__in=all_ids)
        .order_by("order", "id")
        .values_list("question_id", "id", "body_html", "is_correct")
    ):
        choices.setdefault(question_id, []).append(PaperChoice(*choice))  # type: ignore[arg-type]

    paper_sections = []
    for section, chosen in picked:
        items = []
        for pk, row in chosen:
            question = questions[pk]
            if row is not None and question["status"] != Question.Status.PUBLISHED:
                raise PaperUnavailable(f"Question {pk} of section {section.id} is not published.")
            items.append(_paper_question(test, section, question, row, choices.get(pk, []), rng))
        paper_sections.append(
            PaperSection(
                id=section.id,
                title=section.title,
                order=section.order,
                duration_seconds=section.duration_seconds,
                instructions=section.instructions,
                questions=tuple(items),
            )
        )
    return Paper(test_id=test.id, test_slug=test.slug, seed=seed, sections=tuple(paper_sections))
