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
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from testengine.errors import PaperUnavailable
from testengine.models import Choice, Question, Section, SectionRule, Test, Topic

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
        """A JSON-safe dict (Decimals as strings) for a ``JSONField``."""
        return _jsonable(asdict(self))

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


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


# --- rule → candidates ----------------------------------------------------------------------


def topic_subtree_ids(topic_ids: list[int]) -> dict[int, list[int]]:
    """For each topic, itself and all its descendants (one query for the whole tree)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Topic.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    result = {}
    for root in topic_ids:
        found, stack = [], [root]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(children.get(node, ()))
        result[root] = found
    return result


def rule_candidates(rule: SectionRule, subtrees: dict[int, list[int]] | None = None):
    """Published questions a rule may draw from, as a queryset (not yet evaluated)."""
    queryset = Question.objects.filter(status=Question.Status.PUBLISHED)
    if rule.topic_id:
        if rule.include_subtopics:
            subtrees = subtrees or topic_subtree_ids([rule.topic_id])
            queryset = queryset.filter(topic_id__in=subtrees[rule.topic_id])
        else:
            queryset = queryset.filter(topic_id=rule.topic_id)
    if rule.difficulty:
        queryset = queryset.filter(difficulty=rule.difficulty)
    if rule.question_type:
        queryset = queryset.filter(type=rule.question_type)
    if rule.tags:
        queryset = queryset.filter(tags__contains=list(rule.tags))
    return queryset


@dataclass(frozen=True)
class RuleShortfall:
    section_id: int
    rule_id: int | None
    needed: int
    available: int
    reason: str


class _Shortfall(Exception):
    def __init__(self, shortfall: RuleShortfall) -> None:
        self.shortfall = shortfall


def load_blueprint(test: Test) -> list[Section]:
    """The test's sections with their rules and fixed questions (three queries)."""
    return list(test.sections.order_by("order", "id").prefetch_related("rules", "fixed_questions"))


def pick_question_ids(
    test: Test, sections: list[Section], rng: random.Random
) -> list[tuple[Section, list[tuple[int, Any]]]]:
    """For each section, the chosen question ids in paper order (with the fixed-question
    row where there is one). Raises ``_Shortfall`` naming the first rule that cannot be
    filled, counting questions earlier rules already took."""
    rule_topics = [rule.topic_id for s in sections for rule in s.rules.all() if rule.topic_id]
    subtrees = topic_subtree_ids(rule_topics) if rule_topics else {}
    taken: set[int] = set()
    picked: list[tuple[Section, list[tuple[int, Any]]]] = []
    for section in sections:
        chosen: list[tuple[int, Any]] = []
        if test.mode == Test.Mode.FIXED:
            for row in section.fixed_questions.all():
                if row.question_id in taken:
                    raise _Shortfall(
                        RuleShortfall(section.id, None, 1, 0, "question used twice in the paper")
                    )
                taken.add(row.question_id)
                chosen.append((row.question_id, row))
        else:
            for rule in section.rules.all():
                ids = list(
                    rule_candidates(rule, subtrees).order_by("id").values_list("id", flat=True)
                )
                free = [pk for pk in ids if pk not in taken]
                if len(free) < rule.count:
                    raise _Shortfall(
                        RuleShortfall(
                            section.id,
                            rule.id,
                            rule.count,
                            len(free),
                            "not enough published questions match"
                            + (
                                " (after earlier rules took theirs)" if len(ids) > len(free) else ""
                            ),
                        )
                    )
                sample = rng.sample(free, rule.count)
                taken.update(sample)
                chosen.extend((pk, None) for pk in sample)
        if test.shuffle_questions:
            rng.shuffle(chosen)
        picked.append((section, chosen))
    return picked


def _marks_for(section: Section, question: Question, row) -> tuple[Decimal, Decimal]:
    if section.marking == Section.Marking.FIXED:
        return section.correct_marks or Decimal("0"), section.wrong_penalty
    marks = row.marks if row is not None and row.marks is not None else question.marks
    if section.marking == Section.Marking.FRACTION:
        penalty = (marks * section.negative_fraction).quantize(CENT, rounding=ROUND_HALF_UP)
        return marks, penalty
    negative = (
        row.negative_marks
        if row is not None and row.negative_marks is not None
        else question.negative_marks
    )
    return marks, negative


def generate_paper(test: Test, seed: int) -> Paper:
    """The frozen paper for ``test`` with ``seed``. Raises ``PaperUnavailable`` when the
    bank cannot fill the blueprint (the report says which rule)."""
    if test.mode == Test.Mode.ADAPTIVE:
        raise PaperUnavailable("Adaptive tests choose items one at a time during the sitting.")
    # Reproducible by design: the same seed must give the same paper.
    rng = random.Random(seed)  # noqa: S311
    sections = load_blueprint(test)
    if not sections:
        raise PaperUnavailable("The test has no sections.")
    try:
        picked = pick_question_ids(test, sections, rng)
    except _Shortfall as exc:
        raise PaperUnavailable(
            f"Section {exc.shortfall.section_id}: {exc.shortfall.reason} "
            f"({exc.shortfall.available} of {exc.shortfall.needed})."
        ) from exc

    all_ids = [pk for _, chosen in picked for pk, _ in chosen]
    questions = Question.objects.select_related("topic").in_bulk(all_ids)
    choices: dict[int, list[Choice]] = {}
    for choice in Choice.objects.filter(question_id__in=all_ids).order_by("order", "id"):
        choices.setdefault(choice.question_id, []).append(choice)

    paper_sections = []
    for section, chosen in picked:
        items = []
        for pk, row in chosen:
            question = questions[pk]
            if row is not None and question.status != Question.Status.PUBLISHED:
                raise PaperUnavailable(f"Question {pk} of section {section.id} is not published.")
            own_choices = choices.get(pk, [])
            if test.shuffle_choices and question.type != Question.Type.TRUE_FALSE:
                own_choices = own_choices[:]
                rng.shuffle(own_choices)
            marks, negative = _marks_for(section, question, row)
            items.append(
                PaperQuestion(
                    id=pk,
                    version=question.version,
                    type=question.type,
                    topic_id=question.topic_id,
                    topic=question.topic.name,
                    difficulty=question.difficulty,
                    body_html=question.body_html,
                    explanation_html=question.explanation_html,
                    image=question.image.name if question.image else "",
                    choices=tuple(
                        PaperChoice(id=c.id, body_html=c.body_html, is_correct=c.is_correct)
                        for c in own_choices
                    ),
                    marks=marks,
                    negative_marks=negative,
                    unattempted_marks=section.unattempted_marks,
                    partial_marking=test.partial_marking
                    and question.type == Question.Type.MULTIPLE,
                    numeric_answer=question.numeric_answer,
                    numeric_tolerance=question.numeric_tolerance,
                    tolerance_kind=question.tolerance_kind,
                    accepted_answers=tuple(question.accepted_answers),
                    irt=(question.irt_a, question.irt_b, question.irt_c),
                )
            )
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
