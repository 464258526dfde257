"""Marking: a paper + the learner's answers → marks, per question, section and topic.

Pure functions over a frozen :class:`~testengine.paper.Paper`; nothing here touches the
database, so the same inputs always give the same result and scoring a thousand sittings
is only arithmetic.

Answer shapes (as the exam-session API receives them):
``{"choices": [id, …]}`` for choice questions, ``{"value": number}`` for numeric,
``{"text": "…"}`` for short text, ``None`` (or an empty answer) for unattempted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from testengine.models import Question
from testengine.paper import CENT, LayoutQuestion, Paper, PaperQuestion

TEXT_ANSWER_MAX = 500
ZERO = Decimal("0")


class AnswerInvalid(ValueError):
    """The answer does not fit the question (wrong shape, foreign choice id, …)."""


def normalise_text(text: str) -> str:
    return " ".join(text.split()).casefold()


def validate_answer(question: PaperQuestion | LayoutQuestion, answer: Any) -> Any:
    """The answer in canonical form, ``None`` for an empty one; raises ``AnswerInvalid``.
    Only the question's type and choice ids are read, so a paper's ``answer_layout`` is
    enough."""
    if answer is None:
        return None
    if not isinstance(answer, dict):
        raise AnswerInvalid('An answer is an object such as {"choices": [12]}.')
    if question.type in Question.CHOICE_TYPES:
        if set(answer) != {"choices"}:
            raise AnswerInvalid('A choice question takes {"choices": [<choice id>, …]}.')
        ids = answer["choices"]
        if not isinstance(ids, list) or not all(
            isinstance(pk, int) and not isinstance(pk, bool) for pk in ids
        ):
            raise AnswerInvalid('"choices" is a list of choice ids.')
        if len(set(ids)) != len(ids):
            raise AnswerInvalid("A choice is listed twice.")
        own = question.choice_ids
        foreign = [pk for pk in ids if pk not in own]
        if foreign:
            raise AnswerInvalid(f"Choice {foreign[0]} is not a choice of this question.")
        if question.type != Question.Type.MULTIPLE and len(ids) > 1:
            raise AnswerInvalid("This question takes one choice.")
        return {"choices": sorted(ids)} if ids else None
    if question.type == Question.Type.NUMERIC:
        if set(answer) != {"value"}:
            raise AnswerInvalid('A numeric question takes {"value": <number>}.')
        value = answer["value"]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise AnswerInvalid('"value" is a number.')
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation as exc:
            raise AnswerInvalid('"value" is a number.') from exc
        if not number.is_finite():
            raise AnswerInvalid('"value" is a finite number.')
        if len(str(value)) > 40 or abs(number.adjusted()) > 30:
            raise AnswerInvalid('"value" is out of range.')
        return {"value": str(number)}
    if set(answer) != {"text"}:
        raise AnswerInvalid('A short-text question takes {"text": "…"}.')
    text = answer["text"]
    if text is None:
        return None
    if not isinstance(text, str):
        raise AnswerInvalid('"text" is a string.')
    if len(text) > TEXT_ANSWER_MAX:
        raise AnswerInvalid(f'"text" is at most {TEXT_ANSWER_MAX} characters.')
    return {"text": text} if text.strip() else None


def json_number(number: Decimal | str) -> int | float:
    """A decimal as a JSON number: an integer when whole (``7``, not ``"7.000000"``), else
    the nearest double (exact to 15 significant digits)."""
    value = Decimal(number)
    return int(value) if value == value.to_integral_value() else float(value)


def answer_for_client(answer: Any) -> Any:
    """A stored canonical answer as the API shows it. Numeric values are stored as decimal
    strings, so marking compares exactly; clients get them back as JSON numbers, the type
    they sent (``{"value": 1}`` comes back ``{"value": 1}``)."""
    if isinstance(answer, dict) and isinstance(answer.get("value"), str):
        return {"value": json_number(answer["value"])}
    return answer


@dataclass(frozen=True)
class QuestionMark:
    question_id: int
    outcome: str  # correct | partial | wrong | unattempted
    marks: Decimal


@dataclass
class Tally:
    score: Decimal = ZERO
    max_score: Decimal = ZERO
    correct: int = 0
    partial: int = 0
    wrong: int = 0
    unattempted: int = 0

    def add(self, mark: QuestionMark, max_marks: Decimal) -> None:
        self.score += mark.marks
        self.max_score += max_marks
        setattr(self, mark.outcome, getattr(self, mark.outcome) + 1)

    @property
    def attempted(self) -> int:
        return self.correct + self.partial + self.wrong

    @property
    def accuracy(self) -> float | None:
        """Share of attempted questions answered fully correctly."""
        return round(self.correct / self.attempted, 4) if self.attempted else None


@dataclass
class SectionScore(Tally):
    id: int = 0
    title: str = ""


@dataclass
class TopicScore(Tally):
    id: int = 0
    name: str = ""


@dataclass
class ScoreResult(Tally):
    min_score: Decimal = ZERO
    sections: list[SectionScore] = field(default_factory=list)
    topics: list[TopicScore] = field(default_factory=list)
    questions: list[QuestionMark] = field(default_factory=list)

    @property
    def percentage(self) -> Decimal:
        if not self.max_score:
            return ZERO
        return (self.score * 100 / self.max_score).quantize(CENT)


def _is_correct_value(question: PaperQuestion, value: Decimal) -> bool:
    expected = question.numeric_answer
    if expected is None:
        return False
    tolerance = question.numeric_tolerance
    if question.tolerance_kind == Question.Tolerance.RELATIVE:
        tolerance = abs(expected) * tolerance
    return abs(value - expected) <= tolerance


def mark_question(question: PaperQuestion, answer: Any) -> QuestionMark:
    """Marks for one answer (already validated or not: an invalid one counts as wrong)."""
    try:
        answer = validate_answer(question, answer)
    except AnswerInvalid:
        return QuestionMark(question.id, "wrong", -question.negative_marks)
    if answer is None:
        return QuestionMark(question.id, "unattempted", question.unattempted_marks)

    if question.type in Question.CHOICE_TYPES:
        chosen = frozenset(answer["choices"])
        correct = question.correct_choice_ids
        if chosen == correct:
            return QuestionMark(question.id, "correct", question.marks)
        if question.partial_marking and chosen and chosen < correct:
            share = (question.marks * len(chosen) / len(correct)).quantize(
                CENT, rounding=ROUND_DOWN
            )
            return QuestionMark(question.id, "partial", share)
        return QuestionMark(question.id, "wrong", -question.negative_marks)

    if question.type == Question.Type.NUMERIC:
        ok = _is_correct_value(question, Decimal(answer["value"]))
    else:
        accepted = {normalise_text(text) for text in question.accepted_answers}
        ok = normalise_text(answer["text"]) in accepted
    if ok:
        return QuestionMark(question.id, "correct", question.marks)
    return QuestionMark(question.id, "wrong", -question.negative_marks)


def score(paper: Paper, responses: Mapping[int, Any]) -> ScoreResult:
    """Total, per-section and per-topic marks and counts for one sitting.

    ``responses`` maps question id → answer; missing questions are unattempted. Answers
    to questions not in the paper are ignored.
    """
    return Marker(paper).score(responses)


_OUTCOME_INDEX = {"correct": 0, "partial": 1, "wrong": 2, "unattempted": 3}
MEMO_ANSWERS = 64  # distinct answers remembered per question (choices: a handful)


class Marker:
    """A paper made ready to mark many sittings (:func:`score` is
    ``Marker(paper).score(responses)``). What does not depend on the answers — each
    question's section and topic, the maximum and minimum marks, the order of topics — is
    worked out once. With ``encoded=True`` the answers are hashable encodings (a stored
    answer's JSON text), each question's mark is computed by :func:`mark_question` once
    per distinct answer and remembered, and ``decode`` turns an encoding into the answer."""

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        slots: dict[int, int] = {}
        topics: list[tuple[int, str]] = []
        plan: list[tuple[PaperQuestion, int, int, dict[Any, QuestionMark]]] = []
        self._section_max: list[Decimal] = []
        self._topic_max: list[Decimal] = []
        self._max_score = ZERO
        self._min_score = ZERO
        for index, section in enumerate(paper.sections):
            section_max = ZERO
            for question in section.questions:
                slot = slots.get(question.topic_id)
                if slot is None:
                    slot = slots[question.topic_id] = len(topics)
                    topics.append((question.topic_id, question.topic))
                    self._topic_max.append(ZERO)
                plan.append((question, index, slot, {}))
                self._max_score += question.marks
                section_max += question.marks
                self._topic_max[slot] += question.marks
                self._min_score += min(-question.negative_marks, question.unattempted_marks)
            self._section_max.append(section_max)
        self._plan = plan
        self._topics = topics
        # By name; topics of equal name in order of first appearance (a stable sort).
        self._topic_order = sorted(range(len(topics)), key=lambda slot: topics[slot][1])

    def score(
        self,
        responses: Mapping[int, Any],
        *,
        encoded: bool = False,
        decode: Any = None,
    ) -> ScoreResult:
        sections = len(self.paper.sections)
        section_scores = [ZERO] * sections
        section_counts = [[0, 0, 0, 0] for _ in range(sections)]
        topic_scores = [ZERO] * len(self._topics)
        topic_counts = [[0, 0, 0, 0] for _ in self._topics]
        marks: list[QuestionMark] = []
        get = responses.get
        outcome_index = _OUTCOME_INDEX
        for question, section, topic, memo in self._plan:
            answer = get(question.id)
            if not encoded:
                mark = mark_question(question, answer)
            else:
                mark = memo.get(answer)  # type: ignore[assignment]  # None: not memoised yet
                if mark is None:
                    mark = mark_question(question, None if answer is None else decode(answer))
                    if len(memo) < MEMO_ANSWERS:
                        memo[answer] = mark
            marks.append(mark)
            section_scores[section] += mark.marks
            topic_scores[topic] += mark.marks
            outcome = outcome_index[mark.outcome]
            section_counts[section][outcome] += 1
            topic_counts[topic][outcome] += 1

        result = ScoreResult(max_score=self._max_score, min_score=self._min_score, questions=marks)
        for index, paper_section in enumerate(self.paper.sections):
            counts = section_counts[index]
            result.sections.append(
                SectionScore(  # type: ignore[misc]  # the four counts, then id and title
                    section_scores[index],
                    self._section_max[index],
                    *counts,  # type: ignore[arg-type]
                    id=paper_section.id,
                    title=paper_section.title,
                )
            )
            result.score += section_scores[index]
            result.correct += counts[0]
            result.partial += counts[1]
            result.wrong += counts[2]
            result.unattempted += counts[3]
        result.topics = [
            TopicScore(  # type: ignore[misc]  # the four counts, then id and name
                topic_scores[slot],
                self._topic_max[slot],
                *topic_counts[slot],  # type: ignore[arg-type]
                id=self._topics[slot][0],
                name=self._topics[slot][1],
            )
            for slot in self._topic_order
        ]
        return result


# --- the marking fingerprint ---------------------------------------------------------------

# The per-question fields marking reads (besides the choices' ids and correctness).
_QUESTION_FIELDS = (
    "id",
    "type",
    "topic_id",
    "topic",
    "marks",
    "negative_marks",
    "unattempted_marks",
    "partial_marking",
    "numeric_answer",
    "numeric_tolerance",
    "tolerance_kind",
    "accepted_answers",
)


def marking_key(paper: dict[str, Any]) -> str:
    """The fingerprint (64 hex digits) of what marking reads of a paper (its JSON form):
    equal for papers that differ only in content, choice order or seed."""
    projection = [
        paper.get("format"),
        [
            [
                section["id"],
                section["title"],
                [
                    [
                        *(question.get(name) for name in _QUESTION_FIELDS),
                        sorted([c["id"], c["is_correct"]] for c in question["choices"]),
                    ]
                    for question in section["questions"]
                ],
            ]
            for section in paper["sections"]
        ],
    ]
    encoded = json.dumps(projection, separators=(",", ":"), sort_keys=True, default=str)
    return hashlib.sha256(encoded.encode()).hexdigest()
