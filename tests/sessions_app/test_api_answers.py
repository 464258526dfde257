"""Answers keep their JSON types: a number sent comes back a number in the saved
response, the paper and the review, and the answer key's numbers are numbers too."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from sessions_app.models import SessionResponse
from testengine.models import Question
from testengine.scoring import answer_for_client, json_number
from tests.accounts.factories import UserFactory
from tests.sessions_app.factories import sittable_test

pytestmark = pytest.mark.django_db


def numeric_test(answer: Decimal):
    return sittable_test(
        questions=1,
        draw=1,
        question={"type": Question.Type.NUMERIC, "numeric_answer": answer},
        solution_policy="after_submit",
    )


def start(test):
    client = APIClient()
    client.force_authenticate(UserFactory())
    session = client.post(f"/api/v1/tests/{test.slug}/sessions/").json()
    question = client.get(f"/api/v1/sessions/{session['id']}/questions/").json()["questions"][0]
    return client, session["id"], question["id"]


@pytest.mark.parametrize(
    ("sent", "shown"),
    [(1, 1), (7, 7), (9.81, 9.81), (-0.5, -0.5), ("2.50", 2.5), (1e-7, 1e-7)],
)
def test_a_numeric_answer_comes_back_a_json_number_everywhere(sent, shown):
    client, session_id, question_id = start(numeric_test(Decimal("7")))
    base = f"/api/v1/sessions/{session_id}"

    saved = client.put(f"{base}/responses/{question_id}/", {"answer": {"value": sent}, "seq": 1})
    batch = client.post(
        f"{base}/responses/",
        {"responses": [{"question_id": question_id, "answer": {"value": sent}, "seq": 2}]},
    )
    paper = client.get(f"{base}/questions/").json()["questions"][0]
    client.post(f"{base}/submit/")
    review = client.get(f"{base}/review/").json()["questions"][0]

    assert saved.status_code == 200, saved.content
    assert saved.json()["answer"] == {"value": shown}
    assert type(saved.json()["answer"]["value"]) is type(shown)
    assert batch.json()["results"][0]["answer"] == {"value": shown}
    assert paper["answer"] == {"value": shown}
    assert review["answer"] == {"value": shown}
    # stored as an exact decimal string: marking compares decimals, not doubles
    assert isinstance(SessionResponse.objects.get().answer["value"], str)


def test_the_answer_key_numbers_are_json_numbers():
    client, session_id, question_id = start(numeric_test(Decimal("7")))
    base = f"/api/v1/sessions/{session_id}"
    client.put(f"{base}/responses/{question_id}/", {"answer": {"value": 7}, "seq": 1})
    client.post(f"{base}/submit/")

    review = client.get(f"{base}/review/").json()["questions"][0]

    assert review["outcome"] == "correct"
    key = review["correct_answer"]
    assert (key["value"], key["tolerance"], key["tolerance_kind"]) == (7, 0, "absolute")
    assert type(key["value"]) is int


def test_a_choice_questions_key_has_null_numbers_and_a_null_tolerance_kind():
    test = sittable_test(questions=1, draw=1, solution_policy="after_submit")
    client, session_id, _ = start(test)
    client.post(f"/api/v1/sessions/{session_id}/submit/")

    key = client.get(f"/api/v1/sessions/{session_id}/review/").json()["questions"][0]

    assert key["answer"] is None
    assert (
        key["correct_answer"]["value"],
        key["correct_answer"]["tolerance"],
        key["correct_answer"]["tolerance_kind"],
    ) == (None, None, None)


@pytest.mark.parametrize("bad", [{"value": "abc"}, {"value": True}, {"value": [1]}, {"x": 1}, 5])
def test_a_numeric_answer_that_is_not_a_number_is_refused_and_nothing_is_saved(bad):
    client, session_id, question_id = start(numeric_test(Decimal("7")))

    response = client.put(
        f"/api/v1/sessions/{session_id}/responses/{question_id}/", {"answer": bad, "seq": 1}
    )

    assert response.status_code == 400
    assert set(response.json()) == {"code", "detail", "fields"}
    assert "answer" in response.json()["fields"]
    assert not SessionResponse.objects.exists()


def test_json_number_keeps_whole_numbers_whole():
    assert json_number("7.000000") == 7
    assert json_number(Decimal("-0")) == 0
    assert json_number("2.50") == 2.5
    assert answer_for_client({"value": "1"}) == {"value": 1}
    assert answer_for_client({"choices": [3, 1]}) == {"choices": [3, 1]}
    assert answer_for_client(None) is None
