"""Exam sessions: start/resume rules, autosave ordering, submit once, expiry."""

import importlib
import json
import threading
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sessions_app import services
from sessions_app.errors import (
    AnswerRejected,
    AttemptsExhausted,
    AttemptTooSoon,
    NoAccess,
    SessionClosed,
    SessionExpired,
    SessionNotFound,
    TestClosed,
    TestNotFound,
)
from sessions_app.models import AttemptOverride, ExamSession, SessionResponse
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db


def _key(session):
    return {
        q.id: {"choices": sorted(q.correct_choice_ids)}
        for q in Paper.from_json(session.paper).questions
    }


def test_start_freezes_a_paper_and_fixes_the_deadline():
    test = sittable_test(duration_seconds=1800)
    learner = UserFactory()

    session, created = services.session_start(user=learner, test_slug=test.slug)

    assert created is True
    assert (session.attempt, session.status, session.question_count) == (1, "in_progress", 4)
    assert session.deadline_at - session.started_at == timedelta(seconds=1800)
    assert len(Paper.from_json(session.paper).questions) == 4


def test_starting_again_resumes_the_open_session():
    test = sittable_test()
    learner = UserFactory()
    first, _ = services.session_start(user=learner, test_slug=test.slug)

    again, created = services.session_start(user=learner, test_slug=test.slug)

    assert created is False
    assert again.id == first.id
    assert ExamSession.objects.count() == 1


@pytest.mark.parametrize("case", ["unknown", "unpublished", "no_access", "closed"])
def test_start_refusals(case):
    test = sittable_test(free=case != "no_access")
    slug = test.slug
    expected = {
        "unknown": TestNotFound,
        "unpublished": TestNotFound,
        "no_access": NoAccess,
        "closed": TestClosed,
    }[case]
    if case == "unknown":
        slug = "nope"
    elif case == "unpublished":
        test.is_published = False
        test.save()
    elif case == "closed":
        test.available_from = timezone.now() - timedelta(days=2)
        test.available_until = timezone.now() - timedelta(days=1)
        test.save()

    with pytest.raises(expected):
        services.session_start(user=UserFactory(), test_slug=slug)

    assert ExamSession.objects.count() == 0


def test_attempts_are_limited_and_an_override_adds_more():
    test = sittable_test(max_attempts=1)
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    services.session_submit(user=learner, session_id=session.id)

    with pytest.raises(AttemptsExhausted):
        services.session_start(user=learner, test_slug=test.slug)
    AttemptOverride.objects.create(user=learner, test=test, extra_attempts=1)
    second, created = services.session_start(user=learner, test_slug=test.slug)

    assert (created, second.attempt) == (True, 2)


def test_the_minimum_gap_between_attempts_is_enforced_with_retry_after():
    test = sittable_test(min_gap_seconds=3600)
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    services.session_submit(user=learner, session_id=session.id)

    with pytest.raises(AttemptTooSoon) as error:
        services.session_start(user=learner, test_slug=test.slug)

    assert 3500 < int(error.value.headers["Retry-After"]) <= 3601


def test_the_deadline_is_capped_by_the_closing_time_and_extended_by_an_override():
    test = sittable_test(duration_seconds=3600)
    test.available_until = timezone.now() + timedelta(minutes=20)
    test.save()
    learner = UserFactory()
    AttemptOverride.objects.create(user=learner, test=test, extra_seconds=600)

    session, _ = services.session_start(user=learner, test_slug=test.slug)

    assert session.deadline_at == test.available_until


def test_the_layout_holds_what_a_save_checks_and_nothing_of_the_content_or_key():
    session, _ = services.session_start(user=UserFactory(), test_slug=sittable_test().slug)
    paper = Paper.from_json(session.paper)

    layout = session.layout

    assert [s["id"] for s in layout["sections"]] == [s.id for s in paper.sections]
    flat = [q for s in layout["sections"] for q in s["questions"]]
    assert [(q["id"], q["type"], q["choices"]) for q in flat] == [
        (q.id, q.type, [c.id for c in q.choices]) for q in paper.questions
    ]
    assert {key for q in flat for key in q} == {"id", "type", "choices"}
    assert len(json.dumps(layout)) * 5 < len(json.dumps(session.paper))


def test_the_migration_fills_the_layout_of_sessions_started_before_it():
    fill = importlib.import_module("sessions_app.migrations.0003_answer_layout").fill_layouts
    session, _ = services.session_start(user=UserFactory(), test_slug=sittable_test().slug)
    expected = session.layout
    ExamSession.objects.filter(pk=session.pk).update(layout={})

    fill(django_apps, None)

    session.refresh_from_db()
    assert session.layout == expected
    assert session.layout["sections"]


def test_saves_apply_in_sequence_order_and_older_ones_change_nothing():
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    question = Paper.from_json(session.paper).questions[0]
    first, second = [c.id for c in question.choices][:2]

    def statements(captured):
        return [
            q["sql"]
            for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
        ]

    with CaptureQueriesContext(connection) as applying:
        newer = services.response_save(
            user=learner,
            session_id=session.id,
            question_id=question.id,
            answer={"choices": [second]},
            seq=5,
        )
    with CaptureQueriesContext(connection) as ignoring:
        older = services.response_save(
            user=learner,
            session_id=session.id,
            question_id=question.id,
            answer={"choices": [first]},
            seq=4,
        )
    # whatever the paper's size (issue: at most 4): lock the session and upsert returning
    # the row; an older save reads the stored newer one back
    assert len(statements(applying)) == 2
    assert len(statements(ignoring)) == 3
    # the ~70 KB frozen paper is never read on a save, only its small layout
    assert not any("paper" in sql for sql in statements(applying) + statements(ignoring))
    retried = services.response_save(
        user=learner,
        session_id=session.id,
        question_id=question.id,
        answer={"choices": [second]},
        seq=5,
    )

    assert newer.applied is True
    assert (older.applied, older.response.answer) == (False, {"choices": [second]})
    assert retried.applied is False
    assert SessionResponse.objects.get().seq == 5


@pytest.mark.parametrize(
    ("question_offset", "answer", "field"),
    [
        (None, {"choices": [1]}, "question_id"),
        (0, {"choices": [999999]}, "answer"),
        (0, {"value": 3}, "answer"),
    ],
)
def test_bad_saves_are_refused_and_change_nothing(question_offset, answer, field):
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    question_id = (
        999999 if question_offset is None else Paper.from_json(session.paper).questions[0].id
    )

    with pytest.raises(AnswerRejected) as error:
        services.response_save(
            user=learner, session_id=session.id, question_id=question_id, answer=answer, seq=1
        )

    assert field in error.value.fields
    assert SessionResponse.objects.count() == 0


def test_another_learners_session_is_not_found():
    test = sittable_test()
    owner = UserFactory()
    session, _ = services.session_start(user=owner, test_slug=test.slug)
    question = Paper.from_json(session.paper).questions[0]

    with pytest.raises(SessionNotFound):
        services.response_save(
            user=UserFactory(),
            session_id=session.id,
            question_id=question.id,
            answer=None,
            seq=1,
        )
    with pytest.raises(SessionNotFound):
        services.session_submit(user=UserFactory(), session_id=session.id)

    session.refresh_from_db()
    assert session.status == "in_progress"


def test_submit_scores_once_and_a_second_submit_returns_the_same_result():
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    for seq, (question_id, answer) in enumerate(_key(session).items(), start=1):
        services.response_save(
            user=learner, session_id=session.id, question_id=question_id, answer=answer, seq=seq
        )

    done = services.session_submit(user=learner, session_id=session.id)
    again = services.session_submit(user=learner, session_id=session.id)

    assert (done.status, done.score, done.max_score, done.correct) == ("submitted", 4, 4, 4)
    assert again.submitted_at == done.submitted_at
    assert done.submit_reason == "learner"
    assert set(SessionResponse.objects.values_list("outcome", flat=True)) == {"correct"}
    with pytest.raises(SessionClosed):
        services.response_save(
            user=learner,
            session_id=session.id,
            question_id=next(iter(_key(session))),
            answer=None,
            seq=99,
        )


def test_a_save_after_the_deadline_and_grace_is_refused_and_finalizes_at_the_deadline():
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    question_id, answer = next(iter(_key(session).items()))
    services.response_save(
        user=learner, session_id=session.id, question_id=question_id, answer=answer, seq=1
    )
    deadline = timezone.now() - timedelta(seconds=30)
    ExamSession.objects.filter(pk=session.pk).update(
        started_at=deadline - timedelta(hours=1), deadline_at=deadline
    )

    with pytest.raises(SessionExpired):
        services.response_save(
            user=learner, session_id=session.id, question_id=question_id, answer=None, seq=2
        )

    session.refresh_from_db()
    assert (session.status, session.submit_reason, session.submitted_at) == (
        "submitted",
        "time_up",
        deadline,
    )
    assert session.score == 1
    assert SessionResponse.objects.get().answer == answer


def test_the_sweep_finalizes_expired_sessions_at_their_deadline_only():
    test = sittable_test()
    expired, _ = services.session_start(user=UserFactory(), test_slug=test.slug)
    running, _ = services.session_start(user=UserFactory(), test_slug=test.slug)
    deadline = timezone.now() - timedelta(minutes=5)
    ExamSession.objects.filter(pk=expired.pk).update(
        started_at=deadline - timedelta(hours=1), deadline_at=deadline
    )

    assert services.finalize_expired_sessions() == 1
    assert services.finalize_expired_sessions() == 0

    expired.refresh_from_db()
    running.refresh_from_db()
    assert (expired.status, expired.submitted_at) == ("submitted", deadline)
    assert running.status == "in_progress"


@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_and_a_racing_save_give_one_result_and_keep_the_answer():
    test = sittable_test()
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    question_id, answer = next(iter(_key(session).items()))
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def submit() -> None:
        barrier.wait()
        try:
            outcomes.append(
                str(services.session_submit(user=learner, session_id=session.id).submitted_at)
            )
        finally:
            connection.close()

    def save() -> None:
        barrier.wait()
        try:
            services.response_save(
                user=learner, session_id=session.id, question_id=question_id, answer=answer, seq=1
            )
            outcomes.append("saved")
        except SessionClosed:
            outcomes.append("closed")
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(3)] + [threading.Thread(target=save)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    session.refresh_from_db()
    submitted = [o for o in outcomes if o not in ("saved", "closed")]
    assert len(set(submitted)) == 1
    assert session.status == "submitted"
    if "saved" in outcomes:  # the save won the lock: its answer is part of the score
        assert session.score == 1
        assert SessionResponse.objects.get().outcome == "correct"
    else:
        assert session.score == 0
        assert SessionResponse.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_create_one_session():
    test = sittable_test()
    learner = UserFactory()
    barrier = threading.Barrier(4)
    ids: list[str] = []

    def start() -> None:
        barrier.wait()
        try:
            ids.append(str(services.session_start(user=learner, test_slug=test.slug)[0].id))
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(set(ids)) == 1
    assert ExamSession.objects.count() == 1


def test_the_admin_lists_sessions_and_saves_an_override(client):
    from tests.accounts.factories import StaffFactory

    admin_user = StaffFactory(is_superuser=True)
    client.force_login(admin_user)
    test = sittable_test()
    learner = UserFactory()
    services.session_start(user=learner, test_slug=test.slug)

    listing = client.get("/admin/sessions_app/examsession/")
    added = client.post(
        "/admin/sessions_app/attemptoverride/add/",
        {
            "user": learner.pk,
            "test": test.pk,
            "extra_seconds": 900,
            "extra_attempts": 1,
            "reason": "accessibility",
        },
    )

    assert listing.status_code == 200
    assert learner.email.encode() in listing.content
    assert added.status_code == 302
    assert AttemptOverride.objects.get().extra_seconds == 900


def test_sequential_tests_accept_only_the_current_question():
    test = sittable_test(navigation="sequential")
    learner = UserFactory()
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    order = [q.id for q in Paper.from_json(session.paper).questions]
    key = _key(session)

    def save(question_id, seq):
        return services.response_save(
            user=learner,
            session_id=session.id,
            question_id=question_id,
            answer=key[question_id],
            seq=seq,
        )

    with pytest.raises(AnswerRejected) as ahead:
        save(order[1], 1)
    first = save(order[0], 1)
    retried = save(order[0], 1)
    with pytest.raises(AnswerRejected) as back:
        save(order[0], 2)
    second = save(order[1], 3)

    assert ahead.value.code == "not_current_question"
    assert "later" in ahead.value.detail
    assert (first.applied, retried.applied, second.applied) == (True, False, True)
    assert "earlier" in back.value.detail
    assert SessionResponse.objects.get(question_id=order[0]).seq == 1
