"""The learner sitting API: start/resume, status and palette, paper, autosave, submit."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue import services as catalogue_services
from sessions_app import detail as session_detail
from sessions_app.api import serializers as s
from sessions_app.api import sitting
from sessions_app.models import ExamSession, SessionResponse
from testengine import services as testengine_services
from testengine.models import Question
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.catalogue.factories import ProductTestFactory, PublishedProductFactory
from tests.sessions_app.factories import json_keys, sittable_test
from tests.testengine.factories import (
    SectionFactory,
    SectionRuleFactory,
    TestFactory,
    TopicFactory,
    make_question,
)

pytestmark = pytest.mark.django_db

SECRET_KEYS = ("is_correct", "explanation_html", "numeric_answer", "accepted_answers")


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _start(client, test):
    return client.post(f"/api/v1/tests/{test.slug}/sessions/")


def _paper(session_id) -> Paper:
    return Paper.from_json(ExamSession.objects.get(pk=session_id).paper)


def _choice(question, *, correct=True):
    return {"choices": [next(c.id for c in question.choices if c.is_correct == correct)]}


def _save(client, session_id, question_id, answer, seq, **extra):
    return client.put(
        f"/api/v1/sessions/{session_id}/responses/{question_id}/",
        {"answer": answer, "seq": seq, **extra},
        format="json",
    )


def test_a_whole_sitting():
    test = sittable_test(questions=6, draw=4, duration_seconds=1800)
    learner = UserFactory()
    client = _client(learner)

    started = _start(client, test)
    assert started.status_code == 201, started.content
    sid = started.json()["id"]
    assert started.json()["remaining_seconds"] in (1799, 1800)
    assert _start(client, test).status_code == 200  # resume
    assert _start(client, test).json()["id"] == sid

    qs = _paper(sid).questions
    assert _save(client, sid, qs[0].id, _choice(qs[0]), 1).status_code == 200
    assert _save(client, sid, qs[1].id, None, 1, marked_for_review=True).status_code == 200
    assert _save(client, sid, qs[2].id, _choice(qs[2], correct=False), 1, marked_for_review=True)
    # Cleared, not marked: visited but not answered.
    body = {"question_id": qs[3].id, "answer": None, "seq": 1}
    assert client.post(f"/api/v1/sessions/{sid}/responses/", {"responses": [body]}, format="json")

    detail = client.get(f"/api/v1/sessions/{sid}/").json()
    assert {"id", "status", "test", "started_at", "deadline_at", "server_time"} <= set(detail)
    assert detail["status"] == "in_progress"
    assert detail["test"]["slug"] == test.slug
    assert detail["question_count"] == 4
    assert detail["answered_count"] == 2
    assert [(p["question_id"], p["number"], p["state"]) for p in detail["palette"]] == [
        (qs[0].id, 1, "answered"),
        (qs[1].id, 2, "marked_for_review"),
        (qs[2].id, 3, "answered_marked_for_review"),
        (qs[3].id, 4, "not_answered"),
    ]

    paper = client.get(f"/api/v1/sessions/{sid}/questions/")
    assert paper.status_code == 200
    data = paper.json()
    assert not set(json_keys(data)) & set(SECRET_KEYS)
    for key in SECRET_KEYS:
        assert key not in json.dumps(data)
    assert [q["id"] for q in data["questions"]] == [q.id for q in qs]
    first = data["questions"][0]
    assert {"id", "section", "type", "body_html", "choices", "marks", "negative_marks"} <= set(
        first
    )
    assert [c["id"] for c in first["choices"]] == [c.id for c in qs[0].choices]
    assert set(first["choices"][0]) == {"id", "body_html"}
    assert first["answer"] == _choice(qs[0])
    assert data["questions"][1]["marked_for_review"] is True
    assert len(data["sections"]) == 1

    # A stale save (lower seq) changes nothing and says so.
    stale = _save(client, sid, qs[0].id, _choice(qs[0], correct=False), 0)
    assert stale.status_code == 200
    assert stale.json()["applied"] is False
    assert stale.json()["answer"] == _choice(qs[0])
    newer = _save(client, sid, qs[0].id, _choice(qs[0]), 5, time_spent_ms=1200).json()
    assert newer["applied"] is True
    assert (newer["seq"], newer["time_spent_ms"]) == (5, 1200)

    batch = client.post(
        f"/api/v1/sessions/{sid}/responses/",
        {
            "responses": [
                {"question_id": qs[1].id, "answer": _choice(qs[1]), "seq": 2},
                {"question_id": qs[3].id, "answer": _choice(qs[3]), "seq": 2},
            ]
        },
        format="json",
    )
    assert batch.status_code == 200, batch.content
    assert [r["applied"] for r in batch.json()["results"]] == [True, True]

    submitted = client.post(f"/api/v1/sessions/{sid}/submit/")
    assert submitted.status_code == 200
    summary = submitted.json()
    assert summary["status"] == "submitted"
    assert (summary["correct"], summary["wrong"], summary["unattempted"]) == (3, 1, 0)
    assert not set(json_keys(summary)) & set(SECRET_KEYS)
    assert client.post(f"/api/v1/sessions/{sid}/submit/").json() == summary  # once

    closed = client.get(f"/api/v1/sessions/{sid}/questions/")
    assert (closed.status_code, closed.json()["code"]) == (409, "session_closed")
    late = _save(client, sid, qs[0].id, None, 99)
    assert (late.status_code, late.json()["code"]) == (409, "session_closed")

    listed = client.get("/api/v1/sessions/").json()
    assert listed["count"] == 1
    assert listed["results"][0]["id"] == sid
    assert listed["results"][0]["test"] == {"slug": test.slug, "title": test.title}
    assert listed["results"][0]["score"] is not None


def test_a_batch_with_one_bad_item_saves_nothing():
    test = sittable_test()
    client = _client(UserFactory())
    sid = _start(client, test).json()["id"]
    qs = _paper(sid).questions

    response = client.post(
        f"/api/v1/sessions/{sid}/responses/",
        {
            "responses": [
                {"question_id": qs[0].id, "answer": _choice(qs[0]), "seq": 1},
                {"question_id": qs[1].id, "answer": {"choices": [999999]}, "seq": 1},
            ]
        },
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "responses.1.answer" in response.json()["fields"]
    assert not SessionResponse.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"answer": None, "seq": 1, "colour": "red"}, "colour"),
        ({"answer": None}, "seq"),
        ({"answer": None, "seq": -1}, "seq"),
        ({"answer": None, "seq": 1, "time_spent_ms": 86_400_001}, "time_spent_ms"),
        ({"answer": {"choices": [999999]}, "seq": 1}, "answer"),
        ({"answer": {"value": 3}, "seq": 1}, "answer"),
    ],
)
def test_bad_saves_are_400_with_fields(body, field):
    test = sittable_test()
    client = _client(UserFactory())
    sid = _start(client, test).json()["id"]
    question = _paper(sid).questions[0]

    response = client.put(f"/api/v1/sessions/{sid}/responses/{question.id}/", body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not SessionResponse.objects.exists()


def test_a_question_not_in_the_paper_is_400():
    client = _client(UserFactory())
    sid = _start(client, sittable_test()).json()["id"]

    response = _save(client, sid, 999999, None, 1)

    assert response.status_code == 400
    assert "question_id" in response.json()["fields"]


def test_an_oversize_batch_is_refused():
    client = _client(UserFactory())
    sid = _start(client, sittable_test()).json()["id"]
    question = _paper(sid).questions[0]
    item = {"question_id": question.id, "answer": None, "seq": 1}

    response = client.post(
        f"/api/v1/sessions/{sid}/responses/", {"responses": [item] * 201}, format="json"
    )

    assert response.status_code == 400
    assert "responses" in response.json()["fields"]
    assert not SessionResponse.objects.exists()


def test_another_learners_session_is_not_found_anywhere():
    test = sittable_test()
    owner = _client(UserFactory())
    sid = _start(owner, test).json()["id"]
    question = _paper(sid).questions[0]
    other = _client(UserFactory())

    responses = [
        other.get(f"/api/v1/sessions/{sid}/"),
        other.get(f"/api/v1/sessions/{sid}/questions/"),
        _save(other, sid, question.id, None, 1),
        other.post(
            f"/api/v1/sessions/{sid}/responses/",
            {"responses": [{"question_id": question.id, "answer": None, "seq": 1}]},
            format="json",
        ),
        other.post(f"/api/v1/sessions/{sid}/submit/"),
    ]

    assert [r.status_code for r in responses] == [404] * 5
    assert other.get("/api/v1/sessions/").json()["count"] == 0
    assert not SessionResponse.objects.exists()
    assert ExamSession.objects.get().status == "in_progress"


def test_anonymous_callers_are_401():
    test = sittable_test()
    learner = _client(UserFactory())
    sid = _start(learner, test).json()["id"]
    anonymous = _client()

    responses = [
        _start(anonymous, test),
        anonymous.get("/api/v1/sessions/"),
        anonymous.get(f"/api/v1/sessions/{sid}/"),
        anonymous.get(f"/api/v1/sessions/{sid}/questions/"),
        _save(anonymous, sid, 1, None, 1),
        anonymous.post(f"/api/v1/sessions/{sid}/responses/", {"responses": []}, format="json"),
        anonymous.post(f"/api/v1/sessions/{sid}/submit/"),
    ]

    assert [r.status_code for r in responses] == [401] * 7


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown", 404, "not_found"),
        ("no_access", 403, "no_access"),
        ("exhausted", 409, "attempts_exhausted"),
        ("too_soon", 409, "attempt_too_soon"),
        ("not_open", 409, "test_not_open"),
        ("closed", 410, "test_closed"),
    ],
)
def test_start_refusals(case, status, code):
    now = timezone.now()
    kwargs = {
        "exhausted": {"max_attempts": 1},
        "too_soon": {"min_gap_seconds": 3600},
        "not_open": {"available_from": now + timedelta(days=1)},
        "closed": {
            "available_from": now - timedelta(days=2),
            "available_until": now - timedelta(days=1),
        },
    }.get(case, {})
    test = sittable_test(free=case != "no_access", **kwargs)
    client = _client(UserFactory())
    if case in ("exhausted", "too_soon"):
        sid = _start(client, test).json()["id"]
        client.post(f"/api/v1/sessions/{sid}/submit/")

    response = client.post(f"/api/v1/tests/{'nope' if case == 'unknown' else test.slug}/sessions/")

    assert (response.status_code, response.json()["code"]) == (status, code)
    if case == "too_soon":
        assert 3500 < int(response["Retry-After"]) <= 3601


def test_sequential_navigation_reveals_one_question_at_a_time():
    test = sittable_test(navigation="sequential")
    client = _client(UserFactory())
    sid = _start(client, test).json()["id"]
    qs = _paper(sid).questions

    def shown():
        data = client.get(f"/api/v1/sessions/{sid}/questions/").json()
        assert data["navigation"] == "sequential"
        return [q["id"] for q in data["questions"]]

    assert shown() == [qs[0].id]
    _save(client, sid, qs[0].id, None, 1, marked_for_review=True)
    assert shown() == [qs[0].id]  # marking is not answering
    _save(client, sid, qs[0].id, _choice(qs[0]), 2)
    assert shown() == [qs[0].id, qs[1].id]
    _save(client, sid, qs[1].id, _choice(qs[1]), 1)
    assert shown() == [qs[0].id, qs[1].id, qs[2].id]


def test_an_expired_session_is_finalized_when_looked_at():
    test = sittable_test()
    client = _client(UserFactory())
    sid = _start(client, test).json()["id"]
    question = _paper(sid).questions[0]
    _save(client, sid, question.id, _choice(question), 1)
    past = timezone.now() - timedelta(hours=1)
    ExamSession.objects.filter(pk=sid).update(
        started_at=past - timedelta(hours=1), deadline_at=past
    )

    detail = client.get(f"/api/v1/sessions/{sid}/").json()

    assert (detail["status"], detail["remaining_seconds"]) == ("submitted", 0)
    session = ExamSession.objects.get(pk=sid)
    assert (session.submit_reason, session.correct) == ("time_up", 1)


def test_a_save_after_the_deadline_is_410_and_finalizes():
    test = sittable_test()
    client = _client(UserFactory())
    sid = _start(client, test).json()["id"]
    qs = _paper(sid).questions
    past = timezone.now() - timedelta(hours=1)
    ExamSession.objects.filter(pk=sid).update(
        started_at=past - timedelta(hours=1), deadline_at=past
    )

    single = _save(client, sid, qs[0].id, None, 1)
    assert (single.status_code, single.json()["code"]) == (410, "session_expired")
    assert ExamSession.objects.get(pk=sid).status == "submitted"


def test_a_batch_after_the_deadline_is_410_and_the_session_stays_finalized():
    test = sittable_test()
    client = _client(UserFactory())
    sid = _start(client, test).json()["id"]
    qs = _paper(sid).questions
    past = timezone.now() - timedelta(hours=1)
    ExamSession.objects.filter(pk=sid).update(
        started_at=past - timedelta(hours=1), deadline_at=past
    )

    batch = client.post(
        f"/api/v1/sessions/{sid}/responses/",
        {"responses": [{"question_id": qs[0].id, "answer": None, "seq": 1}]},
        format="json",
    )

    assert (batch.status_code, batch.json()["code"]) == (410, "session_expired")
    assert ExamSession.objects.get(pk=sid).status == "submitted"


def test_the_fast_paper_and_palette_are_exactly_what_their_serializers_give():
    """The sitting's two big payloads skip DRF's walk over their long list; what they send
    must still be what the documented serializers would."""
    topic = TopicFactory()
    kinds = [Question.Type.SINGLE, Question.Type.MULTIPLE, Question.Type.TRUE_FALSE]
    kinds += [Question.Type.NUMERIC, Question.Type.TEXT]
    for kind in kinds:
        make_question(topic=topic, type=kind, marks=Decimal("1.5"), negative_marks=Decimal(1))
    test = TestFactory()
    SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=len(kinds))
    testengine_services.test_publish(test=test)
    product = PublishedProductFactory()
    product.plans.update(price_paise=0)
    catalogue_services.product_sync_derived(product_ids=[product.id])
    ProductTestFactory(product=product, test=test)
    learner = UserFactory()
    client = _client(learner)
    sid = _start(client, test).json()["id"]
    answers = {"numeric": {"value": 42}, "text": {"text": "PostgreSQL"}}
    for seq, question in enumerate(_paper(sid).questions[:3], start=1):
        answer = answers.get(question.type) or _choice(question)
        _save(client, sid, question.id, answer, seq, marked_for_review=seq == 2)
    session = ExamSession.objects.select_related("test").get(pk=sid)

    with time_machine.travel(timezone.now(), tick=False):  # one server_time for both
        paper = sitting._paper(session)
        detail = session_detail.session_detail_payload(session)

        assert paper == s.SittingPaperSerializer(sitting._paper_data(session)).data
        assert detail == s.SessionDetailSerializer(session_detail.session_detail_data(session)).data
    assert {q["marks"] for q in paper["questions"]} == {"1.50"}
    assert {e["state"] for e in detail["palette"]} >= {"answered", "not_visited"}
    assert json.loads(json.dumps(paper)) == paper  # plain JSON types only


def test_detail_and_save_use_few_queries(django_assert_max_num_queries):
    test = sittable_test(questions=12, draw=10)
    learner = UserFactory()
    client = _client(learner)
    sid = _start(client, test).json()["id"]
    qs = _paper(sid).questions
    for seq, question in enumerate(qs, start=1):
        _save(client, sid, question.id, _choice(question), seq)

    # force_authenticate: no user lookup. Session (with test) + responses.
    with django_assert_max_num_queries(2):
        assert client.get(f"/api/v1/sessions/{sid}/").status_code == 200
    # Savepoint + lock + upsert returning the row + release.
    with django_assert_max_num_queries(4):
        assert _save(client, sid, qs[0].id, None, 100).status_code == 200
    with django_assert_max_num_queries(3):
        assert client.get(f"/api/v1/sessions/{sid}/questions/").status_code == 200


def test_start_and_resume_use_few_queries(django_assert_max_num_queries):
    test = sittable_test(questions=12, draw=10)
    client = _client(UserFactory())

    # Savepoint, test, access, learner lock, the override and earlier attempts (one
    # statement), the claim of a prepared paper (none here), the blueprint (sections,
    # rules), bank version, questions, choices, insert, release: no re-read of the new
    # row, no read of saved answers.
    with django_assert_max_num_queries(13) as started:
        response = _start(client, test)
    assert response.status_code == 201
    assert not any("sessions_app_sessionresponse" in q["sql"] for q in started.captured_queries)
    # The start answer is exactly what the detail endpoint says of the new sitting.
    detail = client.get(f"/api/v1/sessions/{response.json()['id']}/").json()
    first = response.json()
    assert {k: v for k, v in first.items() if k not in ("server_time", "remaining_seconds")} == {
        k: v for k, v in detail.items() if k not in ("server_time", "remaining_seconds")
    }
    assert {entry["state"] for entry in first["palette"]} == {"not_visited"}

    _save(client, first["id"], first["palette"][0]["question_id"], None, 1, marked_for_review=True)
    # The same reads, the open sitting locked, then its saved answers.
    with django_assert_max_num_queries(8):
        resumed = _start(client, test)
    assert resumed.status_code == 200
    assert resumed.json()["palette"][0]["state"] == "marked_for_review"
