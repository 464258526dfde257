"""Adaptive sittings through the exam-session API: one item at a time, each answer
committed, θ̂ re-estimated, the next item chosen, retries idempotent, the stop rules, and
the result's ability estimate."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sessions_app.models import ExamSession, SessionResponse
from testengine.adaptive_bank import forget_pools
from testengine.models import Question, Test
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.sessions_app.factories import json_keys, sittable_test

pytestmark = pytest.mark.django_db

SECRET_KEYS = ("is_correct", "explanation_html", "numeric_answer", "accepted_answers", "irt")


@pytest.fixture(autouse=True)
def _fresh_pools():
    forget_pools()
    yield
    forget_pools()


def adaptive_test(*, items: int = 12, max_items: int = 5, min_items: int = 3, target_se=0.1):
    test = sittable_test(
        questions=items,
        draw=items,
        mode=Test.Mode.ADAPTIVE,
        navigation=Test.Navigation.SEQUENTIAL,
        adaptive_config={
            "max_items": max_items,
            "min_items": min_items,
            "target_se": target_se,
            "randomesque_k": 1,
        },
    )
    # a spread of difficulties, as a calibrated bank has
    for n, question in enumerate(Question.objects.order_by("id")):
        question.irt_b = -2 + 4 * n / max(items - 1, 1)
        question.irt_a = 1.5
        question.irt_c = 0.0
        question.save(update_fields=["irt_a", "irt_b", "irt_c"])
    return test


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _right(session_id, question_id, *, correct=True):
    paper = Paper.from_json(ExamSession.objects.get(pk=session_id).paper)
    question = paper.question(question_id)
    wanted = [c.id for c in question.choices if c.is_correct == correct]
    return {"choices": wanted[:1]}


def _save(client, sid, qid, answer, seq):
    return client.put(
        f"/api/v1/sessions/{sid}/responses/{qid}/", {"answer": answer, "seq": seq}, format="json"
    )


def test_a_sitting_gives_one_item_at_a_time_and_never_the_key():
    test = adaptive_test()
    client = _client(UserFactory())

    started = client.post(f"/api/v1/tests/{test.slug}/sessions/")
    sid = started.json()["id"]
    paper = client.get(f"/api/v1/sessions/{sid}/questions/").json()

    assert started.status_code == 201
    assert len(paper["questions"]) == 1
    assert not set(json_keys(paper)) & set(SECRET_KEYS)
    first = paper["questions"][0]
    saved = _save(client, sid, first["id"], _right(sid, first["id"]), 1)
    body = saved.json()
    assert saved.status_code == 200
    assert body["adaptive"]["answered"] == 1
    assert body["adaptive"]["complete"] is False
    following = body["adaptive"]["next_question"]
    assert following["id"] != first["id"]
    assert following["number"] == 2
    assert not set(json_keys(body)) & set(SECRET_KEYS)
    assert [
        q["id"] for q in client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"]
    ] == [following["id"]]


def test_right_answers_raise_the_estimate_and_the_next_item_is_harder():
    test = adaptive_test(max_items=4)
    client = _client(UserFactory())
    sid = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    qid = client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"][0]["id"]
    difficulties = []
    for seq in range(1, 4):
        difficulties.append(Question.objects.get(pk=qid).irt_b)
        body = _save(client, sid, qid, _right(sid, qid), seq).json()
        qid = body["adaptive"]["next_question"]["id"]

    state = ExamSession.objects.get(pk=sid).adaptive
    thetas = [answer["theta"] for answer in state["answers"]]
    assert thetas == sorted(thetas)
    assert thetas[-1] > 0
    assert Question.objects.get(pk=qid).irt_b > difficulties[0]


def test_a_retried_save_does_not_advance_twice_and_going_back_is_refused():
    test = adaptive_test()
    client = _client(UserFactory())
    sid = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    first = client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"][0]["id"]
    answer = _right(sid, first)

    once = _save(client, sid, first, answer, 1).json()
    again = _save(client, sid, first, answer, 1).json()
    back = _save(client, sid, first, _right(sid, first, correct=False), 2)
    ahead = _save(client, sid, 999999, answer, 3)

    assert again["applied"] is False
    assert again["adaptive"]["next_question"]["id"] == once["adaptive"]["next_question"]["id"]
    session = ExamSession.objects.get(pk=sid)
    assert (session.question_count, len(session.adaptive["answers"])) == (2, 1)
    assert (back.status_code, back.json()["code"]) == (400, "not_current_question")
    assert ahead.status_code == 400
    assert SessionResponse.objects.get(session_id=sid).answer == answer


def test_an_item_must_be_answered_and_a_bad_answer_changes_nothing():
    test = adaptive_test()
    client = _client(UserFactory())
    sid = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    qid = client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"][0]["id"]

    empty = _save(client, sid, qid, None, 1)
    foreign = _save(client, sid, qid, {"choices": [123456789]}, 2)

    assert (empty.status_code, foreign.status_code) == (400, 400)
    session = ExamSession.objects.get(pk=sid)
    assert session.adaptive["answers"] == []
    assert not SessionResponse.objects.filter(session_id=sid).exists()


def test_the_test_stops_at_the_most_items_and_the_result_reports_the_ability():
    test = adaptive_test(max_items=4, min_items=2, target_se=0.01)
    client = _client(UserFactory())
    sid = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    qid = client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"][0]["id"]
    for seq in range(1, 5):
        body = _save(client, sid, qid, _right(sid, qid, correct=seq % 2 == 1), seq).json()
        qid = (body["adaptive"]["next_question"] or {}).get("id")

    assert body["adaptive"] == {"complete": True, "answered": 4, "next_question": None}
    submitted = client.post(f"/api/v1/sessions/{sid}/submit/")
    result = client.get(f"/api/v1/sessions/{sid}/result/").json()
    review = client.get(f"/api/v1/sessions/{sid}/review/")

    assert submitted.status_code == 200
    ability = result["ability"]
    assert ability["items"] == 4
    assert ability["stop_reason"] == "max_items"
    assert 0 < ability["se"] < 1
    assert 0 <= ability["scaled_score"] <= 100
    assert ability["percentile"] == "100.00"  # the only candidate
    assert result["correct"] == 2
    session = ExamSession.objects.get(pk=sid)
    assert session.ability == pytest.approx(ability["theta"], abs=1e-3)
    assert review.status_code == 200


def test_precision_stops_the_test_before_the_maximum():
    test = adaptive_test(items=20, max_items=20, min_items=2, target_se=0.95)
    client = _client(UserFactory())
    sid = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    qid = client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"][0]["id"]
    answered = 0
    while qid is not None:
        answered += 1
        body = _save(client, sid, qid, _right(sid, qid), answered).json()
        qid = (body["adaptive"]["next_question"] or {}).get("id")

    state = ExamSession.objects.get(pk=sid).adaptive
    assert state["stop"] == "precision"
    assert answered < 20
    assert state["answers"][-1]["se"] <= 0.95


def test_after_the_deadline_a_save_is_refused_and_the_sitting_is_scored():
    test = adaptive_test()
    client = _client(UserFactory())
    sid = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    qid = client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"][0]["id"]
    _save(client, sid, qid, _right(sid, qid), 1)
    now = timezone.now()
    ExamSession.objects.filter(pk=sid).update(
        started_at=now - timedelta(minutes=40), deadline_at=now - timedelta(minutes=5)
    )

    late = _save(client, sid, qid, _right(sid, qid), 2)

    assert (late.status_code, late.json()["code"]) == (410, "session_expired")
    session = ExamSession.objects.get(pk=sid)
    assert session.status == "submitted"
    assert session.ability is not None


def test_a_sitting_goes_on_when_the_remote_models_are_down(settings):
    from core import remote

    settings.ADAPTIVE_ESTIMATOR = "testengine.adaptive.RemoteEstimator"
    settings.ADAPTIVE_SELECTOR = "testengine.adaptive.RemoteSelector"
    settings.MODELS_REMOTE_URL = "http://127.0.0.1:9/models"  # nothing listens there
    settings.MODELS_REMOTE_TIMEOUT_SECONDS = 0.2
    remote.reset_breaker()
    test = adaptive_test(max_items=3)
    client = _client(UserFactory())

    sid = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()["id"]
    qid = client.get(f"/api/v1/sessions/{sid}/questions/").json()["questions"][0]["id"]
    body = _save(client, sid, qid, _right(sid, qid), 1).json()
    remote.reset_breaker()

    assert body["adaptive"]["next_question"] is not None
    assert ExamSession.objects.get(pk=sid).adaptive["answers"][0]["se"] < 1
