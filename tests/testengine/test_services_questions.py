"""The one validation path for questions, and create/update/status services."""

from decimal import Decimal

import pytest

from testengine import services
from testengine.errors import QuestionInvalid, RulesUnfillable
from testengine.models import Choice, Question
from testengine.services.questions import ChoiceData, QuestionData, question_data_from
from tests.testengine.factories import TopicFactory, make_question

pytestmark = pytest.mark.django_db


def _data(**overrides) -> QuestionData:
    base = {
        "type": "single",
        "topic": TopicFactory(),
        "body_md": "Which port does PostgreSQL listen on by default?",
        "choices": (
            ChoiceData("5432", True),
            ChoiceData("3306", False),
            ChoiceData("6379", False),
        ),
    }
    return QuestionData(**{**base, **overrides})


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"choices": (ChoiceData("a"), ChoiceData("b"))}, "choices", "exactly one correct"),
        (
            {"choices": (ChoiceData("a", True), ChoiceData("b", True))},
            "choices",
            "exactly one correct choice (2 marked)",
        ),
        (
            {"type": "multiple", "choices": (ChoiceData("a"), ChoiceData("b"))},
            "choices",
            "at least one choice correct",
        ),
        ({"choices": (ChoiceData("only", True),)}, "choices", "at least two choices"),
        (
            {"choices": (ChoiceData("Same", True), ChoiceData(" same "))},
            "choices",
            "same text",
        ),
        (
            {
                "type": "true_false",
                "choices": (ChoiceData("T", True), ChoiceData("F"), ChoiceData("X")),
            },
            "choices",
            "exactly two choices",
        ),
        ({"type": "numeric", "choices": ()}, "numeric_answer", "needs its answer"),
        (
            {
                "type": "numeric",
                "choices": (),
                "numeric_answer": Decimal("1"),
                "tolerance_kind": "relative",
                "numeric_tolerance": Decimal("2"),
            },
            "numeric_tolerance",
            "fraction below 1",
        ),
        ({"type": "text", "choices": ()}, "accepted_answers", "at least one accepted answer"),
        (
            {"type": "text", "choices": (), "accepted_answers": ("  ",)},
            "accepted_answers",
            "at least one",
        ),
        ({"numeric_answer": Decimal("1")}, "numeric_answer", "Only numeric"),
        ({"body_md": "   "}, "body_md", "needs a text"),
        ({"body_md": "Hi <script>alert(1)</script>"}, "body_md", "could run code"),
        ({"explanation_md": "<img src=x onerror=alert(1)>"}, "explanation_md", "could run code"),
        ({"body_md": "[x](javascript:alert(1))"}, "body_md", "could run code"),
        ({"marks": Decimal("-1")}, "marks", "cannot be negative"),
        ({"negative_marks": Decimal("-1")}, "negative_marks", "positive number"),
        ({"irt_c": 1.5}, "irt_c", "between 0 and 1"),
    ],
)
def test_a_question_that_cannot_be_marked_right_is_refused_and_nothing_is_saved(
    overrides, field, message
):
    with pytest.raises(QuestionInvalid) as error:
        services.question_create(data=_data(**overrides))

    assert any(message in text for text in error.value.fields[field])
    assert Question.objects.count() == 0
    assert Choice.objects.count() == 0


def test_create_renders_markdown_normalises_tags_and_sets_priors():
    question = services.question_create(
        data=_data(
            body_md="Default **port**?",
            tags=("SQL", "sql", " Query Plans "),
            difficulty="hard",
            status="published",
        )
    )

    assert question.body_html == "<p>Default <strong>port</strong>?</p>"
    assert question.tags == ["sql", "query-plans"]
    assert (question.irt_a, question.irt_b, question.irt_c) == (1.0, 1.0, round(1 / 3, 4))
    assert question.published_at is not None
    assert [c.body_html for c in question.choices.all()] == [
        "<p>5432</p>",
        "<p>3306</p>",
        "<p>6379</p>",
    ]


def test_update_keeps_choice_ids_bumps_the_version_and_removes_dropped_choices():
    question = services.question_create(data=_data())
    keep, drop, other = question.choices.all()
    data = question_data_from(question)

    services.question_update(
        question=question,
        data=QuestionData(
            **{
                **data.__dict__,
                "choices": (
                    ChoiceData("5432 (TCP)", True, id=keep.id),
                    ChoiceData("1521", False, id=other.id),
                    ChoiceData("27017", False),
                ),
            }
        ),
    )

    question.refresh_from_db()
    assert question.version == 2
    ids = [c.id for c in question.choices.all()]
    assert ids[:2] == [keep.id, other.id]
    assert not Choice.objects.filter(pk=drop.pk).exists()


def test_update_that_changes_nothing_visible_keeps_the_version():
    question = services.question_create(data=_data())

    services.question_update(
        question=question,
        data=QuestionData(**{**question_data_from(question).__dict__, "tags": ("x",)}),
    )

    question.refresh_from_db()
    assert question.version == 1


def test_update_refuses_a_choice_of_another_question_and_changes_nothing():
    question = services.question_create(data=_data())
    foreign = make_question().choices.first()
    data = question_data_from(question)

    with pytest.raises(QuestionInvalid):
        services.question_update(
            question=question,
            data=QuestionData(
                **{
                    **data.__dict__,
                    "choices": (ChoiceData("x", True, id=foreign.id), ChoiceData("y")),
                }
            ),
        )

    assert [c.body_md for c in question.choices.all()] == ["5432", "3306", "6379"]


def test_external_ids_are_unique():
    services.question_create(data=_data(external_id="bank-1"))

    with pytest.raises(QuestionInvalid) as error:
        services.question_create(data=_data(external_id="bank-1"))

    assert "external_id" in error.value.fields


def test_set_status_publishes_and_retires_in_bulk():
    drafts = [make_question(status="draft") for _ in range(3)]

    changed = services.question_set_status(questions=drafts, status="published")
    again = services.question_set_status(questions=drafts, status="published")

    assert (changed, again) == (3, 0)
    assert set(Question.objects.values_list("status", flat=True)) == {"published"}


def test_retiring_a_question_a_published_fixed_test_needs_is_refused():
    from testengine.models import Test
    from tests.testengine.factories import SectionFactory, SectionQuestionFactory, TestFactory

    question = make_question()
    test = TestFactory(mode=Test.Mode.FIXED, title="Django quiz")
    SectionQuestionFactory(section=SectionFactory(test=test), question=question)
    services.test_publish(test=test)

    with pytest.raises(RulesUnfillable) as error:
        services.question_set_status(questions=[question], status="retired")

    assert error.value.code == "breaks_published_tests"
    assert error.value.fields["tests"][0].startswith("“Django quiz”")
    question.refresh_from_db()
    assert question.status == "published"


def test_moving_a_question_out_of_a_random_tests_topic_is_refused_when_it_starves_it():
    from tests.testengine.factories import SectionFactory, SectionRuleFactory, TestFactory

    topic = TopicFactory()
    questions = [make_question(topic=topic) for _ in range(3)]
    test = TestFactory()
    SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=3)
    services.test_publish(test=test)
    data = question_data_from(questions[0])

    with pytest.raises(RulesUnfillable):
        services.question_update(
            question=questions[0], data=QuestionData(**{**data.__dict__, "topic": TopicFactory()})
        )

    questions[0].refresh_from_db()
    assert questions[0].topic_id == topic.id


def test_retiring_is_fine_when_the_bank_still_fills_every_published_test():
    from tests.testengine.factories import SectionFactory, SectionRuleFactory, TestFactory

    topic = TopicFactory()
    questions = [make_question(topic=topic) for _ in range(4)]
    test = TestFactory()
    SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=3)
    services.test_publish(test=test)

    assert services.question_set_status(questions=questions[:1], status="retired") == 1
