"""The solution rule (``policy.solutions_visible``), asked by every learner payload: until a
test's solution policy opens for a sitting, nothing a learner receives says which answer
was right — no per-question outcome or marks in the result, no review, no key anywhere
in the sitting's payloads; totals (score, counts, sections, topics) are fine."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from sessions_app import policy, services
from sessions_app.models import ExamSession
from testengine.models import Test
from testengine.paper import Paper
from tests.accounts.factories import UserFactory
from tests.sessions_app.factories import json_keys, sittable_test

pytestmark = pytest.mark.django_db

# Keys that encode correctness, wherever they appear in a payload.
KEY_NAMES = {
    "is_correct",
    "correct_answer",
    "explanation_html",
    "explanation_md",
    "numeric_answer",
    "numeric_tolerance",
    "accepted_answers",
    "outcome",
    "irt_a",
    "irt_b",
}


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _sit(client, test: Test, *, right: int = 2):
    """Start, answer the first ``right`` questions correctly and the next wrongly, submit.
    Returns the session id and every payload the sitting received on the way."""
    started = client.post(f"/api/v1/tests/{test.slug}/sessions/")
    assert started.status_code == 201, started.content
    sid = started.json()["id"]
    payloads = [started.json(), client.get(f"/api/v1/sessions/{sid}/").json()]
    paper = Paper.from_json(ExamSession.objects.get(pk=sid).paper)
    payloads.append(client.get(f"/api/v1/sessions/{sid}/questions/").json())
    for seq, question in enumerate(paper.questions[: right + 1], start=1):
        good = sorted(question.correct_choice_ids)
        bad = [c.id for c in question.choices if c.id not in question.correct_choice_ids][:1]
        saved = client.put(
            f"/api/v1/sessions/{sid}/responses/{question.id}/",
            {"answer": {"choices": good if seq <= right else bad}, "seq": seq},
            format="json",
        )
        assert saved.status_code == 200, saved.content
        payloads.append(saved.json())
    last = paper.questions[-1]
    batch = client.post(
        f"/api/v1/sessions/{sid}/responses/",
        {"responses": [{"question_id": last.id, "answer": None, "seq": 99}]},
        format="json",
    )
    payloads.append(batch.json())
    payloads.append(client.get(f"/api/v1/sessions/{sid}/").json())
    submitted = client.post(f"/api/v1/sessions/{sid}/submit/")
    assert submitted.status_code == 200
    payloads.append(submitted.json())
    return sid, payloads


def test_while_solutions_are_closed_no_payload_names_a_correct_answer():
    test = sittable_test(solution_policy=Test.SolutionPolicy.NEVER)
    learner = UserFactory()
    client = _client(learner)

    sid, payloads = _sit(client, test)
    result = client.get(f"/api/v1/sessions/{sid}/result/")
    payloads += [
        result.json(),
        client.get(f"/api/v1/sessions/{sid}/").json(),
        client.get("/api/v1/sessions/").json(),
        client.get(f"/api/v1/tests/{test.slug}/").json(),
        client.get(f"/api/v1/tests/{test.slug}/leaderboard/").json(),
    ]
    review = client.get(f"/api/v1/sessions/{sid}/review/")

    for payload in payloads:
        assert not set(json_keys(payload)) & KEY_NAMES, payload
    body = result.json()
    assert result.status_code == 200
    assert body["solutions_visible"] is False
    assert all(set(q) == {"question_id", "section_id", "time_spent_ms"} for q in body["questions"])
    # totals stay: that is what a learner is owed
    assert (body["correct"], body["wrong"], body["unattempted"]) == (2, 1, 1)
    assert body["score"] is not None
    assert body["sections"][0]["correct"] == 2
    assert sum(topic["wrong"] for topic in body["topics"]) == 1
    assert (review.status_code, review.json()["code"]) == (403, "solutions_hidden")


def test_after_submit_the_result_shows_each_questions_outcome_and_marks():
    test = sittable_test(solution_policy=Test.SolutionPolicy.AFTER_SUBMIT)
    client = _client(UserFactory())

    sid, _ = _sit(client, test)
    body = client.get(f"/api/v1/sessions/{sid}/result/").json()

    assert body["solutions_visible"] is True
    assert [q["outcome"] for q in body["questions"]] == [
        "correct",
        "correct",
        "wrong",
        "unattempted",
    ]
    assert all("marks" in q for q in body["questions"])


def test_after_the_window_the_outcomes_open_together_with_the_review():
    test = sittable_test(
        solution_policy=Test.SolutionPolicy.AFTER_WINDOW,
        available_until=timezone.now() + timedelta(days=1),
    )
    client = _client(UserFactory())
    sid, _ = _sit(client, test)

    early = client.get(f"/api/v1/sessions/{sid}/result/").json()
    Test.objects.filter(pk=test.pk).update(available_until=timezone.now())
    late = client.get(f"/api/v1/sessions/{sid}/result/").json()

    assert early["solutions_visible"] is False
    assert not set(json_keys(early)) & KEY_NAMES
    assert late["solutions_visible"] is True
    assert {q["outcome"] for q in late["questions"]} == {"correct", "wrong", "unattempted"}
    assert client.get(f"/api/v1/sessions/{sid}/review/").status_code == 200


@pytest.mark.parametrize(
    ("policy_name", "until_days", "expected"),
    [
        ("after_submit", None, True),
        ("after_window", None, True),  # no window: nothing to wait for
        ("after_window", 1, False),
        ("after_window", -1, True),
        ("never", None, False),
    ],
)
def test_the_solution_rule(policy_name, until_days, expected):
    now = timezone.now()
    test = sittable_test(
        solution_policy=policy_name,
        available_until=now + timedelta(days=until_days) if until_days is not None else None,
    )
    learner = UserFactory()
    session = _started_before_close(learner, test)

    assert policy.solutions_visible(session, now=now) is False  # in progress: never
    services.session_submit(user=learner, session_id=session.id)
    session.refresh_from_db()
    assert policy.solutions_visible(session, now=now) is expected


def _started_before_close(learner, test: Test) -> ExamSession:
    """A sitting started while the test was open (its window may have closed since)."""
    until = test.available_until
    Test.objects.filter(pk=test.pk).update(available_until=None)
    session, _ = services.session_start(user=learner, test_slug=test.slug)
    Test.objects.filter(pk=test.pk).update(available_until=until)
    return session
