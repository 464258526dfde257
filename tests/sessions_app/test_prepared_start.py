"""Starting a sitting on a prepared paper (testengine.pool): the same sitting as a
generated start, never a stale or shared paper, the same rules first, fewer queries."""

import dataclasses
import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from sessions_app import detail as session_detail
from sessions_app import services
from sessions_app.api import serializers as s
from sessions_app.errors import AttemptsExhausted, NoAccess
from sessions_app.models import AttemptOverride, ExamSession
from sessions_app.services import sittings as sitting_services
from testengine import pool
from testengine import services as testengine_services
from testengine.models import PreparedPaper, Question, SectionRule, Test
from testengine.paper import answer_layout, generate_paper
from testengine.scoring import marking_key
from tests.accounts.factories import UserFactory
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db


def _prepared_seeds(test) -> set[int]:
    return set(PreparedPaper.objects.filter(test=test).values_list("seed", flat=True))


def _row_values(session: ExamSession) -> dict:
    return {
        field.attname: getattr(session, field.attname)
        for field in ExamSession._meta.concrete_fields
        if field.attname != "paper"
    }


def test_a_pooled_start_takes_a_prepared_paper_once_and_stores_it_whole():
    test = sittable_test(questions=10, draw=4, shuffle_questions=True, shuffle_choices=True)
    testengine_services.papers_prepare(test=test, count=2)
    seeds = _prepared_seeds(test)

    session, created = services.session_start(user=UserFactory(), test_slug=test.slug)

    assert created is True
    assert session.seed in seeds
    assert _prepared_seeds(test) == seeds - {session.seed}
    stored = ExamSession.objects.get(pk=session.pk)
    # The frozen paper is exactly what generation gives for its seed; so is everything
    # stored beside it.
    assert stored.paper == generate_paper(test, session.seed).to_json()
    assert stored.layout == answer_layout(stored.paper)
    assert (stored.question_count, stored.attempt, stored.status) == (4, 1, "in_progress")
    assert stored.max_score == generate_paper(test, session.seed).max_score
    # The sweep marks sittings by this key: a pooled sitting carries it as a generated one.
    assert stored.marking_key == marking_key(stored.paper) != ""
    assert stored.deadline_at - stored.started_at == timedelta(seconds=test.duration_seconds)
    # The row returned is the row stored, without a re-read; its paper loads on demand.
    assert "paper" in session.get_deferred_fields()
    assert _row_values(session) == _row_values(stored)
    assert session.paper == stored.paper


def test_a_pooled_and_a_generated_start_store_the_same_shape():
    test = sittable_test(questions=10, draw=4)
    generated, _ = services.session_start(user=UserFactory(), test_slug=test.slug)
    testengine_services.papers_prepare(test=test, count=1)

    pooled, _ = services.session_start(user=UserFactory(), test_slug=test.slug)

    assert not _prepared_seeds(test)  # the pooled one took the prepared paper
    a, b = ExamSession.objects.get(pk=generated.pk), ExamSession.objects.get(pk=pooled.pk)
    assert a.paper.keys() == b.paper.keys()
    assert a.paper["sections"][0].keys() == b.paper["sections"][0].keys()
    assert (
        a.paper["sections"][0]["questions"][0].keys()
        == b.paper["sections"][0]["questions"][0].keys()
    )
    assert (a.question_count, a.max_score, a.adaptive) == (
        b.question_count,
        b.max_score,
        b.adaptive,
    )
    assert a.deadline_at - a.started_at == b.deadline_at - b.started_at


def test_an_empty_pool_falls_back_to_generating():
    test = sittable_test()

    session, created = services.session_start(user=UserFactory(), test_slug=test.slug)

    assert created
    assert "paper" not in session.get_deferred_fields()
    assert (
        ExamSession.objects.get(pk=session.pk).paper == generate_paper(test, session.seed).to_json()
    )


def test_a_stale_paper_is_never_given():
    test = sittable_test(questions=8, draw=4)
    testengine_services.papers_prepare(test=test, count=3)
    seeds = _prepared_seeds(test)
    question_id = PreparedPaper.objects.first().paper["sections"][0]["questions"][0]["id"]
    question = Question.objects.get(pk=question_id)
    # Editing any question bumps the bank version: every prepared paper is stale now.
    data = dataclasses.replace(testengine_services.question_data_from(question), body_md="New?")
    testengine_services.question_update(question=question, data=data)

    sessions = [
        services.session_start(user=UserFactory(), test_slug=test.slug)[0] for _ in range(3)
    ]

    assert not {session.seed for session in sessions} & seeds
    assert _prepared_seeds(test) == seeds  # untouched, until discarded
    for session in sessions:
        paper = ExamSession.objects.get(pk=session.pk).paper
        for q in paper["sections"][0]["questions"]:
            if q["id"] == question_id:
                assert "New?" in q["body_html"]


def test_a_blueprint_change_makes_starts_generate_with_the_new_rules():
    test = sittable_test(questions=8, draw=4)
    testengine_services.papers_prepare(test=test, count=2)
    rule = SectionRule.objects.get(section__test=test)
    rule.count = 3
    rule.save()

    session, _ = services.session_start(user=UserFactory(), test_slug=test.slug)

    assert session.question_count == 3
    assert session.seed not in _prepared_seeds(test)


def test_the_rules_of_starting_run_before_any_claim():
    test = sittable_test(free=False, max_attempts=1)
    testengine_services.papers_prepare(test=test, count=2)

    with pytest.raises(NoAccess):
        services.session_start(user=UserFactory(), test_slug=test.slug)
    assert pool.fresh_count(test.pk) == 2

    free = sittable_test(max_attempts=1)
    testengine_services.papers_prepare(test=free, count=2)
    learner = UserFactory()
    first, _ = services.session_start(user=learner, test_slug=free.slug)
    services.session_submit(user=learner, session_id=first.pk)
    with pytest.raises(AttemptsExhausted):
        services.session_start(user=learner, test_slug=free.slug)
    assert pool.fresh_count(free.pk) == 1
    # Resuming an open sitting takes nothing either.
    other = UserFactory()
    opened, _ = services.session_start(user=other, test_slug=free.slug)
    again, created = services.session_start(user=other, test_slug=free.slug)
    assert (again.pk, created, pool.fresh_count(free.pk)) == (opened.pk, False, 0)


def test_a_practice_style_start_with_excluded_questions_never_takes_the_pool():
    test = sittable_test(questions=8, draw=2)
    testengine_services.papers_prepare(test=test, count=2)
    session, _ = sitting_services._start(
        user=UserFactory(), test=test, exclude_question_ids=frozenset({1})
    )

    assert session.seed not in _prepared_seeds(test)
    assert pool.fresh_count(test.pk) == 2


@pytest.mark.parametrize("extra", [0, 900])
def test_a_pooled_sectional_sitting_ends_with_its_sections(extra):
    test = sittable_test(questions=8, draw=4, duration_seconds=3600)
    test.sections.update(duration_seconds=1200)
    Test.objects.filter(pk=test.pk).update(updated_at=timezone.now())
    test = Test.objects.get(pk=test.pk)
    learner = UserFactory()
    if extra:
        AttemptOverride.objects.create(user=learner, test=test, extra_seconds=extra)
    testengine_services.papers_prepare(test=test, count=1)

    session, _ = services.session_start(user=learner, test_slug=test.slug)

    assert pool.fresh_count(test.pk) == 0  # it was the prepared one
    # As timing.sectional_deadline says: 1200 s, stretched by the extra time in proportion.
    wanted = timedelta(seconds=1200 * (3600 + extra) / 3600)
    assert abs((session.deadline_at - session.started_at) - wanted) < timedelta(milliseconds=1)
    assert ExamSession.objects.get(pk=session.pk).deadline_at == session.deadline_at


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_never_share_a_paper():
    test = sittable_test(questions=30, draw=5)
    testengine_services.papers_prepare(test=test, count=6)
    prepared = _prepared_seeds(test)
    learners = [UserFactory() for _ in range(8)]
    barrier = threading.Barrier(len(learners))
    seeds: list[int] = []
    errors: list[Exception] = []

    def start(learner) -> None:
        barrier.wait()
        try:
            seeds.append(services.session_start(user=learner, test_slug=test.slug)[0].seed)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=(learner,)) for learner in learners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(seeds) == len(set(seeds)) == 8
    assert set(seeds) & prepared == prepared  # all six prepared papers given, once each
    assert not PreparedPaper.objects.exists()
    stored = ExamSession.objects.filter(test=test).values_list("seed", flat=True)
    assert sorted(stored) == sorted(seeds)


# --- the API ---------------------------------------------------------------------------------


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_pooled_start_answers_what_a_generated_one_does(django_assert_max_num_queries):
    test = sittable_test(questions=12, draw=10)
    generated = _client(UserFactory()).post(f"/api/v1/tests/{test.slug}/sessions/")
    testengine_services.papers_prepare(test=test, count=1)
    client = _client(UserFactory())

    # Savepoint, test, access, learner lock, the override and earlier attempts (one
    # statement), claim and insert (one statement), release: no paper generated, nothing
    # re-read.
    with django_assert_max_num_queries(7) as started:
        response = client.post(f"/api/v1/tests/{test.slug}/sessions/")

    assert response.status_code == 201
    assert pool.fresh_count(test.pk) == 0
    read = " ".join(q["sql"] for q in started.captured_queries)
    assert '"testengine_question"' not in read
    assert '"testengine_choice"' not in read
    assert "sessions_app_sessionresponse" not in read
    first = response.json()
    assert first.keys() == generated.json().keys()
    assert [e.keys() for e in first["palette"]] == [e.keys() for e in generated.json()["palette"]]
    detail = client.get(f"/api/v1/sessions/{first['id']}/").json()
    volatile = ("server_time", "remaining_seconds")
    assert {k: v for k, v in first.items() if k not in volatile} == {
        k: v for k, v in detail.items() if k not in volatile
    }
    assert {entry["state"] for entry in first["palette"]} == {"not_visited"}
    session = ExamSession.objects.select_related("test").get(pk=first["id"])
    with time_machine.travel(timezone.now(), tick=False):
        assert (
            session_detail.session_detail_payload(session)
            == s.SessionDetailSerializer(session_detail.session_detail_data(session)).data
        )
    # The paper of a pooled sitting is served as any other.
    paper = client.get(f"/api/v1/sessions/{first['id']}/questions/")
    assert paper.status_code == 200
    assert len(paper.json()["questions"]) == 10


def test_the_start_reads_the_test_as_the_orm_does():
    test = sittable_test(adaptive_config={"max_items": 7}, pass_mark_percent="40.50")

    loaded = sitting_services._published_test(test.slug)

    expected = Test.objects.get(pk=test.pk)
    fields = [field.attname for field in Test._meta.concrete_fields]
    assert [getattr(loaded, f) for f in fields] == [getattr(expected, f) for f in fields]
    assert loaded.adaptive_config == {"max_items": 7}
    assert sitting_services._published_test("no-such-test") is None
