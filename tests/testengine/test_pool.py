"""Prepared papers (testengine.pool): what preparing makes, the freshness stamps, discard,
and the doors (command, task, admin action)."""

import dataclasses
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse

from testengine import pool, services
from testengine.models import Choice, PreparedPaper, Question, Section, SectionRule, Test
from testengine.paper import answer_layout, generate_paper
from testengine.tasks import prepare_test_papers
from tests.sessions_app.factories import sittable_test
from tests.testengine.factories import (
    SectionFactory,
    SectionQuestionFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db


def _fixed_test(**kwargs) -> Test:
    topic = TopicFactory()
    test = TestFactory(mode=Test.Mode.FIXED, **kwargs)
    section = SectionFactory(test=test, duration_seconds=600)
    for order in range(3):
        SectionQuestionFactory(section=section, question=make_question(topic=topic), order=order)
    services.test_publish(test=test)
    return Test.objects.get(pk=test.pk)


@pytest.mark.parametrize("kind", ["random", "fixed"])
def test_a_prepared_paper_is_exactly_the_generated_one(kind):
    test = (
        sittable_test(questions=8, draw=5, shuffle_questions=True, shuffle_choices=True)
        if kind == "random"
        else _fixed_test(shuffle_choices=True)
    )

    report = services.papers_prepare(test=test, count=4)

    assert (report.prepared, report.fresh) == (4, 4)
    rows = list(PreparedPaper.objects.filter(test=test))
    assert len({row.seed for row in rows}) == 4
    for row in rows:
        generated = generate_paper(test, row.seed)
        assert row.paper == generated.to_json()
        assert row.layout == answer_layout(row.paper)
        assert row.question_count == len(generated.questions)
        assert row.max_score == generated.max_score
        assert row.timed_seconds == (600 if kind == "fixed" else None)


def test_random_papers_in_the_pool_differ():
    test = sittable_test(questions=30, draw=10, shuffle_questions=True)

    services.papers_prepare(test=test, count=5)

    orders = {
        tuple(q["id"] for q in row.paper["sections"][0]["questions"])
        for row in PreparedPaper.objects.filter(test=test)
    }
    assert len(orders) == 5


def test_preparing_tops_the_pool_up_and_never_past_the_count():
    test = sittable_test()
    services.papers_prepare(test=test, count=3)

    again = services.papers_prepare(test=test, count=5)

    assert (again.prepared, again.fresh) == (2, 5)
    assert services.papers_prepare(test=test, count=2).prepared == 0
    assert PreparedPaper.objects.filter(test=test).count() == 5


@pytest.mark.parametrize("state", ["unpublished", "adaptive"])
def test_only_published_fixed_and_random_tests_are_pooled(state):
    test = TestFactory(mode=Test.Mode.ADAPTIVE) if state == "adaptive" else TestFactory()
    if state == "adaptive":
        Test.objects.filter(pk=test.pk).update(is_published=True)

    report = services.papers_prepare(test=test, count=3)

    assert (report.prepared, report.skipped != "") == (0, True)
    assert not PreparedPaper.objects.exists()


def _question_of(test: Test) -> Question:
    row = PreparedPaper.objects.filter(test=test).first()
    return Question.objects.get(pk=row.paper["sections"][0]["questions"][0]["id"])


def _edit_question(test):
    question = _question_of(test)
    data = dataclasses.replace(services.question_data_from(question), body_md="Reworded?")
    services.question_update(question=question, data=data)


def _edit_choice(test):
    choice = Choice.objects.filter(question=_question_of(test)).first()
    choice.body_md = "Reworded option"
    choice.save()


def _retire_an_unrelated_question(test):
    services.question_set_status(
        questions=[make_question(topic=TopicFactory())], status=Question.Status.RETIRED
    )


def _calibrate(test):
    question = _question_of(test)
    fit = services.ItemFit(question_id=question.pk, a=1.4, b=0.3, c=question.irt_c, responses=99)
    services.question_calibration_store(fits=[fit], min_responses=10)


def _rename_topic(test):
    topic = _question_of(test).topic
    topic.name = "Renamed"
    topic.save()


def _edit_rule(test):
    rule = SectionRule.objects.get(section__test=test)
    rule.count -= 1
    rule.save()


def _edit_section(test):
    Section.objects.filter(test=test).first().save()


def _edit_test(test):
    services.test_update(test=test, values={"shuffle_choices": not test.shuffle_choices})


@pytest.mark.parametrize(
    "change",
    [
        _edit_question,
        _edit_choice,
        _retire_an_unrelated_question,
        _calibrate,
        _rename_topic,
        _edit_rule,
        _edit_section,
        _edit_test,
    ],
)
def test_a_change_that_could_alter_generation_makes_the_pool_stale(change):
    test = sittable_test(questions=8, draw=4)
    services.papers_prepare(test=test, count=3)
    assert pool.fresh_count(test.pk) == 3

    change(Test.objects.get(pk=test.pk))

    assert pool.fresh_count(test.pk) == 0
    assert pool.claim_paper(test_id=test.pk) is None
    assert PreparedPaper.objects.filter(test=test).count() == 3  # stale rows stay until discarded
    assert services.papers_discard_stale() == 3
    assert not PreparedPaper.objects.exists()


def test_a_hand_picked_question_change_makes_a_fixed_pool_stale():
    test = _fixed_test()
    services.papers_prepare(test=test, count=2)
    row = test.sections.get().fixed_questions.first()

    row.marks = Decimal("3")
    row.save()

    assert pool.fresh_count(test.pk) == 0


def test_discarding_keeps_fresh_papers_and_other_tests_pools():
    stale, fresh = sittable_test(), sittable_test()
    services.papers_prepare(test=stale, count=2)
    services.papers_prepare(test=fresh, count=2)
    _edit_rule(stale)

    assert services.papers_discard_stale(test_id=fresh.pk) == 0
    assert services.papers_discard_stale() == 2
    assert pool.fresh_count(fresh.pk) == 2
    assert set(PreparedPaper.objects.values_list("test_id", flat=True)) == {fresh.pk}


def test_unpublishing_discards_on_the_next_sweep():
    test = sittable_test()
    services.papers_prepare(test=test, count=2)

    services.test_unpublish(test=test)

    assert services.papers_discard_stale() == 2


def test_a_claim_takes_each_paper_once_oldest_first():
    test = sittable_test(questions=10, draw=3)
    services.papers_prepare(test=test, count=2)
    seeds = list(PreparedPaper.objects.order_by("id").values_list("seed", flat=True))

    first, second = pool.claim_paper(test_id=test.pk), pool.claim_paper(test_id=test.pk)

    assert [first.seed, second.seed] == seeds
    assert first.paper == generate_paper(test, first.seed).to_json()
    assert pool.claim_paper(test_id=test.pk) is None


def test_the_command_prepares_one_test_or_all_and_discards():
    one, other = sittable_test(), sittable_test()
    out = StringIO()

    call_command("prepare_papers", one.slug, "--count", "3", stdout=out)
    assert pool.fresh_count(one.pk) == 3
    assert pool.fresh_count(other.pk) == 0
    assert "3 prepared" in out.getvalue()

    call_command("prepare_papers", "--all", "--count", "2", stdout=StringIO())
    assert (pool.fresh_count(one.pk), pool.fresh_count(other.pk)) == (3, 2)

    _edit_rule(one)
    out = StringIO()
    call_command("discard_stale_papers", stdout=out)
    assert "discarded 3" in out.getvalue()


def test_the_command_refuses_an_unknown_test_and_no_target():
    from django.core.management import CommandError

    with pytest.raises(CommandError):
        call_command("prepare_papers", "no-such-test", "--count", "1")
    with pytest.raises(CommandError):
        call_command("prepare_papers", "--count", "1")


def test_the_task_prepares_the_pool():
    test = sittable_test()

    result = prepare_test_papers.enqueue(test.pk, 2)

    assert result.return_value == {"test_id": test.pk, "prepared": 2, "fresh": 2, "skipped": ""}
    assert pool.fresh_count(test.pk) == 2


def test_the_admin_action_prepares_papers(
    admin_client, settings, django_capture_on_commit_callbacks
):
    settings.PREPARED_PAPERS_PER_TEST = 3
    test = sittable_test()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:testengine_test_changelist"),
            {"action": "prepare_papers", "_selected_action": [test.pk]},
            follow=True,
        )

    assert response.status_code == 200
    assert pool.fresh_count(test.pk) == 3  # the task ran (the test settings run tasks at once)
    assert "Preparing up to 3 fresh papers for 1 test(s)" in response.content.decode()
