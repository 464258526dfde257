"""generate_paper: reproducible, no repeats, rules honoured, frozen snapshots."""

from decimal import Decimal

import pytest

from testengine import services
from testengine.errors import PaperUnavailable
from testengine.models import Question, Section, Test
from testengine.paper import Paper, generate_paper
from testengine.services.questions import question_data_from
from tests.testengine.factories import (
    SectionFactory,
    SectionQuestionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db


def _bank(topic, n, **kwargs):
    return [make_question(topic=topic, **kwargs) for _ in range(n)]


def _random_test(topic, count=8, **test_kwargs):
    test = TestFactory(**test_kwargs)
    section = SectionFactory(test=test)
    SectionRuleFactory(section=section, topic=topic, count=count)
    return test


def test_the_same_seed_gives_the_same_paper_and_other_seeds_differ():
    topic = TopicFactory()
    _bank(topic, 30)
    test = _random_test(topic, shuffle_questions=True, shuffle_choices=True)

    papers = {seed: generate_paper(test, seed) for seed in range(6)}

    assert generate_paper(test, 3) == papers[3]
    assert len({tuple(q.id for q in p.questions) for p in papers.values()}) > 1


def test_no_question_appears_twice_even_when_rules_overlap():
    parent = TopicFactory()
    child = TopicFactory(parent=parent)
    _bank(child, 12)
    test = TestFactory()
    first = SectionFactory(test=test, order=0)
    second = SectionFactory(test=test, order=1)
    SectionRuleFactory(section=first, topic=parent, count=6)
    SectionRuleFactory(section=second, topic=child, count=6)

    for seed in range(10):
        ids = [q.id for q in generate_paper(test, seed).questions]
        assert len(ids) == 12
        assert len(set(ids)) == 12


def test_rules_draw_only_published_questions_matching_every_criterion():
    topic = TopicFactory()
    other = TopicFactory()
    wanted = {
        make_question(topic=topic, difficulty="hard", tags=("sql", "joins")).id for _ in range(5)
    }
    make_question(topic=topic, difficulty="hard", tags=("sql",))
    make_question(topic=topic, difficulty="easy", tags=("sql", "joins"))
    make_question(topic=topic, difficulty="hard", tags=("sql", "joins"), status="draft")
    make_question(topic=topic, difficulty="hard", tags=("sql", "joins"), status="retired")
    make_question(topic=other, difficulty="hard", tags=("sql", "joins"))
    test = TestFactory()
    SectionRuleFactory(
        section=SectionFactory(test=test),
        topic=topic,
        difficulty="hard",
        tags=["sql", "joins"],
        count=5,
    )

    paper = generate_paper(test, 1)

    assert {q.id for q in paper.questions} == wanted


def test_a_rule_with_subtopics_excluded_draws_from_the_topic_itself_only():
    parent = TopicFactory()
    child = TopicFactory(parent=parent)
    own = {q.id for q in _bank(parent, 3)}
    _bank(child, 5)
    test = TestFactory()
    SectionRuleFactory(
        section=SectionFactory(test=test), topic=parent, include_subtopics=False, count=3
    )

    assert {q.id for q in generate_paper(test, 0).questions} == own


def test_a_shortfall_is_refused_naming_the_numbers():
    topic = TopicFactory()
    _bank(topic, 3)
    test = _random_test(topic, count=5)

    with pytest.raises(PaperUnavailable) as error:
        generate_paper(test, 0)

    assert "(3 of 5)" in str(error.value.detail)


def test_fixed_mode_keeps_the_hand_picked_order_and_overrides():
    topic = TopicFactory()
    questions = _bank(topic, 3)
    test = TestFactory(mode=Test.Mode.FIXED)
    section = SectionFactory(test=test)
    for position, question in enumerate(reversed(questions)):
        SectionQuestionFactory(
            section=section, question=question, order=position, marks=Decimal("2.5")
        )

    paper = generate_paper(test, 99)

    assert [q.id for q in paper.questions] == [q.id for q in reversed(questions)]
    assert {q.marks for q in paper.questions} == {Decimal("2.5")}


def test_fixed_mode_refuses_a_question_that_is_no_longer_published():
    topic = TopicFactory()
    question = make_question(topic=topic)
    test = TestFactory(mode=Test.Mode.FIXED)
    SectionQuestionFactory(section=SectionFactory(test=test), question=question)
    services.question_set_status(questions=[question], status="retired")

    with pytest.raises(PaperUnavailable):
        generate_paper(test, 0)


@pytest.mark.parametrize(
    ("section_kwargs", "expected"),
    [
        ({"marking": Section.Marking.QUESTION}, (Decimal("3"), Decimal("0.75"))),
        (
            {"marking": Section.Marking.FIXED, "correct_marks": 4, "wrong_penalty": 1},
            (Decimal("4"), Decimal("1")),
        ),
        (
            {"marking": Section.Marking.FRACTION, "negative_fraction": Decimal("0.3333")},
            (Decimal("3"), Decimal("1.00")),
        ),
    ],
    ids=["per-question", "jee-fixed", "gate-fraction"],
)
def test_marks_follow_the_section_scheme(section_kwargs, expected):
    topic = TopicFactory()
    _bank(topic, 2, marks=Decimal("3"), negative_marks=Decimal("0.75"))
    test = TestFactory()
    SectionRuleFactory(section=SectionFactory(test=test, **section_kwargs), topic=topic, count=2)

    paper = generate_paper(test, 0)

    assert {(q.marks, q.negative_marks) for q in paper.questions} == {expected}


def test_shuffled_choices_keep_every_choice_and_true_false_stays_in_order():
    topic = TopicFactory()
    single = make_question(topic=topic)
    true_false = make_question(topic=topic, type="true_false")
    test = TestFactory(mode=Test.Mode.FIXED, shuffle_choices=True)
    section = SectionFactory(test=test)
    SectionQuestionFactory(section=section, question=single, order=0)
    SectionQuestionFactory(section=section, question=true_false, order=1)

    orders = {
        tuple(c.id for c in generate_paper(test, seed).question(single.id).choices)
        for seed in range(12)
    }
    tf_orders = {
        tuple(c.id for c in generate_paper(test, seed).question(true_false.id).choices)
        for seed in range(12)
    }

    assert len(orders) > 1
    assert all(sorted(order) == sorted(c.id for c in single.choices.all()) for order in orders)
    assert tf_orders == {tuple(c.id for c in true_false.choices.all())}


def test_a_paper_is_a_frozen_snapshot_that_later_edits_do_not_touch():
    topic = TopicFactory()
    question = make_question(topic=topic, body="Original *text*")
    test = _random_test(topic, count=1)
    frozen = generate_paper(test, 0).to_json()

    data = question_data_from(question)
    services.question_update(
        question=question,
        data=services.QuestionData(**{**data.__dict__, "body_md": "Edited text"}),
    )

    snapshot = Paper.from_json(frozen).question(question.id)
    assert snapshot.body_html == "<p>Original <em>text</em></p>"
    assert snapshot.version == 1
    assert generate_paper(test, 0).question(question.id).version == 2


def test_a_warm_paper_takes_the_same_few_queries_whatever_its_size(
    django_assert_num_queries,
):
    topics = [TopicFactory() for _ in range(4)]
    for topic in topics:
        _bank(topic, 12)
    small, large = TestFactory(), TestFactory(shuffle_questions=True, shuffle_choices=True)
    SectionRuleFactory(section=SectionFactory(test=small), topic=topics[0], count=2)
    for order, topic in enumerate(topics):
        SectionRuleFactory(section=SectionFactory(test=large, order=order), topic=topic, count=10)
    generate_paper(small, 0)
    generate_paper(large, 0)  # fills the candidate pools

    # version, sections, rules (a random test reads no fixed questions), questions, choices
    with django_assert_num_queries(5):
        small_paper = generate_paper(small, 5)
    with django_assert_num_queries(5):
        large_paper = generate_paper(large, 5)

    assert (len(small_paper.questions), len(large_paper.questions)) == (2, 40)


def test_adaptive_tests_have_no_pregenerated_paper():
    test = TestFactory(mode=Test.Mode.ADAPTIVE)

    with pytest.raises(PaperUnavailable):
        generate_paper(test, 0)


def test_numeric_and_text_keys_are_in_the_snapshot():
    topic = TopicFactory()
    numeric = make_question(
        topic=topic,
        type=Question.Type.NUMERIC,
        numeric_answer=Decimal("5432"),
        numeric_tolerance=Decimal("0.5"),
    )
    text = make_question(topic=topic, type=Question.Type.TEXT, accepted_answers=("DELETE",))
    test = TestFactory(mode=Test.Mode.FIXED)
    section = SectionFactory(test=test)
    SectionQuestionFactory(section=section, question=numeric, order=0)
    SectionQuestionFactory(section=section, question=text, order=1)

    paper = Paper.from_json(generate_paper(test, 0).to_json())

    assert paper.question(numeric.id).numeric_answer == Decimal("5432")
    assert paper.question(numeric.id).numeric_tolerance == Decimal("0.5")
    assert paper.question(text.id).accepted_answers == ("DELETE",)


def test_rules_never_draw_excluded_questions_and_fall_short_without_enough_others():
    topic = TopicFactory()
    bank = [q.pk for q in _bank(topic, 6)]
    test = _random_test(topic, count=4)
    excluded = frozenset(bank[:2])

    papers = [generate_paper(test, seed, exclude_ids=excluded) for seed in range(8)]

    assert all({q.id for q in p.questions} == set(bank[2:]) for p in papers)
    with pytest.raises(PaperUnavailable, match=r"\(3 of 4\)"):
        generate_paper(test, 1, exclude_ids=frozenset(bank[:3]))


def test_exclusions_leave_hand_picked_questions_alone():
    question = make_question()
    test = TestFactory(mode=Test.Mode.FIXED)
    SectionQuestionFactory(section=SectionFactory(test=test), question=question)

    paper = generate_paper(test, 3, exclude_ids=frozenset({question.pk}))

    assert [q.id for q in paper.questions] == [question.pk]
