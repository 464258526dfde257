"""POST me/practice/: a personal practice sitting on the same engine and session API —
fresh questions preferred, timed or untimed, invisible to others and never ranked; every
refusal creates nothing."""

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from learning.models import TopicMastery
from sessions_app.models import ExamSession
from testengine.models import Test
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.learning.factories import (
    TopicMasteryFactory,
    client_for,
    sit,
    topic_test,
    topic_with_bank,
)
from tests.testengine.factories import make_question

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/practice/"
free_bank = partial(topic_with_bank, free_practice=True)  # questions any learner may practise


def _paper_ids(session_id) -> set[int]:
    paper = Paper.from_json(ExamSession.objects.get(pk=session_id).paper)
    return {q.id for q in paper.questions}


def _counts() -> tuple[int, int]:
    return Test.objects.count(), ExamSession.objects.count()


def test_practice_defaults_to_my_three_weakest_topics(django_assert_max_num_queries):
    learner = UserFactory()
    topics = [free_bank(6, name=n) for n in ("W1", "W2", "W3", "Strong")]
    for topic, theta in zip(topics, (-1.5, -1.0, -0.5, 2.0), strict=True):
        TopicMasteryFactory(user=learner, topic=topic, theta=theta)

    # Bounded, not tiny: with the database cache the throttle, the catalogue version bump
    # on a test save and the engine's per-rule pool cache are SQL too, and savepoints count;
    # which questions the learner may practise (the answer-key rule) is four reads.
    with django_assert_max_num_queries(70):
        response = client_for(learner).post(URL, {}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    session = ExamSession.objects.select_related("test").get(pk=body["id"])
    test = session.test
    assert test.practice_owner == learner
    assert test.is_published is False
    assert test.title == "Practice: W1, W2, W3"
    assert (test.mode, test.pass_mark_percent, test.max_attempts) == ("random", None, 1)
    assert test.solution_policy == Test.SolutionPolicy.AFTER_SUBMIT
    rules = list(test.sections.get().rules.order_by("order").values_list("topic__name", "count"))
    assert rules == [("W1", 4), ("W2", 3), ("W3", 3)]
    assert body["question_count"] == 10
    assert body["status"] == "in_progress"
    assert body["test"]["slug"] == test.slug
    assert len(body["palette"]) == 10
    # untimed: a week to finish
    assert session.deadline_at - session.started_at == timedelta(days=7)


def test_timed_practice_on_named_topics_gets_its_minutes():
    learner = UserFactory()
    a, b = free_bank(5), free_bank(5)

    timed = client_for(learner).post(
        URL, {"topics": [b.pk, a.pk], "questions": 3, "timed": True, "minutes": 15}, format="json"
    )
    default = client_for(learner).post(
        URL, {"topics": [a.pk], "questions": 5, "timed": True}, format="json"
    )

    assert timed.status_code == 201, timed.content
    session = ExamSession.objects.get(pk=timed.json()["id"])
    assert session.deadline_at - session.started_at == timedelta(minutes=15)
    rules = session.test.sections.get().rules.order_by("order")
    assert [(r.topic_id, r.count) for r in rules] == [(b.pk, 2), (a.pk, 1)]
    assert default.status_code == 201
    other = ExamSession.objects.get(pk=default.json()["id"])
    assert other.deadline_at - other.started_at == timedelta(minutes=8)  # 1.5 × 5, rounded up


def test_practice_leaves_out_questions_seen_recently_while_others_exist():
    learner = UserFactory()
    topic = topic_with_bank(6)
    unseen = {make_question(topic=topic, free_practice=True).pk for _ in range(4)}
    test = topic_test({topic: 6}, enrol=learner)
    mock = _paper_ids(sit(learner, test, right=True).pk)  # solutions open after submit

    fresh = client_for(learner).post(URL, {"topics": [topic.pk], "questions": 4}, format="json")
    # now all ten were seen: the ones seen longest ago (the mock's) fill the next practice
    topped_up = client_for(learner).post(URL, {"topics": [topic.pk], "questions": 6}, format="json")

    assert fresh.status_code == 201
    assert _paper_ids(fresh.json()["id"]) == unseen
    assert topped_up.status_code == 201
    assert _paper_ids(topped_up.json()["id"]) == mock


def test_questions_seen_long_ago_are_fresh_again(settings):
    settings.PRACTICE_FRESH_DAYS = 14
    learner = UserFactory()
    topic = topic_with_bank(6)
    test = topic_test({topic: 6}, enrol=learner)
    session = sit(learner, test, right=True)
    long_ago = timezone.now() - timedelta(days=15)
    ExamSession.objects.filter(pk=session.pk).update(
        started_at=long_ago,
        deadline_at=long_ago + timedelta(hours=1),
        submitted_at=long_ago + timedelta(minutes=5),
    )

    response = client_for(learner).post(URL, {"topics": [topic.pk], "questions": 6}, format="json")

    assert response.status_code == 201
    assert len(_paper_ids(response.json()["id"])) == 6


def test_a_practice_session_is_sat_through_the_normal_api_and_updates_mastery(
    django_capture_on_commit_callbacks,
):
    learner = UserFactory()
    topic = free_bank(5)
    client = client_for(learner)
    session_id = client.post(URL, {"topics": [topic.pk], "questions": 3}, format="json").json()[
        "id"
    ]

    paper = client.get(f"/api/v1/sessions/{session_id}/questions/").json()
    assert len(paper["questions"]) == 3
    stored = Paper.from_json(ExamSession.objects.get(pk=session_id).paper)
    for seq, question in enumerate(stored.questions, start=1):
        saved = client.put(
            f"/api/v1/sessions/{session_id}/responses/{question.id}/",
            {"answer": {"choices": sorted(question.correct_choice_ids)}, "seq": seq},
            format="json",
        )
        assert saved.status_code == 200, saved.content
    with django_capture_on_commit_callbacks(execute=True):
        submitted = client.post(f"/api/v1/sessions/{session_id}/submit/")
    assert submitted.status_code == 200

    result = client.get(f"/api/v1/sessions/{session_id}/result/").json()
    assert result["score"] == "3.00"
    assert (result["rank"], result["percentile"], result["candidates"]) == (None, None, 0)
    assert result["rank_basis"] is None
    assert client.get(f"/api/v1/sessions/{session_id}/review/").status_code == 200
    row = TopicMastery.objects.get(user=learner, topic=topic)
    assert (row.responses, row.correct) == (3, 3)


def test_a_practice_test_is_invisible_to_others_and_never_listed_or_ranked():
    learner, other = UserFactory(), UserFactory()
    topic = free_bank(5)
    session_id = (
        client_for(learner)
        .post(URL, {"topics": [topic.pk], "questions": 3}, format="json")
        .json()["id"]
    )
    slug = ExamSession.objects.get(pk=session_id).test.slug

    for client in (client_for(learner), client_for(other)):
        assert client.get(f"/api/v1/tests/{slug}/").status_code == 404
        assert client.get(f"/api/v1/tests/{slug}/leaderboard/").status_code == 404
        assert client.post(f"/api/v1/tests/{slug}/sessions/").status_code == 404
        assert slug not in str(client.get("/api/v1/tests/").json())
    assert client_for(other).get(f"/api/v1/sessions/{session_id}/").status_code == 404
    assert slug not in str(client_for(other).get("/api/v1/sessions/").json())
    assert client_for(learner).get(f"/api/v1/sessions/{session_id}/").status_code == 200
    assert slug not in str(client_for(other).get("/api/v1/catalogue/products/").json())


def test_staff_never_list_publish_or_sell_a_practice_test(django_user_model):
    from tests.conftest import staff_client_for

    learner = UserFactory()
    topic = free_bank(4)
    session_id = (
        client_for(learner)
        .post(URL, {"topics": [topic.pk], "questions": 2}, format="json")
        .json()["id"]
    )
    slug = ExamSession.objects.get(pk=session_id).test.slug
    staff = staff_client_for("testengine")

    listed = staff.get("/api/v1/testengine/tests/").json()
    assert slug not in str(listed)
    assert staff.post(f"/api/v1/testengine/tests/{slug}/publish/").status_code == 404
    from testengine import services as testengine_services
    from testengine.errors import PracticeNotPublishable

    with pytest.raises(PracticeNotPublishable):
        testengine_services.test_publish(test=Test.objects.get(slug=slug))
    assert Test.objects.get(slug=slug).is_published is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"questions": 0, "topics": [1]}, "questions"),
        ({"questions": 51, "topics": [1]}, "questions"),
        ({"topics": []}, "topics"),
        ({"topics": ["x"]}, "topics"),
        ({"topics": [1], "minutes": 10}, "minutes"),
        ({"topics": [1], "timed": True, "minutes": 0}, "minutes"),
        ({"topics": [1], "seconds": 10}, "seconds"),
    ],
)
def test_bad_input_is_refused_and_creates_nothing(body, field):
    learner = UserFactory()
    topic_with_bank(3)
    before = _counts()

    response = client_for(learner).post(URL, body, format="json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert field in response.json()["fields"]
    assert _counts() == before


def test_an_unknown_topic_is_refused_and_creates_nothing():
    learner = UserFactory()
    topic = topic_with_bank(3)
    before = _counts()

    response = client_for(learner).post(
        URL, {"topics": [topic.pk, 99_999_999], "questions": 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["fields"] == {"topics": ["Unknown topic: 99999999."]}
    assert _counts() == before


def test_too_few_questions_is_a_conflict_and_creates_nothing():
    learner = UserFactory()
    small, big = free_bank(2, name="Small"), free_bank(10)
    before = _counts()

    response = client_for(learner).post(
        URL, {"topics": [big.pk, small.pk], "questions": 8}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "not_enough_questions"
    assert response.json()["fields"] == {
        "topics": [
            "“Small” has 2 question(s) you may practise; 4 needed. Practice uses the free "
            "practice pool and the questions of tests whose solutions you can already see."
        ]
    }
    assert _counts() == before


def test_without_mastery_the_default_topics_are_a_conflict():
    before = _counts()

    response = client_for(UserFactory()).post(URL, {}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "no_mastery_yet"
    assert _counts() == before


def test_practice_is_throttled_per_learner(monkeypatch):
    rates = {**SimpleRateThrottle.THROTTLE_RATES, "practice": "2/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    learner = UserFactory()
    topic = free_bank(10)
    body = {"topics": [topic.pk], "questions": 1}

    codes = [client_for(learner).post(URL, body, format="json").status_code for _ in range(3)]
    other = client_for(UserFactory()).post(URL, body, format="json")

    assert codes == [201, 201, 429]
    assert other.status_code == 201
