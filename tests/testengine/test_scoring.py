"""score(): every marking rule, plus properties that must hold for any answers."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from testengine.models import Question
from testengine.paper import Paper, PaperChoice, PaperQuestion, PaperSection
from testengine.scoring import AnswerInvalid, mark_question, score, validate_answer

D = Decimal
FOUR, ONE, ZERO = D("4"), D("1"), D("0")


def _q(
    qid=1,
    type=Question.Type.SINGLE,
    correct=(11,),
    choices=(11, 12, 13, 14),
    marks=FOUR,
    negative=ONE,
    unattempted=ZERO,
    partial=False,
    numeric=None,
    tolerance=ZERO,
    kind="absolute",
    accepted=(),
    topic_id=1,
):
    return PaperQuestion(
        id=qid,
        version=1,
        type=type,
        topic_id=topic_id,
        topic=f"Topic {topic_id}",
        difficulty="medium",
        body_html="<p>?</p>",
        explanation_html="",
        image="",
        choices=tuple(
            PaperChoice(id=c, body_html=str(c), is_correct=c in correct) for c in choices
        ),
        marks=marks,
        negative_marks=negative,
        unattempted_marks=unattempted,
        partial_marking=partial,
        numeric_answer=numeric,
        numeric_tolerance=tolerance,
        tolerance_kind=kind,
        accepted_answers=accepted,
        irt=(1.0, 0.0, 0.25),
    )


def _paper(*sections):
    return Paper(
        test_id=1,
        test_slug="t",
        seed=0,
        sections=tuple(
            PaperSection(
                id=i,
                title=f"S{i}",
                order=i,
                duration_seconds=None,
                instructions="",
                questions=tuple(qs),
            )
            for i, qs in enumerate(sections)
        ),
    )


@pytest.mark.parametrize(
    ("answer", "outcome", "marks"),
    [
        ({"choices": [11]}, "correct", D("4")),
        ({"choices": [12]}, "wrong", D("-1")),
        ({"choices": []}, "unattempted", D("0")),
        (None, "unattempted", D("0")),
        ({"choices": [11, 12]}, "wrong", D("-1")),
        ({"value": 3}, "wrong", D("-1")),
        ({"choices": [99]}, "wrong", D("-1")),
    ],
    ids=["right", "wrong", "empty", "none", "two-for-single", "wrong-shape", "foreign-choice"],
)
def test_single_choice(answer, outcome, marks):
    result = mark_question(_q(), answer)

    assert (result.outcome, result.marks) == (outcome, marks)


@pytest.mark.parametrize(
    ("chosen", "partial", "outcome", "marks"),
    [
        ([11, 12], False, "correct", D("4")),
        ([11], False, "wrong", D("-2")),
        ([11, 12, 13], False, "wrong", D("-2")),
        ([11], True, "partial", D("2.00")),
        ([11, 13], True, "wrong", D("-2")),
        ([11, 12], True, "correct", D("4")),
    ],
)
def test_multiple_choice_all_or_nothing_and_partial(chosen, partial, outcome, marks):
    question = _q(type=Question.Type.MULTIPLE, correct=(11, 12), negative=D("2"), partial=partial)

    result = mark_question(question, {"choices": chosen})

    assert (result.outcome, result.marks) == (outcome, marks)


def test_partial_marks_round_down_so_they_never_exceed_a_fair_share():
    question = _q(type=Question.Type.MULTIPLE, correct=(11, 12, 13), marks=D("1"), partial=True)

    result = mark_question(question, {"choices": [11]})

    assert result.marks == D("0.33")


@pytest.mark.parametrize(
    ("value", "tolerance", "kind", "outcome"),
    [
        (5432, D("0"), "absolute", "correct"),
        ("5432.0", D("0"), "absolute", "correct"),
        (5433, D("0"), "absolute", "wrong"),
        (5432.4, D("0.5"), "absolute", "correct"),
        (5432.6, D("0.5"), "absolute", "wrong"),
        (5486, D("0.01"), "relative", "correct"),
        (5487, D("0.01"), "relative", "wrong"),
    ],
)
def test_numeric_with_tolerance(value, tolerance, kind, outcome):
    question = _q(
        type=Question.Type.NUMERIC, choices=(), numeric=D("5432"), tolerance=tolerance, kind=kind
    )

    assert mark_question(question, {"value": value}).outcome == outcome


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("DELETE", "correct"),
        ("  delete ", "correct"),
        ("Dele te", "wrong"),
        ("PUT", "wrong"),
        ("   ", "unattempted"),
    ],
)
def test_short_text_ignores_case_and_spacing(text, outcome):
    question = _q(type=Question.Type.TEXT, choices=(), accepted=("DELETE", "HTTP  DELETE"))

    assert mark_question(question, {"text": text}).outcome == outcome
    assert mark_question(question, {"text": "http delete"}).outcome == "correct"


@pytest.mark.parametrize(
    ("question", "answer", "message"),
    [
        (_q(), [11], "An answer is an object"),
        (_q(), {"choice": [11]}, 'takes {"choices"'),
        (_q(), {"choices": [11, 11]}, "listed twice"),
        (_q(), {"choices": ["11"]}, "list of choice ids"),
        (_q(), {"choices": [True]}, "list of choice ids"),
        (_q(), {"choices": [77]}, "Choice 77 is not a choice"),
        (_q(type=Question.Type.NUMERIC, choices=()), {"value": "abc"}, "is a number"),
        (_q(type=Question.Type.NUMERIC, choices=()), {"value": "NaN"}, "finite"),
        (_q(type=Question.Type.NUMERIC, choices=()), {"value": True}, "is a number"),
        (_q(type=Question.Type.TEXT, choices=()), {"text": "x" * 501}, "at most 500"),
        (_q(type=Question.Type.TEXT, choices=()), {"text": 5}, "is a string"),
    ],
)
def test_validate_answer_refuses_answers_that_do_not_fit(question, answer, message):
    with pytest.raises(AnswerInvalid) as error:
        validate_answer(question, answer)

    assert message in str(error.value)


def test_score_totals_sections_and_topics():
    paper = _paper(
        [_q(1, topic_id=1), _q(2, topic_id=2, correct=(21,), choices=(21, 22))],
        [_q(3, type=Question.Type.NUMERIC, choices=(), numeric=D("7"), topic_id=1)],
    )

    result = score(paper, {1: {"choices": [11]}, 2: {"choices": [22]}, 99: {"choices": [1]}})

    assert (result.score, result.max_score, result.min_score) == (D("3"), D("12"), D("-3"))
    assert (result.correct, result.wrong, result.unattempted) == (1, 1, 1)
    assert result.percentage == D("25.00")
    assert [(s.score, s.correct, s.wrong, s.unattempted) for s in result.sections] == [
        (D("3"), 1, 1, 0),
        (D("0"), 0, 0, 1),
    ]
    topics = {t.id: (t.score, t.max_score, t.correct, t.unattempted) for t in result.topics}
    assert topics == {1: (D("4"), D("8"), 1, 1), 2: (D("-1"), D("4"), 0, 0)}
    assert result.accuracy == 0.5


# --- properties --------------------------------------------------------------------------------

marks_st = st.decimals(min_value=0, max_value=10, places=2)


@st.composite
def papers_and_answers(draw):
    questions = []
    for qid in range(1, draw(st.integers(min_value=1, max_value=12)) + 1):
        qtype = draw(st.sampled_from(["single", "multiple", "true_false", "numeric", "text"]))
        marks = draw(marks_st)
        negative = draw(st.decimals(min_value=0, max_value=marks, places=2))
        base = qid * 100
        if qtype in ("single", "multiple", "true_false"):
            count = 2 if qtype == "true_false" else draw(st.integers(2, 5))
            choices = tuple(base + i for i in range(count))
            correct = (
                tuple(draw(st.lists(st.sampled_from(choices), min_size=1, unique=True)))
                if qtype == "multiple"
                else (choices[0],)
            )
            question = _q(
                qid,
                type=qtype,
                choices=choices,
                correct=correct,
                marks=marks,
                negative=negative,
                partial=draw(st.booleans()),
            )
        elif qtype == "numeric":
            question = _q(
                qid,
                type=qtype,
                choices=(),
                numeric=D("10"),
                marks=marks,
                negative=negative,
                tolerance=D("0.5"),
            )
        else:
            question = _q(
                qid, type=qtype, choices=(), accepted=("yes",), marks=marks, negative=negative
            )
        questions.append(question)
    answers = {}
    for question in questions:
        kind = draw(st.sampled_from(["none", "valid", "junk"]))
        if kind == "none":
            continue
        if kind == "junk":
            answers[question.id] = draw(
                st.one_of(
                    st.none(),
                    st.integers(),
                    st.text(max_size=5),
                    st.fixed_dictionaries({"choices": st.lists(st.integers(), max_size=3)}),
                )
            )
        elif question.choices:
            ids = [c.id for c in question.choices]
            pick = draw(st.lists(st.sampled_from(ids), unique=True, max_size=len(ids)))
            answers[question.id] = {"choices": pick[:1] if question.type != "multiple" else pick}
        elif question.type == "numeric":
            answers[question.id] = {"value": draw(st.sampled_from([10, 10.4, 11, "9.5"]))}
        else:
            answers[question.id] = {"text": draw(st.sampled_from(["yes", " YES ", "no"]))}
    split = draw(st.integers(0, len(questions)))
    return _paper(questions[:split], questions[split:]), answers


@settings(max_examples=300, deadline=None)
@given(papers_and_answers())
def test_score_stays_between_the_minimum_and_the_maximum(case):
    paper, answers = case

    result = score(paper, answers)

    assert result.min_score <= result.score <= result.max_score
    assert result.correct + result.partial + result.wrong + result.unattempted == len(
        paper.questions
    )
    assert sum(s.score for s in result.sections) == result.score
    assert sum(t.score for t in result.topics) == result.score


@settings(max_examples=200, deadline=None)
@given(papers_and_answers())
def test_unattempted_questions_score_zero(case):
    paper, _ = case

    result = score(paper, {})

    assert result.score == 0
    assert result.unattempted == len(paper.questions)


@settings(max_examples=200, deadline=None)
@given(papers_and_answers(), st.randoms(use_true_random=False))
def test_shuffling_questions_or_choices_never_changes_the_score(case, rnd):
    paper, answers = case
    questions = paper.questions
    shuffled_questions = []
    for question in questions:
        choices = list(question.choices)
        rnd.shuffle(choices)
        shuffled_questions.append(
            question.__class__(**{**question.__dict__, "choices": tuple(choices)})
        )
    rnd.shuffle(shuffled_questions)

    assert score(_paper(shuffled_questions), answers).score == score(paper, answers).score


@settings(max_examples=200, deadline=None)
@given(papers_and_answers())
def test_answering_the_key_scores_the_maximum(case):
    paper, _ = case
    key = {}
    for question in paper.questions:
        if question.choices:
            key[question.id] = {"choices": sorted(question.correct_choice_ids)}
        elif question.type == "numeric":
            key[question.id] = {"value": str(question.numeric_answer)}
        else:
            key[question.id] = {"text": question.accepted_answers[0]}

    assert score(paper, key).score == paper.max_score


@pytest.mark.parametrize("value", ["1e999999999", "9" * 60, "1e-40"])
def test_numeric_answers_out_of_any_sane_range_are_refused_not_crashing(value):
    question = _q(type=Question.Type.NUMERIC, choices=(), numeric=D("42"))

    with pytest.raises(AnswerInvalid):
        validate_answer(question, {"value": value})
    assert mark_question(question, {"value": value}).outcome == "wrong"
