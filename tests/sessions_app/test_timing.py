"""The clock rules, with time travel (time-machine): expiry and its grace, the sweep's
stamps, the "when time expires" policy, sectional time limits and the item-statistics
task scheduled after scoring."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django_tasks import default_task_backend
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from catalogue import services as catalogue_services
from sessions_app import services
from sessions_app.errors import (
    LastSection,
    NotSectional,
    SectionLocked,
    SectionNotOpen,
    SessionExpired,
)
from sessions_app.models import AttemptOverride, ExamSession, SessionResponse
from sessions_app.signals import session_scored
from testengine import services as testengine_services
from testengine.models import QuestionStatistics, Test
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import ProductTestFactory, PublishedProductFactory
from tests.sessions_app.factories import sittable_test
from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)  # Sunday, 10:00


def _at(moment: datetime):
    return time_machine.travel(moment, tick=False)


def _correct(question) -> dict:
    return {"choices": sorted(question.correct_choice_ids)}


def _save(learner, session, question, *, seq, answer=None):
    return services.response_save(
        user=learner,
        session_id=session.id,
        question_id=question.id,
        answer=_correct(question) if answer is None else answer,
        seq=seq,
    )


def _sectional_test(*durations, test_duration=1800, **test_kwargs) -> Test:
    """A published free test with one section per duration (None: no own limit), two
    questions drawn in each."""
    test = TestFactory(duration_seconds=test_duration, **test_kwargs)
    for order, duration in enumerate(durations):
        topic = TopicFactory()
        for _ in range(3):
            make_question(topic=topic)
        section = SectionFactory(test=test, order=order, duration_seconds=duration)
        SectionRuleFactory(section=section, topic=topic, count=2)
    testengine_services.test_publish(test=test)
    product = PublishedProductFactory()
    product.plans.update(price_paise=0)
    catalogue_services.product_sync_derived(product_ids=[product.id])
    ProductTestFactory(product=product, test=test)
    return test


def _sections(session) -> list[list]:
    return [list(section.questions) for section in Paper.from_json(session.paper).sections]


# --- expiry --------------------------------------------------------------------------------


def test_saves_count_until_the_deadline_plus_grace_then_the_session_is_finalized_at_it():
    test = sittable_test(duration_seconds=1800)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    first, second, *_ = Paper.from_json(session.paper).questions
    deadline = T0 + timedelta(seconds=1800)
    assert session.deadline_at == deadline

    with _at(deadline + timedelta(seconds=9)):  # inside the 10 s grace: still counts
        assert _save(learner, session, first, seq=1).applied is True
    with _at(deadline + timedelta(seconds=11)), pytest.raises(SessionExpired):
        _save(learner, session, second, seq=2)

    session.refresh_from_db()
    assert (session.status, session.submit_reason) == ("submitted", "time_up")
    assert session.submitted_at == deadline  # not when the late save arrived
    assert session.time_taken_seconds == 1800
    assert session.correct == 1  # the answer saved in the grace is scored
    assert not SessionResponse.objects.filter(session=session, question_id=second.id).exists()


def test_a_touch_after_expiry_finalizes_and_the_sweep_stamps_the_deadline_not_its_run():
    test = sittable_test(duration_seconds=600)
    learners = UserFactory.create_batch(3)
    sessions = []
    for offset, learner in enumerate(learners):
        with _at(T0 + timedelta(minutes=offset)):
            sessions.append(services.session_start(user=learner, test_slug=test.slug)[0])
    client = APIClient()
    client.force_authenticate(learners[0])

    with _at(T0 + timedelta(minutes=30)):
        touched = client.get(f"/api/v1/sessions/{sessions[0].id}/")
        swept = services.finalize_expired_sessions()
        call_command("finalize_expired_sessions", verbosity=0)  # a second sweep: no-op

    assert touched.status_code == 200
    assert (touched.json()["status"], touched.json()["remaining_seconds"]) == ("submitted", 0)
    assert swept == 2
    for offset, session in enumerate(sessions):
        session.refresh_from_db()
        assert session.status == "submitted"
        assert session.submitted_at == T0 + timedelta(minutes=offset, seconds=600)


def test_a_submit_after_the_grace_is_recorded_at_the_deadline_as_time_up():
    test = sittable_test(duration_seconds=900)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    with _at(T0 + timedelta(hours=3)):
        submitted = services.session_submit(user=learner, session_id=session.id)
    assert (submitted.submit_reason, submitted.submitted_at) == (
        "time_up",
        T0 + timedelta(seconds=900),
    )


def test_the_abandon_policy_closes_an_expired_attempt_unscored_and_keeps_its_answers():
    test = sittable_test(duration_seconds=600, on_time_up=Test.OnTimeUp.ABANDON, max_attempts=2)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
        question = Paper.from_json(session.paper).questions[0]
        _save(learner, session, question, seq=1)

    with _at(T0 + timedelta(minutes=20)):
        services.finalize_expired_sessions()
        session.refresh_from_db()
        client = APIClient()
        client.force_authenticate(learner)
        result = client.get(f"/api/v1/sessions/{session.id}/result/")
        again, created = services.session_start(user=learner, test_slug=test.slug)

    assert (session.status, session.score, session.submit_reason) == ("abandoned", None, "time_up")
    assert session.submitted_at == T0 + timedelta(seconds=600)
    assert SessionResponse.objects.get(session=session).answer == _correct(question)
    assert result.status_code == 409
    assert (created, again.attempt) == (True, 2)  # an abandoned sitting used an attempt


def test_the_abandon_policy_does_not_touch_a_learner_who_submits_in_time():
    test = sittable_test(duration_seconds=600, on_time_up=Test.OnTimeUp.ABANDON)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    with _at(T0 + timedelta(seconds=599)):
        submitted = services.session_submit(user=learner, session_id=session.id)
    assert (submitted.status, submitted.score) == ("submitted", Decimal("0.00"))


# --- sectional time limits -------------------------------------------------------------------


def test_sections_are_sat_in_turn_each_with_its_own_clock():
    test = _sectional_test(600, 900, test_duration=1800)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    (a1, a2), (b1, b2) = _sections(session)
    # Every section is timed: the sitting ends when the last section does.
    assert session.deadline_at == T0 + timedelta(seconds=1500)

    with _at(T0 + timedelta(seconds=10)):
        _save(learner, session, a1, seq=1)
        with pytest.raises(SectionNotOpen):
            _save(learner, session, b1, seq=2)
    with _at(T0 + timedelta(seconds=605)):  # section A's time is up, within the grace
        _save(learner, session, a2, seq=3)
        _save(learner, session, b1, seq=4)
    with _at(T0 + timedelta(seconds=615)):
        with pytest.raises(SectionLocked) as locked:
            _save(learner, session, a1, seq=5, answer={"choices": []})
        _save(learner, session, b2, seq=6)

    assert locked.value.code == "section_locked"
    stored = dict(SessionResponse.objects.filter(session=session).values_list("question_id", "seq"))
    assert stored == {a1.id: 1, a2.id: 3, b1.id: 4, b2.id: 6}


def test_the_api_shows_section_states_and_only_the_current_sections_questions():
    test = _sectional_test(600, 900)
    learner = UserFactory()
    client = APIClient()
    client.force_authenticate(learner)
    with _at(T0):
        started = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()
    section_ids = [s["id"] for s in started["sections"]]

    with _at(T0 + timedelta(seconds=700)):
        detail = client.get(f"/api/v1/sessions/{started['id']}/").json()
        paper = client.get(f"/api/v1/sessions/{started['id']}/questions/").json()

    assert detail["current_section"] == section_ids[1]
    assert [(s["state"], s["timed"]) for s in detail["sections"]] == [
        ("locked", True),
        ("current", True),
    ]
    current = detail["sections"][1]
    assert current["remaining_seconds"] == 800
    assert current["deadline_at"].startswith("2026-11-22T10:25:00")
    assert {q["section"] for q in paper["questions"]} == {section_ids[1]}
    assert len(paper["questions"]) == 2


def test_next_section_locks_the_current_one_and_a_retry_skips_nothing():
    test = _sectional_test(600, 900, 300, test_duration=3600)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    first, second, third = [s.id for s in Paper.from_json(session.paper).sections]
    (a1, _), (b1, _), _ = _sections(session)

    with _at(T0 + timedelta(seconds=100)):
        moved = services.section_advance(user=learner, session_id=session.id, section_id=first)
        retried = services.section_advance(user=learner, session_id=session.id, section_id=first)
        with pytest.raises(SectionLocked):
            _save(learner, session, a1, seq=1)  # left by hand: no grace
        _save(learner, session, b1, seq=2)
        with pytest.raises(SectionNotOpen):
            services.section_advance(user=learner, session_id=session.id, section_id=third)

    assert (moved.section_index, retried.section_index) == (1, 1)
    # Sections B and C now run from 10:01:40: the sitting ends 1,200 s later.
    assert retried.deadline_at == T0 + timedelta(seconds=100 + 900 + 300)
    with _at(T0 + timedelta(seconds=200)):
        services.section_advance(user=learner, session_id=session.id, section_id=second)
        with pytest.raises(LastSection):
            services.section_advance(user=learner, session_id=session.id, section_id=third)


def test_next_section_refusals_over_the_api():
    sectional = _sectional_test(600, 900)
    plain = sittable_test()
    learner, other = UserFactory(), UserFactory()
    client = APIClient()
    client.force_authenticate(learner)
    with _at(T0):
        mine = client.post(f"/api/v1/tests/{sectional.slug}/sessions/").json()
        unsectioned = client.post(f"/api/v1/tests/{plain.slug}/sessions/").json()
        url = f"/api/v1/sessions/{mine['id']}/sections/next/"
        unknown = client.post(url, {"section": 999999}, format="json")
        extra = client.post(url, {"section": mine["sections"][0]["id"], "x": 1}, format="json")
        flat = client.post(
            f"/api/v1/sessions/{unsectioned['id']}/sections/next/",
            {"section": unsectioned["sections"][0]["id"]},
            format="json",
        )
        client.force_authenticate(other)
        foreign = client.post(url, {"section": mine["sections"][0]["id"]}, format="json")

    assert (unknown.status_code, unknown.json()["code"]) == (400, "invalid")
    assert "section" in unknown.json()["fields"]
    assert (extra.status_code, extra.json()["code"]) == (400, "invalid")
    assert (flat.status_code, flat.json()["code"]) == (409, "not_sectional")
    assert (foreign.status_code, foreign.json()["code"]) == (404, "not_found")
    assert ExamSession.objects.get(pk=mine["id"]).section_index == 0


def test_section_times_stretch_with_the_learners_extra_time():
    test = _sectional_test(600, 900, test_duration=1800)
    learner = UserFactory()
    AttemptOverride.objects.create(user=learner, test=test, extra_seconds=900)  # +50 %
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    (a1, _), _ = _sections(session)
    assert session.deadline_at == T0 + timedelta(seconds=(600 + 900) * 1.5)
    with _at(T0 + timedelta(seconds=880)):  # past 600 s, inside 900 s
        assert _save(learner, session, a1, seq=1).applied is True


def test_an_untimed_section_after_timed_ones_runs_to_the_tests_deadline():
    test = _sectional_test(300, None, test_duration=1200)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    _, (b1, _) = _sections(session)
    assert session.deadline_at == T0 + timedelta(seconds=1200)
    with _at(T0 + timedelta(seconds=1195)):
        assert _save(learner, session, b1, seq=1).applied is True


def test_section_advance_after_expiry_finalizes_and_answers_410():
    test = _sectional_test(600, 900)
    learner = UserFactory()
    with _at(T0):
        session, _ = services.session_start(user=learner, test_slug=test.slug)
    first = Paper.from_json(session.paper).sections[0].id
    with _at(T0 + timedelta(hours=2)), pytest.raises(SessionExpired):
        services.section_advance(user=learner, session_id=session.id, section_id=first)
    session.refresh_from_db()
    assert (session.status, session.submitted_at) == ("submitted", T0 + timedelta(seconds=1500))


def test_a_plain_test_has_no_section_clock():
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    with pytest.raises(NotSectional):
        services.section_advance(
            user=learner,
            session_id=session.id,
            section_id=Paper.from_json(session.paper).sections[0].id,
        )


# --- item statistics after scoring ---------------------------------------------------------------


def test_scoring_schedules_item_statistics_after_commit(django_capture_on_commit_callbacks):
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    question = Paper.from_json(session.paper).questions[0]
    _save(learner, session, question, seq=1)

    heard = []

    def listen(sender, **kwargs):
        heard.append(kwargs)

    session_scored.connect(listen)
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            services.session_submit(user=learner, session_id=session.id)
    finally:
        session_scored.disconnect(listen)

    # the statistics task and the session_scored signal, both after the commit
    assert len(callbacks) == 2
    assert [(h["session_id"], h["user_id"], h["test_id"]) for h in heard] == [
        (session.id, learner.pk, test.pk)
    ]
    stats = QuestionStatistics.objects.get(question_id=question.id)
    assert stats.responses == 1


@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}},
    ITEM_STATISTICS_DEBOUNCE_SECONDS=60,
)
def test_a_burst_of_submissions_schedules_one_deferred_recomputation(
    django_capture_on_commit_callbacks,
):
    test = sittable_test()
    learners = UserFactory.create_batch(3)
    with _at(T0), django_capture_on_commit_callbacks(execute=True):
        for learner in learners:
            session, _ = services.session_start(user=learner, test_slug=test.slug)
            services.session_submit(user=learner, session_id=session.id)

    stats_path = "sessions_app.tasks.update_test_item_statistics"
    results = [r for r in default_task_backend.results if r.task.module_path == stats_path]
    assert len(results) == 1
    assert results[0].args == [test.id]
    assert results[0].task.run_after == T0 + timedelta(seconds=60)


@pytest.mark.django_db(transaction=True)  # real commits: on_commit and the worker as in prod
@override_settings(
    TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}},
    ITEM_STATISTICS_DEBOUNCE_SECONDS=0,
)
def test_the_database_worker_runs_the_scheduled_recomputation():
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    question = Paper.from_json(session.paper).questions[0]
    _save(learner, session, question, seq=1)
    services.session_submit(user=learner, session_id=session.id)
    # (other apps' tasks for the scored sitting — mastery — are queued beside it)
    stats = DBTaskResult.objects.filter(task_path="sessions_app.tasks.update_test_item_statistics")
    assert stats.filter(status="READY").count() == 1
    assert not QuestionStatistics.objects.filter(question_id=question.id).exists()

    call_command(
        "db_worker", batch=True, interval=0, startup_delay=False, reload=False, verbosity=0
    )

    assert stats.get().status == "SUCCESSFUL"
    assert set(DBTaskResult.objects.values_list("status", flat=True)) == {"SUCCESSFUL"}
    assert QuestionStatistics.objects.get(question_id=question.id).responses == 1
