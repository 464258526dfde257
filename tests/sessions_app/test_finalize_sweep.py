"""The set-based expiry sweep (``sessions_app.services.finalize``): the same results as the
per-sitting path for random sittings, exactly one close per sitting when sweeps and submits
race, the abandon policy, a fixed number of queries, and one batch task per sweep for the
learning and programs apps."""

from __future__ import annotations

import json
import random
import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks import default_task_backend

from catalogue import services as catalogue_services
from learning.models import TopicMastery
from programs import selectors as program_selectors
from sessions_app import marking, services
from sessions_app.models import ExamSession, SessionResponse
from sessions_app.services import sittings as sitting_services
from sessions_app.services import sweep_expired
from sessions_app.signals import session_scored, sittings_scored
from testengine import services as testengine_services
from testengine.adaptive_bank import forget_pools
from testengine.models import Question, Test
from testengine.paper import Paper
from testengine.scoring import (
    Marker,
    ScoreResult,
    SectionScore,
    TopicScore,
    mark_question,
    score,
)
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import ProductTestFactory, PublishedProductFactory
from tests.learning.factories import topic_test, topic_with_bank
from tests.programs.factories import curriculum, enrol
from tests.sessions_app.factories import sittable_test
from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db

SESSION_FIELDS = (
    "status",
    "submit_reason",
    "submitted_at",
    "time_taken_seconds",
    "score",
    "percentage",
    "correct",
    "partial",
    "wrong",
    "unattempted",
    "breakdown",
    "ability",
    "ability_se",
)


@pytest.fixture(autouse=True)
def _fresh_memo():
    marking.markers.clear()
    yield
    marking.markers.clear()


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 - reproducible test data


def _mixed_test(**test_kwargs) -> Test:
    """A published free test of three sections over four topics: single, multiple (with
    partial marking), true/false, numeric (absolute and relative tolerance) and short
    text questions, with negative and fractional marks."""
    test = TestFactory(partial_marking=True, **test_kwargs)
    kinds = [
        (Question.Type.SINGLE, {"marks": Decimal("4"), "negative_marks": Decimal("1")}),
        (Question.Type.MULTIPLE, {"marks": Decimal("3"), "negative_marks": Decimal("0.5")}),
        (Question.Type.TRUE_FALSE, {"marks": Decimal("1.5")}),
        (
            Question.Type.NUMERIC,
            {"numeric_answer": Decimal("9.81"), "numeric_tolerance": Decimal("0.05")},
        ),
        (
            Question.Type.NUMERIC,
            {
                "numeric_answer": Decimal("300"),
                "numeric_tolerance": Decimal("0.1"),
                "tolerance_kind": Question.Tolerance.RELATIVE,
                "negative_marks": Decimal("0.25"),
            },
        ),
        (Question.Type.TEXT, {"marks": Decimal("2")}),
    ]
    topics = [TopicFactory() for _ in range(4)]
    for order in range(3):
        section = SectionFactory(test=test, order=order)
        for offset in range(2):
            topic = topics[(order + offset) % len(topics)]
            for kind, extra in kinds:
                make_question(topic=topic, type=kind, **extra)
            SectionRuleFactory(section=section, topic=topic, count=4)
    testengine_services.test_publish(test=test)
    product = PublishedProductFactory()
    product.plans.update(price_paise=0)
    catalogue_services.product_sync_derived(product_ids=[product.id])
    ProductTestFactory(product=product, test=test)
    test.refresh_from_db()
    return test


def _random_answer(question, rng: random.Random):
    """Right, partly right, wrong, cleared, or no save at all (``...``)."""
    roll = rng.random()
    if roll < 0.15:
        return ...
    if roll < 0.25:
        return None
    right = roll < 0.65
    if question.type in Question.CHOICE_TYPES:
        correct = sorted(question.correct_choice_ids)
        wrong = sorted(question.choice_ids - question.correct_choice_ids)
        if question.type == Question.Type.MULTIPLE and rng.random() < 0.4:
            return {"choices": correct[:1]}  # a partial answer
        return {"choices": correct if right else [rng.choice(wrong)]}
    if question.type == Question.Type.NUMERIC:
        expected = question.numeric_answer
        return {"value": str(expected + Decimal("0.01")) if right else "-7"}
    return {"text": "  postgresql " if right else "sqlite"}


def _start_and_answer(test: Test, learners, rng: random.Random) -> list[ExamSession]:
    sessions = []
    for learner in learners:
        session, _ = services.session_start(user=learner, test_slug=test.slug)
        for seq, question in enumerate(Paper.from_json(session.paper).questions, start=1):
            answer = _random_answer(question, rng)
            if answer is not ...:
                services.response_save(
                    user=learner,
                    session_id=session.id,
                    question_id=question.id,
                    answer=answer,
                    seq=seq,
                )
        sessions.append(session)
    return sessions


def _expire(sessions, *, minutes_ago: int = 10) -> None:
    deadline = timezone.now() - timedelta(minutes=minutes_ago)
    ExamSession.objects.filter(pk__in=[s.pk for s in sessions]).update(
        started_at=deadline - timedelta(minutes=47, seconds=13), deadline_at=deadline
    )


def _state(session_ids) -> tuple[dict, dict]:
    sittings = {
        row["id"]: {name: row[name] for name in SESSION_FIELDS}
        for row in ExamSession.objects.filter(pk__in=session_ids).values("id", *SESSION_FIELDS)
    }
    responses = {
        (r.session_id, r.question_id): (r.outcome, r.marks, r.answer)
        for r in SessionResponse.objects.filter(session_id__in=session_ids)
    }
    return sittings, responses


def _per_sitting_results(session_ids) -> tuple[dict, dict]:
    """What the per-sitting path (``services._finalize``) gives, rolled back after."""

    class Rollback(Exception):
        pass

    captured = {}
    try:
        with transaction.atomic():
            for session in ExamSession.objects.select_related("test").filter(pk__in=session_ids):
                sitting_services._finalize(
                    session, at=session.deadline_at, reason=ExamSession.SubmitReason.TIME_UP
                )
            captured["state"] = _state(session_ids)
            raise Rollback
    except Rollback:
        pass
    return captured["state"]


# --- the same results as the per-sitting path -----------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sweep_gives_what_the_per_sitting_path_gives_for_random_sittings(seed):
    rng = _rng(seed)
    test = _mixed_test()
    sessions = _start_and_answer(test, UserFactory.create_batch(8), rng)
    _expire(sessions)
    # Sittings started before marking keys were stored: the sweep fingerprints their paper.
    ExamSession.objects.filter(pk__in=[s.pk for s in sessions[:3]]).update(marking_key="")
    ids = [s.pk for s in sessions]
    expected_sittings, expected_responses = _per_sitting_results(ids)
    assert _state(ids)[0][ids[0]]["status"] == "in_progress"  # rolled back

    result = sweep_expired()

    sittings, responses = _state(ids)
    assert result.scored == len(ids)
    assert sittings == expected_sittings
    assert responses == expected_responses
    # the random answers reached every outcome, so the comparison covers each of them
    outcomes = {outcome for outcome, _marks, _answer in responses.values()}
    assert outcomes == {"correct", "partial", "wrong", "unattempted"}
    assert any(s["score"] < 0 for s in sittings.values()) or any(
        marks < 0 for _o, marks, _a in responses.values()
    )


def _reference_score(paper: Paper, responses) -> ScoreResult:
    """Marking as ``testengine.scoring.score`` did before ``Marker``: question by question."""
    result = ScoreResult()
    topics: dict[int, TopicScore] = {}
    for section in paper.sections:
        section_score = SectionScore(id=section.id, title=section.title)
        for question in section.questions:
            mark = mark_question(question, responses.get(question.id))
            result.questions.append(mark)
            result.add(mark, question.marks)
            section_score.add(mark, question.marks)
            topic = topics.setdefault(
                question.topic_id, TopicScore(id=question.topic_id, name=question.topic)
            )
            topic.add(mark, question.marks)
            result.min_score += min(-question.negative_marks, question.unattempted_marks)
        result.sections.append(section_score)
    result.topics = sorted(topics.values(), key=lambda t: t.name)
    return result


def _texts(result: ScoreResult) -> list[str]:
    tallies = [result, *result.sections, *result.topics]
    return (
        [str(t.score) for t in tallies]
        + [str(t.max_score) for t in tallies]
        + [
            str(result.min_score),
            str(result.percentage),
            *(str(mark.marks) for mark in result.questions),
        ]
    )


def test_a_marker_marks_as_question_by_question_marking_does_with_or_without_memo():
    test = _mixed_test()
    sessions = _start_and_answer(test, UserFactory.create_batch(6), _rng(12))
    for session in sessions:
        paper = Paper.from_json(session.paper)
        answers = dict(
            SessionResponse.objects.filter(session=session).values_list("question_id", "answer")
        )
        expected = _reference_score(paper, answers)
        encoded = {pk: json.dumps(answer) for pk, answer in answers.items() if answer is not None}
        encoded |= {pk: None for pk, answer in answers.items() if answer is None}
        for result in (
            score(paper, answers),
            Marker(paper).score(encoded, encoded=True, decode=json.loads),
        ):
            assert result == expected
            assert _texts(result) == _texts(expected)  # the same decimals, exponents too


def test_papers_differing_only_in_choice_order_share_one_marking_key():
    test = sittable_test(questions=6, draw=6, shuffle_choices=True)
    learners = UserFactory.create_batch(6)
    sessions = [services.session_start(user=u, test_slug=test.slug)[0] for u in learners]
    keys = {s.marking_key for s in sessions}
    orders = {
        tuple(tuple(c["id"] for c in q["choices"]) for q in s.paper["sections"][0]["questions"])
        for s in sessions
    }
    by_questions = {}
    for session in sessions:
        ids = tuple(q["id"] for q in session.paper["sections"][0]["questions"])
        by_questions.setdefault(ids, set()).add(session.marking_key)
    assert all(len(k) == 64 for k in keys)
    assert len(orders) > 1  # the choices were shuffled …
    assert all(len(same) == 1 for same in by_questions.values())  # … the key did not change
    assert marking.marking_key(sessions[0].paper) == sessions[0].marking_key


def test_one_paper_is_decoded_per_marking_key(monkeypatch):
    test = sittable_test(questions=4, draw=4)
    sessions = [
        services.session_start(user=u, test_slug=test.slug)[0] for u in UserFactory.create_batch(5)
    ]
    _expire(sessions)
    decoded = []
    original = Paper.from_json
    monkeypatch.setattr(Paper, "from_json", lambda data: decoded.append(1) or original(data))

    assert sweep_expired().scored == 5

    # a random test's papers differ in question order (so in key); choice order does not count
    assert len(decoded) == len({s.marking_key for s in sessions})
    later = [
        services.session_start(user=u, test_slug=test.slug)[0] for u in UserFactory.create_batch(3)
    ]
    _expire(later)
    known = {s.marking_key for s in sessions}
    decoded.clear()
    assert sweep_expired().scored == 3
    assert len(decoded) == len({s.marking_key for s in later} - known)


# --- exactly once -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_close_each_sitting_once():
    test = sittable_test()
    sessions = _start_and_answer(test, UserFactory.create_batch(30), _rng(4))
    _expire(sessions)
    heard = []

    def listen(sender, sittings, **kwargs):
        heard.extend(sittings)

    sittings_scored.connect(listen)
    barrier = threading.Barrier(2)
    counts: list[int] = []

    def sweeper() -> None:
        barrier.wait()
        try:
            total = 0
            while closed := sweep_expired(batch=4).total:
                total += closed
            counts.append(total)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sittings_scored.disconnect(listen)

    assert sum(counts) == 30
    assert sorted(str(s[0]) for s in heard) == sorted(str(s.pk) for s in sessions)
    assert set(ExamSession.objects.values_list("status", flat=True)) == {"submitted"}
    assert not ExamSession.objects.filter(score__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_sitting_being_submitted_is_skipped_and_not_scored_again():
    test = sittable_test()
    learners = UserFactory.create_batch(3)
    sessions = _start_and_answer(test, learners, _rng(5))
    _expire(sessions)
    held, release = threading.Event(), threading.Event()
    submitted = {}

    def submit() -> None:
        try:
            with transaction.atomic():
                ExamSession.objects.select_for_update().get(pk=sessions[0].pk)  # as a submit
                held.set()
                release.wait(10)
                submitted["session"] = services.session_submit(
                    user=learners[0], session_id=sessions[0].pk
                )
        finally:
            connection.close()

    thread = threading.Thread(target=submit)
    thread.start()
    held.wait(10)
    first = sweep_expired()  # the held row is skipped, not waited for
    release.set()
    thread.join()
    before = ExamSession.objects.get(pk=sessions[0].pk)
    again = sweep_expired()
    after = ExamSession.objects.get(pk=sessions[0].pk)

    assert (first.total, again.total) == (2, 0)
    assert before.status == "submitted"
    assert submitted["session"].score == before.score
    assert (after.updated_at, after.score) == (before.updated_at, before.score)


def test_a_sitting_submitted_before_the_sweep_is_left_as_it_is():
    test = sittable_test()
    learners = UserFactory.create_batch(2)
    sessions = _start_and_answer(test, learners, _rng(6))
    services.session_submit(user=learners[0], session_id=sessions[0].pk)
    _expire(sessions)
    before = ExamSession.objects.get(pk=sessions[0].pk)

    assert sweep_expired().scored == 1

    after = ExamSession.objects.get(pk=sessions[0].pk)
    assert (after.submit_reason, after.submitted_at, after.updated_at) == (
        "learner",
        before.submitted_at,
        before.updated_at,
    )


def test_open_sittings_inside_the_grace_are_not_swept():
    test = sittable_test()
    session, _ = services.session_start(user=UserFactory(), test_slug=test.slug)
    deadline = timezone.now() - timedelta(seconds=2)
    ExamSession.objects.filter(pk=session.pk).update(
        started_at=deadline - timedelta(hours=1), deadline_at=deadline
    )
    assert sweep_expired().total == 0
    assert ExamSession.objects.get(pk=session.pk).status == "in_progress"


# --- the abandon policy, adaptive tests -----------------------------------------------------------


def test_the_abandon_policy_closes_unscored_beside_scored_sittings_of_another_test():
    abandon = sittable_test(on_time_up=Test.OnTimeUp.ABANDON)
    submit = sittable_test()
    rng = _rng(7)
    dropped = _start_and_answer(abandon, UserFactory.create_batch(2), rng)
    scored = _start_and_answer(submit, UserFactory.create_batch(2), rng)
    _expire(dropped + scored)
    ids = [s.pk for s in dropped]
    expected_sittings, _ = _per_sitting_results(ids)

    result = sweep_expired()

    sittings, responses = _state(ids)
    assert (result.scored, result.abandoned) == (2, 2)
    assert sittings == expected_sittings
    for sitting in sittings.values():
        assert (sitting["status"], sitting["score"], sitting["submit_reason"]) == (
            "abandoned",
            None,
            "time_up",
        )
    assert {outcome for outcome, _m, _a in responses.values()} <= {""}  # answers kept, unmarked
    assert set(ExamSession.objects.filter(test=submit).values_list("status", flat=True)) == {
        "submitted"
    }


def test_adaptive_sittings_are_closed_one_by_one_with_their_ability(
    django_capture_on_commit_callbacks,
):
    from tests.sessions_app.test_adaptive import adaptive_test

    forget_pools()
    test = adaptive_test()
    session, _ = services.session_start(user=UserFactory(), test_slug=test.slug)
    scored = sittable_test()
    other, _ = services.session_start(user=UserFactory(), test_slug=scored.slug)
    _expire([session, other])
    heard, batches = [], []

    def listen(sender, **kwargs):
        heard.append(kwargs["session_id"])

    def listen_batch(sender, **kwargs):
        batches.append([s[0] for s in kwargs["sittings"]])

    session_scored.connect(listen)
    sittings_scored.connect(listen_batch)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            result = sweep_expired()
    finally:
        session_scored.disconnect(listen)
        sittings_scored.disconnect(listen_batch)
    forget_pools()

    session.refresh_from_db()
    assert (result.scored, result.one_by_one) == (1, 1)
    assert session.status == "submitted"
    assert session.breakdown["adaptive"]["stop_reason"] == "submitted"
    assert session.ability is not None
    assert (heard, batches) == ([session.pk], [[other.pk]])


# --- a fixed number of queries --------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 12])
def test_a_sweep_reads_and_writes_in_a_fixed_number_of_queries(
    count, django_assert_max_num_queries
):
    abandon = sittable_test(on_time_up=Test.OnTimeUp.ABANDON)
    submit = sittable_test()
    rng = _rng(count)
    sessions = _start_and_answer(submit, UserFactory.create_batch(count), rng)
    sessions += _start_and_answer(abandon, UserFactory.create_batch(count), rng)
    _expire(sessions)

    # savepoint, claim, papers, answers, responses, sessions, abandoned, release
    with django_assert_max_num_queries(8):
        result = sweep_expired()

    assert (result.scored, result.abandoned) == (count, count)


# --- one batch task for learning and programs -----------------------------------------------------


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
def test_a_sweep_enqueues_one_mastery_task_and_one_progress_task(
    django_capture_on_commit_callbacks,
):
    c = curriculum()
    learners = UserFactory.create_batch(3)
    for learner in learners:
        enrol(learner, c.short)
    topic = topic_with_bank(6)
    other = topic_test({topic: 3}, enrol=learners)
    sessions = _start_and_answer(c.warmup, learners, _rng(8))
    sessions += _start_and_answer(other, learners, _rng(9))
    _expire(sessions)
    default_task_backend.clear()

    with django_capture_on_commit_callbacks(execute=True):
        sweep_expired()

    by_task = {}
    for result in default_task_backend.results:
        by_task.setdefault(result.task.module_path, []).append(result.args)
    mastery = by_task.pop("learning.tasks.update_mastery_for_sittings")
    progress = by_task.pop("programs.tasks.refresh_progress_for_tests")
    assert "learning.tasks.update_mastery" not in by_task
    assert "programs.tasks.refresh_progress_for_test" not in by_task
    assert len(mastery) == 1
    assert sorted(mastery[0][0]) == sorted([s.user_id, str(s.pk)] for s in sessions)
    # only the test a milestone links to, once per learner
    assert progress == [[sorted([u.pk, c.warmup.pk] for u in learners)]]


def test_the_batch_tasks_record_mastery_and_program_progress(django_capture_on_commit_callbacks):
    c = curriculum()
    learner = UserFactory()
    enrollment = enrol(learner, c.short)
    topic = topic_with_bank(6)
    other = topic_test({topic: 3}, enrol=learner)
    sessions = _start_and_answer(c.warmup, [learner], _rng(10))
    sessions += _start_and_answer(other, [learner], _rng(11))
    _expire(sessions)

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_expired().scored == 2

    states = {
        item.milestone.title: item.state
        for item in program_selectors.progress(enrollment=enrollment).milestones
    }
    assert states["Warm up"] == "done"
    assert TopicMastery.objects.filter(user=learner, topic=topic).exists()
