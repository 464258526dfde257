"""Candidate pools are cached per bank version; every bank change is seen at once."""

import pytest

from testengine import services
from testengine.bank import bank_version, candidate_pools, forget_local_pools
from testengine.paper import generate_paper
from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db


def _test_with_rule(topic, count):
    test = TestFactory()
    rule = SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=count)
    return test, rule


def test_a_warm_paper_needs_no_candidate_queries(django_assert_max_num_queries):
    topic = TopicFactory()
    for _ in range(10):
        make_question(topic=topic)
    test, _ = _test_with_rule(topic, 5)
    cold = generate_paper(test, 1)

    # version, sections, rules, questions, choices
    with django_assert_max_num_queries(5):
        warm = generate_paper(test, 1)

    assert warm == cold


def test_each_bank_change_bumps_the_version():
    topic = TopicFactory()
    start = bank_version()
    question = make_question(topic=topic)
    after_create = bank_version()
    services.question_set_status(questions=[question], status="retired")

    assert start < after_create < bank_version()


def test_a_retired_question_is_never_drawn_from_a_cached_pool():
    topic = TopicFactory()
    questions = [make_question(topic=topic) for _ in range(4)]
    test, rule = _test_with_rule(topic, 3)
    before = candidate_pools([rule])[rule.id]

    services.question_set_status(questions=questions[:1], status="retired")

    assert questions[0].id in before
    after = candidate_pools([rule])[rule.id]
    assert questions[0].id not in after
    for seed in range(10):
        assert questions[0].id not in {q.id for q in generate_paper(test, seed).questions}


def test_a_new_published_question_joins_the_pool():
    topic = TopicFactory()
    for _ in range(3):
        make_question(topic=topic)
    _, rule = _test_with_rule(topic, 3)
    candidate_pools([rule])

    newcomer = make_question(topic=topic)

    assert newcomer.id in candidate_pools([rule])[rule.id]


def test_pools_are_shared_through_the_cache_between_processes(django_assert_max_num_queries):
    topic = TopicFactory()
    for _ in range(5):
        make_question(topic=topic)
    _, rule = _test_with_rule(topic, 2)
    filled = candidate_pools([rule])
    forget_local_pools()  # as if another worker process asked

    with django_assert_max_num_queries(2):  # the version, and the shared cache lookup
        shared = candidate_pools([rule])

    assert list(shared[rule.id]) == list(filled[rule.id])
