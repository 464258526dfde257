"""Practice never hands out an answer key the learner could not already read: it draws only
from the free practice pool and from the questions of the learner's own sittings whose
solutions are open to them, and never a question that sits in a test whose solutions are
still closed to them (not bought, not yet sat, policy not yet open, a draft)."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catalogue.models import ProductTest
from learning.selectors import practice_question_ids
from sessions_app.models import ExamSession
from testengine.bank import forget_local_pools
from testengine.models import Question, Test
from testengine.paper import Paper
from testengine.selectors import rule_candidates
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import (
    EnrollmentFactory,
    ProductTestFactory,
    PublishedProductFactory,
)
from tests.learning.factories import client_for, sit, topic_test, topic_with_bank
from tests.testengine.factories import (
    SectionFactory,
    SectionQuestionFactory,
    TestFactory,
    make_question,
)

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/practice/"


def _practise(user, topic, questions):
    return client_for(user).post(URL, {"topics": [topic.pk], "questions": questions}, format="json")


def _reviewed_ids(user, session_id) -> set[int]:
    client = client_for(user)
    paper = Paper.from_json(ExamSession.objects.get(pk=session_id).paper)
    for seq, question in enumerate(paper.questions, start=1):
        client.put(
            f"/api/v1/sessions/{session_id}/responses/{question.id}/",
            {"answer": {"choices": [question.choices[0].id]}, "seq": seq},
            format="json",
        )
    assert client.post(f"/api/v1/sessions/{session_id}/submit/").status_code == 200
    review = client.get(f"/api/v1/sessions/{session_id}/review/")
    assert review.status_code == 200
    return {q["id"] for q in review.json()["questions"]}


def test_a_learner_without_enrollments_cannot_read_a_paid_tests_key_through_practice():
    """The attack: practise a paid test's topic and read the review. The bank's questions
    all sit in the paid test, so only the free pool is practised."""
    topic = topic_with_bank(12)
    paid = topic_test({topic: 10})  # in a product nobody here holds
    free = {make_question(topic=topic, free_practice=True).pk for _ in range(3)}
    learner = UserFactory()

    too_many = _practise(learner, topic, 4)
    response = _practise(learner, topic, 3)

    assert too_many.status_code == 409
    assert too_many.json()["code"] == "not_enough_questions"
    assert response.status_code == 201, response.content
    shown = _reviewed_ids(learner, response.json()["id"])
    assert shown == free
    paid_pool = set(rule_candidates(paid.sections.get().rules.get()).values_list("id", flat=True))
    assert not shown & paid_pool


def test_a_sat_test_with_open_solutions_feeds_practice_but_not_a_never_test():
    topic = topic_with_bank(6)
    learner = UserFactory()
    open_test = topic_test({topic: 6}, enrol=learner)
    seen = {q.id for q in Paper.from_json(sit(learner, open_test).paper).questions}
    assert practice_question_ids(user=learner, now=timezone.now()) == seen

    # The same questions also sit in a test whose solutions are never shown: out they go.
    never = topic_test({topic: 6}, enrol=learner, solution_policy=Test.SolutionPolicy.NEVER)
    sit(learner, never)
    assert practice_question_ids(user=learner, now=timezone.now()) == frozenset()
    assert _practise(learner, topic, 1).status_code == 409


def test_solutions_after_the_window_open_practice_only_once_the_window_closes():
    topic = topic_with_bank(5)
    learner = UserFactory()
    now = timezone.now()
    test = topic_test(
        {topic: 5},
        enrol=learner,
        solution_policy=Test.SolutionPolicy.AFTER_WINDOW,
        available_until=now + timedelta(days=1),
    )
    sit(learner, test)

    assert practice_question_ids(user=learner, now=timezone.now()) == frozenset()
    Test.objects.filter(pk=test.pk).update(available_until=timezone.now())
    assert len(practice_question_ids(user=learner, now=timezone.now())) == 5


def test_a_free_question_listed_by_a_fixed_paid_test_is_kept_from_its_non_buyers():
    topic = topic_with_bank(0)
    free = [make_question(topic=topic, free_practice=True) for _ in range(3)]
    fixed = TestFactory(mode=Test.Mode.FIXED, is_published=True)
    SectionQuestionFactory(section=SectionFactory(test=fixed), question=free[0])
    ProductTestFactory(product=PublishedProductFactory(), test=fixed)
    buyer, other = UserFactory(), UserFactory()

    assert practice_question_ids(user=other, now=timezone.now()) == {free[1].pk, free[2].pk}
    EnrollmentFactory(user=buyer, plan=ProductTest.objects.get(test=fixed).product.plans.get())
    sit(buyer, fixed)
    assert practice_question_ids(user=buyer, now=timezone.now()) == {q.pk for q in free}


def test_a_draft_test_counts_as_closed():
    topic = topic_with_bank(0)
    free = make_question(topic=topic, free_practice=True)
    draft = TestFactory(mode=Test.Mode.FIXED, is_published=False)
    SectionQuestionFactory(section=SectionFactory(test=draft), question=free)

    assert practice_question_ids(user=UserFactory(), now=timezone.now()) == frozenset()


def test_a_lapsed_enrollment_or_a_refunded_sitting_closes_what_it_opened():
    topic = topic_with_bank(4)
    learner = UserFactory()
    test = topic_test({topic: 4}, enrol=learner)
    session = sit(learner, test)
    assert len(practice_question_ids(user=learner, now=timezone.now())) == 4

    ExamSession.objects.filter(pk=session.pk).update(access_ended_at=timezone.now())
    assert practice_question_ids(user=learner, now=timezone.now()) == frozenset()
    ExamSession.objects.filter(pk=session.pk).update(access_ended_at=None)
    later = timezone.now() + timedelta(days=3650)  # every enrollment has lapsed by then
    assert practice_question_ids(user=learner, now=later) == frozenset()


def test_tests_rules_never_draw_the_free_pool():
    topic = topic_with_bank(3)
    for _ in range(5):
        make_question(topic=topic, free_practice=True)
    test = topic_test({topic: 3})
    learner = UserFactory()
    EnrollmentFactory(user=learner, plan=ProductTest.objects.get(test=test).product.plans.get())

    for _ in range(5):
        paper = Paper.from_json(sit(learner, test).paper)
        assert not Question.objects.filter(
            pk__in=[q.id for q in paper.questions], free_practice=True
        ).exists()


# --- the property ----------------------------------------------------------------------------

POLICIES = ["after_submit", "never", "after_window_open", "after_window_closed"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tests=st.lists(
        st.tuples(
            st.sampled_from(["random", "fixed"]),
            st.sampled_from(POLICIES),
            st.booleans(),  # enrolled
            st.booleans(),  # sat it
            st.booleans(),  # published
        ),
        min_size=1,
        max_size=4,
    ),
    free=st.integers(0, 4),
    free_listed=st.booleans(),
)
def test_no_practice_review_ever_reveals_a_question_of_a_closed_test(tests, free, free_listed):
    """For random tests, policies, enrollments and sittings: every question a practice
    review shows sits only in tests whose review the learner may already open."""
    now = timezone.now()
    with transaction.atomic():
        forget_local_pools()
        cache.clear()
        topic = topic_with_bank(6)
        free_questions = [make_question(topic=topic, free_practice=True) for _ in range(free)]
        learner = UserFactory()
        made = []
        for mode, policy, enrolled, sat, published in tests:
            values = {"solution_policy": policy.removesuffix("_open").removesuffix("_closed")}
            if policy == "after_window_open":
                values["available_until"] = now + timedelta(days=1)
            test = topic_test({topic: 3}, enrol=learner if enrolled else None, **values)
            if mode == "fixed":
                Test.objects.filter(pk=test.pk).update(mode=Test.Mode.FIXED)
                section = test.sections.get()
                section.rules.all().delete()
                listed = list(topic.questions.filter(free_practice=False)[:3])
                if free_listed and free_questions:
                    listed[0] = free_questions[0]
                for question in listed:
                    SectionQuestionFactory(section=section, question=question)
            if enrolled and sat:
                sit(learner, test)
            if policy == "after_window_closed":
                Test.objects.filter(pk=test.pk).update(available_until=now - timedelta(seconds=1))
            if not published:
                Test.objects.filter(pk=test.pk).update(is_published=False)
            made.append(test)

        # The oracle, from the API: a test is open to the learner when one of their
        # sittings of it has a review they may read.
        client = client_for(learner)
        open_tests = {
            session.test_id
            for session in ExamSession.objects.filter(user=learner)
            if client.get(f"/api/v1/sessions/{session.id}/review/").status_code == 200
        }

        def tests_holding(question_id: int) -> set[int]:
            holding = set()
            for test in Test.objects.curated():
                if test.sections.filter(fixed_questions__question_id=question_id).exists():
                    holding.add(test.pk)
                for section in test.sections.all():
                    for rule in section.rules.all():
                        if rule_candidates(rule).filter(pk=question_id).exists():
                            holding.add(test.pk)
            return holding

        allowed = practice_question_ids(user=learner, now=timezone.now())
        for question_id in allowed:
            assert tests_holding(question_id) <= open_tests, question_id
        if allowed:
            response = _practise(learner, topic, min(len(allowed), 50))
            assert response.status_code == 201, response.content
            shown = _reviewed_ids(learner, response.json()["id"])
            assert shown <= allowed
            for question_id in shown:
                assert tests_holding(question_id) <= open_tests
        else:
            assert _practise(learner, topic, 1).status_code == 409
        transaction.set_rollback(True)
