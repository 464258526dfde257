"""Results API: result numbers, rank and percentile, counted grade, review policy,
leaderboard, and the item statistics command."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from catalogue import services as catalogue_services
from sessions_app import services
from sessions_app.models import ExamSession, SessionResponse
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


def negative_test(**test_kwargs) -> Test:
    """A free published test of 4 questions (1 mark, −0.25 each); every paper holds all 4."""
    topic = TopicFactory()
    for _ in range(4):
        make_question(topic=topic, negative_marks=Decimal("0.25"))
    test = TestFactory(**test_kwargs)
    SectionRuleFactory(section=SectionFactory(test=test), topic=topic, count=4)
    testengine_services.test_publish(test=test)
    product = PublishedProductFactory()
    product.plans.update(price_paise=0)
    catalogue_services.product_sync_derived(product_ids=[product.id])
    ProductTestFactory(product=product, test=test)
    test.refresh_from_db()
    return test


def sit(test, user, *, correct=0, wrong=0, seconds=None, submit=True):
    """Start a sitting and answer ``correct`` questions right, then ``wrong`` wrong."""
    session, _ = services.session_start(user=user, test_slug=test.slug)
    questions = Paper.from_json(session.paper).questions
    for index, question in enumerate(questions[: correct + wrong]):
        right = index < correct
        choice = next(c.id for c in question.choices if c.is_correct == right)
        services.response_save(
            user=user,
            session_id=session.id,
            question_id=question.id,
            answer={"choices": [choice]},
            time_spent_ms=1000 * (index + 1),
            seq=1,
        )
    if not submit:
        return session
    session = services.session_submit(user=user, session_id=session.id)
    if seconds is not None:
        ExamSession.objects.filter(pk=session.pk).update(time_taken_seconds=seconds)
        session.refresh_from_db()
    return session


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def field():
    """Four learners on a negative-marking test: 4.00, 2.75 (twice) and 0.00."""
    test = negative_test(pass_mark_percent=Decimal("50"))
    learners = [UserFactory() for _ in range(4)]
    learners[3].full_name = ""
    learners[3].save()
    sessions = [
        sit(test, learners[0], correct=4, seconds=300),
        sit(test, learners[1], correct=3, wrong=1, seconds=200),
        sit(test, learners[2], correct=3, wrong=1, seconds=100),
        sit(test, learners[3], seconds=50),
    ]
    return test, learners, sessions


def result(user, session):
    return client_for(user).get(f"/api/v1/sessions/{session.id}/result/")


def test_result_numbers_rank_and_percentile(field, django_assert_max_num_queries):
    _test, learners, sessions = field

    with django_assert_max_num_queries(6):
        response = result(learners[1], sessions[1])

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["score"], body["max_score"], body["percentage"]) == ("2.75", "4.00", "68.75")
    assert body["passed"] is True
    assert (body["correct"], body["wrong"], body["partial"], body["unattempted"]) == (3, 1, 0, 0)
    assert body["accuracy"] == 0.75
    assert body["negative_marks_lost"] == "0.25"
    assert (body["rank"], body["percentile"], body["candidates"]) == (2, "75.00", 4)
    assert body["topper_score"] == "4.00"
    assert body["counted_score"] == "2.75"
    assert body["time_taken_seconds"] == 200
    assert [q["outcome"] for q in body["questions"]] == ["correct"] * 3 + ["wrong"]
    assert [q["marks"] for q in body["questions"]] == ["1.00"] * 3 + ["-0.25"]
    assert body["questions"][0]["time_spent_ms"] == 1000
    assert body["sections"][0]["score"] == "2.75"
    assert body["topics"][0]["correct"] == 3

    top = result(learners[0], sessions[0]).json()
    assert (top["rank"], top["percentile"], top["accuracy"], top["negative_marks_lost"]) == (
        1,
        "100.00",
        1.0,
        "0.00",
    )
    last = result(learners[3], sessions[3]).json()
    assert (last["rank"], last["percentile"], last["accuracy"], last["passed"]) == (
        4,
        "25.00",
        None,
        False,
    )
    assert last["unattempted"] == 4
    assert {q["outcome"] for q in last["questions"]} == {"unattempted"}


def test_result_never_shows_the_answer_key(field):
    _, learners, sessions = field

    text = result(learners[1], sessions[1]).content.decode()

    for secret in ("is_correct", "explanation_html", "correct_answer", "body_html"):
        assert secret not in text


def test_passed_is_null_without_a_pass_mark():
    test = sittable_test()
    learner = UserFactory()
    session = sit(test, learner, correct=2)

    assert result(learner, session).json()["passed"] is None


def test_a_later_attempt_is_ranked_against_first_attempts(field):
    test, learners, _ = field
    again = sit(test, learners[1], correct=4)

    body = result(learners[1], again).json()

    assert body["attempt"] == 2
    assert (body["rank"], body["percentile"], body["candidates"]) == (1, "100.00", 4)
    assert body["rank_basis"] == "would_rank"


def test_a_first_attempt_is_one_of_the_candidates(field):
    _, learners, sessions = field

    bodies = [
        result(learner, session).json() for learner, session in zip(learners, sessions, strict=True)
    ]

    assert [(b["rank"], b["candidates"], b["rank_basis"]) for b in bodies] == [
        (1, 4, "first_attempt"),
        (2, 4, "first_attempt"),
        (2, 4, "first_attempt"),
        (4, 4, "first_attempt"),
    ]


def test_a_later_attempt_below_everyone_would_rank_one_past_the_candidates(field):
    # Not "rank 5 of 4": the later attempt is not a candidate, it says where it would place.
    test, learners, _ = field
    ExamSession.objects.filter(test=test, user=learners[3]).update(score=Decimal("1.00"))
    again = sit(test, learners[3], wrong=4)  # −1.00, below every first attempt

    body = result(learners[3], again).json()

    assert (body["attempt"], body["score"]) == (2, "-1.00")
    assert (body["rank"], body["candidates"], body["rank_basis"]) == (5, 4, "would_rank")
    assert body["rank"] <= body["candidates"] + 1
    assert body["percentile"] == "0.00"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [("highest", "4.00"), ("average", "2.58"), ("first", "2.75"), ("last", "1.00")],
)
def test_counted_score_follows_the_attempt_policy(field, policy, expected):
    test, learners, _ = field
    sit(test, learners[1], correct=4)  # 4.00
    latest = sit(test, learners[1], correct=1)  # 1.00; attempts 2.75, 4.00, 1.00
    Test.objects.filter(pk=test.pk).update(attempt_policy=policy)

    assert result(learners[1], latest).json()["counted_score"] == expected


def test_result_refused_while_in_progress_and_hidden_from_others():
    test = sittable_test()
    learner = UserFactory()
    session = sit(test, learner, correct=1, submit=False)

    response = result(learner, session)
    assert response.status_code == 409
    assert response.json()["code"] == "session_not_submitted"
    review = client_for(learner).get(f"/api/v1/sessions/{session.id}/review/")
    assert (review.status_code, review.json()["code"]) == (409, "session_not_submitted")

    services.session_submit(user=learner, session_id=session.id)
    other = UserFactory()
    assert result(other, session).status_code == 404
    assert client_for(other).get(f"/api/v1/sessions/{session.id}/review/").status_code == 404
    assert APIClient().get(f"/api/v1/sessions/{session.id}/result/").status_code == 401


# --- review ------------------------------------------------------------------------------------


def review(user, session):
    return client_for(user).get(f"/api/v1/sessions/{session.id}/review/")


def test_review_after_submit_shows_solutions_in_paper_order(django_assert_max_num_queries):
    test = negative_test()
    learner = UserFactory()
    session = sit(test, learner, correct=1, wrong=1)
    paper = Paper.from_json(session.paper)

    with django_assert_max_num_queries(4):
        response = review(learner, session)

    assert response.status_code == 200, response.content
    questions = response.json()["questions"]
    assert [q["id"] for q in questions] == [q.id for q in paper.questions]
    first, second, third = questions[0], questions[1], questions[2]
    assert first["correct_answer"]["choices"] == sorted(paper.questions[0].correct_choice_ids)
    assert first["outcome"] == "correct"
    assert first["marks"] == "1.00"
    assert second["outcome"] == "wrong"
    assert second["marks"] == "-0.25"
    assert second["answer"]["choices"][0] not in second["correct_answer"]["choices"]
    assert third["answer"] is None
    assert third["outcome"] == "unattempted"
    assert {"id", "body_html", "is_correct"} <= set(first["choices"][0])
    assert "explanation_html" in first
    assert first["body_html"]


def test_review_is_hidden_when_the_policy_says_never():
    test = sittable_test(solution_policy="never")
    learner = UserFactory()
    session = sit(test, learner, correct=1)

    response = review(learner, session)

    assert (response.status_code, response.json()["code"]) == (403, "solutions_hidden")


def test_review_after_window_waits_for_the_window_to_close():
    test = sittable_test(
        solution_policy="after_window", available_until=timezone.now() + timedelta(days=1)
    )
    learner = UserFactory()
    session = sit(test, learner, correct=1)

    early = review(learner, session)
    assert (early.status_code, early.json()["code"]) == (403, "solutions_hidden")

    Test.objects.filter(pk=test.pk).update(available_until=timezone.now() - timedelta(minutes=1))
    assert review(learner, session).status_code == 200


def test_review_after_window_without_a_window_is_like_after_submit():
    test = sittable_test(solution_policy="after_window")
    learner = UserFactory()
    session = sit(test, learner)

    assert review(learner, session).status_code == 200


# --- leaderboard -------------------------------------------------------------------------------


def board(user, test, query=""):
    return client_for(user).get(f"/api/v1/tests/{test.slug}/leaderboard/{query}")


def test_leaderboard_orders_by_score_then_time(field, django_assert_max_num_queries):
    test, learners, _ = field

    with django_assert_max_num_queries(6):
        response = board(learners[0], test)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["candidates"] == 4
    top = body["top"]
    assert [(e["rank"], e["score"], e["time_taken_seconds"]) for e in top] == [
        (1, "4.00", 300),
        (2, "2.75", 100),
        (3, "2.75", 200),
        (4, "0.00", 50),
    ]
    assert [e["name"] for e in top[:3]] == [learners[i].full_name for i in (0, 2, 1)]
    assert top[3]["name"] == f"Learner {learners[3].public_id.hex[-4:]}"
    assert top[0]["is_me"] is True
    assert body["me"]["rank"] == 1
    text = response.content.decode()
    assert "@" not in text
    assert all(learner.email not in text for learner in learners)


def test_leaderboard_me_outside_the_top_and_without_a_sitting(field):
    test, learners, _ = field

    body = board(learners[3], test, "?limit=2").json()
    assert len(body["top"]) == 2
    assert body["me"]["rank"] == 4
    assert body["me"]["score"] == "0.00"

    assert board(UserFactory(), test).json()["me"] is None


def test_leaderboard_query_count_does_not_grow(field, django_assert_max_num_queries):
    test, learners, _ = field
    for _ in range(6):
        sit(test, UserFactory(), correct=2)

    with django_assert_max_num_queries(6):
        body = board(learners[1], test, "?limit=100").json()

    assert body["candidates"] == 10
    assert len(body["top"]) == 10


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_leaderboard_limit_is_bounded(field, limit):
    test, learners, _ = field

    response = board(learners[0], test, f"?limit={limit}")

    assert (response.status_code, response.json()["code"]) == (400, "invalid")


def test_leaderboard_needs_access():
    test = sittable_test(free=False)

    assert board(UserFactory(), test).status_code == 404
    assert client_for(UserFactory()).get("/api/v1/tests/nope/leaderboard/").status_code == 404


# --- item statistics -----------------------------------------------------------------------------


def test_statistics_command_stores_rows_per_question(field):
    test, _, sessions = field
    sit(test, UserFactory(), correct=1, submit=False)  # in progress: not counted
    question_ids = [q.id for q in Paper.from_json(sessions[0].paper).questions]

    call_command("update_item_statistics", "--test", test.slug)
    call_command("update_item_statistics")  # again, for every test: rows are replaced

    rows = {s.question_id: s for s in QuestionStatistics.objects.filter(pk__in=question_ids)}
    assert set(rows) == set(question_ids)
    assert {row.responses for row in rows.values()} == {4}
    # Each paper orders the same four questions its own way; a question's facility is the
    # sum of its marks over the four sittings (the unanswered one counts 0) ÷ 4.
    for question_id, row in rows.items():
        marks = SessionResponse.objects.filter(
            session__in=sessions, question_id=question_id
        ).values_list("marks", flat=True)
        assert row.facility == pytest.approx(float(sum(marks, Decimal(0))) / 4, abs=1e-4)
    assert sorted(row.facility for row in rows.values()) != [0.0] * 4
    assert QuestionStatistics.objects.count() == 4


def test_statistics_command_refuses_an_unknown_test():
    with pytest.raises(CommandError):
        call_command("update_item_statistics", "--test", "nope")
