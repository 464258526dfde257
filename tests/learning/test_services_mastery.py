"""Mastery from real scored sittings: the signal → task → service path, the EAP model,
evidence rules, idempotency and the backfill command."""

import math

import pytest
from django.core.management import CommandError, call_command

from learning import services
from learning.models import TopicMastery
from sessions_app import services as sessions
from sessions_app.models import ExamSession
from testengine import irt
from tests.accounts.factories import UserFactory
from tests.learning.factories import (
    TopicMasteryFactory,
    set_irt,
    sit,
    topic_test,
    topic_with_bank,
)

pytestmark = pytest.mark.django_db


def _row(user, topic) -> TopicMastery:
    return TopicMastery.objects.get(user=user, topic=topic)


def test_a_scored_sitting_updates_mastery_per_topic_through_the_signal(
    django_capture_on_commit_callbacks,
):
    learner = UserFactory()
    strong, weak = topic_with_bank(6), topic_with_bank(6)
    set_irt(strong, a=1.2, b=0.5, c=0.2)
    set_irt(weak, a=0.8, b=-0.5)
    test = topic_test({strong: 4, weak: 4}, enrol=learner)

    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, test, right=lambda q: q.topic_id == strong.pk)

    good, bad = _row(learner, strong), _row(learner, weak)
    assert (good.responses, good.correct) == (4, 4)
    assert (bad.responses, bad.correct) == (4, 0)
    # exactly the EAP of the items' stored parameters
    theta, se = irt.eap([1.2] * 4, [0.5] * 4, [0.2] * 4, [1] * 4)
    assert good.theta == pytest.approx(theta)
    assert good.se == pytest.approx(se)
    assert good.mastery == pytest.approx(1 / (1 + math.exp(-theta)), abs=1e-4)
    assert good.confidence == pytest.approx(1 - se, abs=1e-4)
    assert bad.theta < 0 < good.theta
    assert bad.mastery < 0.5 < good.mastery


def test_mastery_rises_with_correct_answers_and_confidence_grows_with_evidence(
    django_capture_on_commit_callbacks,
):
    learner = UserFactory()
    topic = topic_with_bank(12)
    test = topic_test({topic: 6}, enrol=learner)
    flip = iter([True, False] * 3)

    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, test, right=lambda q: next(flip))
    first = _row(learner, topic)
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, test, right=True)
    second = _row(learner, topic)

    assert (first.responses, first.correct) == (6, 3)
    assert (second.responses, second.correct) == (12, 9)
    assert second.mastery > first.mastery
    assert second.confidence > first.confidence > 0
    assert second.se < first.se


def test_unanswered_questions_carry_no_evidence_and_open_sittings_none(
    django_capture_on_commit_callbacks,
):
    learner = UserFactory()
    topic = topic_with_bank(8)
    test = topic_test({topic: 4}, enrol=learner)
    answered = iter([True, None, False, None])

    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, test, right=lambda q: next(answered))
        sessions.session_start(user=learner, test_slug=test.slug)  # open, not scored

    row = _row(learner, topic)
    assert (row.responses, row.correct) == (2, 1)


def test_an_update_is_idempotent_and_ignores_sessions_of_others(
    django_capture_on_commit_callbacks,
):
    learner, other = UserFactory(), UserFactory()
    topic = topic_with_bank(6)
    test = topic_test({topic: 4}, enrol=learner)
    with django_capture_on_commit_callbacks(execute=True):
        session = sit(learner, test, right=True)
    before = _row(learner, topic)

    assert services.mastery_update(user_id=learner.pk, session_id=session.pk) == 1
    assert services.mastery_update(user_id=other.pk, session_id=session.pk) == 0

    after = _row(learner, topic)
    assert (after.theta, after.se, after.responses, after.correct) == (
        before.theta,
        before.se,
        before.responses,
        before.correct,
    )
    assert not TopicMastery.objects.filter(user=other).exists()
    assert TopicMastery.objects.count() == 1


def test_an_update_recomputes_only_the_sessions_topics_in_bounded_queries(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    learner = UserFactory()
    a, b = topic_with_bank(30), topic_with_bank(30)
    first = topic_test({a: 20}, enrol=learner)
    second = topic_test({b: 20}, enrol=learner)
    with django_capture_on_commit_callbacks(execute=True):
        sit(learner, first, right=True)
    untouched = _row(learner, a)
    session = sit(learner, second, right=False)  # no callbacks: the update runs below

    # lock, session check, topics, evidence, upsert (+ the savepoint pair of the atomic block)
    with django_assert_max_num_queries(7):
        written = services.mastery_update(user_id=learner.pk, session_id=session.pk)

    assert written == 1
    assert _row(learner, b).correct == 0
    assert _row(learner, a).updated_at == untouched.updated_at


def test_recompute_mastery_command_backfills_one_learner_or_all():
    learner, other = UserFactory(), UserFactory()
    topic = topic_with_bank(8)
    test = topic_test({topic: 4}, enrol=[learner, other])
    sit(learner, test, right=True)  # on-commit callbacks never run here: no rows yet
    sit(other, test, right=False)
    assert not TopicMastery.objects.exists()

    quiet = open("/dev/null", "w")  # noqa: SIM115
    call_command("recompute_mastery", "--user", learner.email.upper(), stdout=quiet)
    assert list(TopicMastery.objects.values_list("user_id", "correct")) == [(learner.pk, 4)]

    call_command("recompute_mastery", stdout=quiet)
    assert dict(TopicMastery.objects.values_list("user_id", "correct")) == {
        learner.pk: 4,
        other.pk: 0,
    }
    with pytest.raises(CommandError):
        call_command("recompute_mastery", "--user", "nobody@example.com")


def test_a_full_recompute_drops_topics_without_evidence():
    learner = UserFactory()
    topic = topic_with_bank(6)
    stale = topic_with_bank(1)
    test = topic_test({topic: 4}, enrol=learner)
    sit(learner, test, right=True)
    TopicMasteryFactory(user=learner, topic=stale, theta=1.0, responses=3, correct=3)

    assert services.mastery_recompute(user_id=learner.pk) == 1

    assert list(TopicMastery.objects.values_list("topic_id", flat=True)) == [topic.pk]


def test_abandoned_sittings_are_not_evidence():
    learner = UserFactory()
    topic = topic_with_bank(6)
    test = topic_test({topic: 4}, enrol=learner)
    session = sit(learner, test, right=True)
    ExamSession.objects.filter(pk=session.pk).update(status=ExamSession.Status.ABANDONED)

    assert services.mastery_recompute(user_id=learner.pk) == 0
    assert not TopicMastery.objects.exists()
