"""Factories and helpers for learning tests: topics with a bank, tests in products a
learner is enrolled in, and real scored sittings with a chosen answer pattern."""

from __future__ import annotations

from collections.abc import Callable

import factory
from django.utils import timezone
from rest_framework.test import APIClient

from learning.models import TopicMastery
from sessions_app import services as sessions
from sessions_app.models import ExamSession
from testengine import services as testengine_services
from testengine.models import Question, Test, Topic
from testengine.paper import Paper, PaperQuestion
from tests.catalogue.factories import EnrollmentFactory, ProductTestFactory, PublishedProductFactory
from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)


def topic_with_bank(questions: int = 8, *, free_practice: bool = False, **topic_kwargs) -> Topic:
    """A topic with ``questions`` published single-choice questions (in the free practice
    pool when ``free_practice``: any learner may practise them; tests never draw them)."""
    topic = TopicFactory(**topic_kwargs)
    for _ in range(questions):
        make_question(topic=topic, free_practice=free_practice)
    return topic


def topic_test(draws: dict[Topic, int], *, enrol=None, **test_kwargs) -> Test:
    """A published random test with one rule per topic, in a paid product; ``enrol`` (a
    user, or a list of them) gets a live enrollment in it."""
    test = TestFactory(**test_kwargs)
    section = SectionFactory(test=test)
    for topic, count in draws.items():
        SectionRuleFactory(section=section, topic=topic, count=count)
    testengine_services.test_publish(test=test)
    product = PublishedProductFactory()
    ProductTestFactory(product=product, test=test)
    for user in enrol if isinstance(enrol, list | tuple) else [enrol] if enrol else []:
        EnrollmentFactory(user=user, plan=product.plans.get())
    test.refresh_from_db()
    return test


Answering = Callable[[PaperQuestion], bool | None]


def sit(user, test: Test, right: bool | Answering = True) -> ExamSession:
    """A scored sitting through the session services: each question answered right
    (True), wrong (False) or left unanswered (None), as ``right`` says."""
    session, _ = sessions.session_start(user=user, test_slug=test.slug)
    return answer_and_submit(user, session, right)


def answer_and_submit(user, session: ExamSession, right: bool | Answering = True) -> ExamSession:
    paper = Paper.from_json(session.paper)
    for seq, question in enumerate(paper.questions, start=1):
        verdict = right(question) if callable(right) else right
        if verdict is None:
            continue
        correct = sorted(question.correct_choice_ids)
        wrong = [c.id for c in question.choices if c.id not in question.correct_choice_ids]
        sessions.response_save(
            user=user,
            session_id=session.id,
            question_id=question.id,
            answer={"choices": correct if verdict else wrong[:1]},
            seq=seq,
        )
    return sessions.session_submit(user=user, session_id=session.id)


def set_irt(topic: Topic, *, a: float = 1.0, b: float = 0.0, c: float = 0.0) -> None:
    Question.objects.filter(topic=topic).update(irt_a=a, irt_b=b, irt_c=c)


class TopicMasteryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TopicMastery

    topic = factory.SubFactory(TopicFactory)
    theta = 0.0
    se = 0.5
    responses = 10
    correct = 5
    updated_at = factory.LazyFunction(timezone.now)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
