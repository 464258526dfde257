"""Factories for the test engine. Questions are built through the service, so every
factory-made question is one the API or admin could have saved."""

from __future__ import annotations

from decimal import Decimal

import factory

from testengine import services
from testengine.models import Question, Section, SectionQuestion, SectionRule, Test, Topic


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    name = factory.Sequence(lambda n: f"Topic {n}")
    slug = factory.Sequence(lambda n: f"topic-{n}")
    parent = None


def make_question(
    *,
    topic: Topic | None = None,
    type: str = Question.Type.SINGLE,
    status: str = Question.Status.PUBLISHED,
    difficulty: str = Question.Difficulty.MEDIUM,
    body: str | None = None,
    choices: list[tuple[str, bool]] | None = None,
    free_practice: bool = False,
    **extra,
) -> Question:
    """A valid question of ``type`` (sensible choices/answers unless given); in the free
    practice pool when ``free_practice``."""
    topic = topic or TopicFactory()
    make_question.counter += 1
    body = body or f"Question {make_question.counter}: what is *the* answer?"
    if choices is None:
        if type == Question.Type.SINGLE:
            choices = [("Alpha", True), ("Beta", False), ("Gamma", False), ("Delta", False)]
        elif type == Question.Type.MULTIPLE:
            choices = [("Alpha", True), ("Beta", True), ("Gamma", False), ("Delta", False)]
        elif type == Question.Type.TRUE_FALSE:
            choices = [("True", True), ("False", False)]
        else:
            choices = []
    if type == Question.Type.NUMERIC:
        extra.setdefault("numeric_answer", Decimal("42"))
    if type == Question.Type.TEXT:
        extra.setdefault("accepted_answers", ("PostgreSQL", "postgres"))
    data = services.QuestionData(
        type=type,
        topic=topic,
        body_md=body,
        difficulty=difficulty,
        status=status,
        choices=tuple(services.ChoiceData(body_md=text, is_correct=ok) for text, ok in choices),
        **extra,
    )
    question = services.question_create(data=data)
    if free_practice:
        services.question_set_free_practice(questions=[question], free=True)
        question.refresh_from_db()
    return question


make_question.counter = 0


class TestFactory(factory.django.DjangoModelFactory):
    __test__ = False  # not a pytest test class, despite the name

    class Meta:
        model = Test

    title = factory.Sequence(lambda n: f"Mock test {n}")
    slug = factory.Sequence(lambda n: f"mock-test-{n}")
    mode = Test.Mode.RANDOM
    duration_seconds = 3600


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    test = factory.SubFactory(TestFactory)
    title = factory.Sequence(lambda n: f"Section {n}")
    order = factory.Sequence(lambda n: n)


class SectionRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SectionRule

    section = factory.SubFactory(SectionFactory)
    count = 5


class SectionQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SectionQuestion

    section = factory.SubFactory(SectionFactory)
    order = factory.Sequence(lambda n: n)
