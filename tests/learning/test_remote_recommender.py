"""The remote recommender against the stubbed model server: its answer used (and checked
by the caller), the contract's request, and the fallback to the built-in rule."""

from __future__ import annotations

import time

import pytest

from learning.recommenders import (
    CandidateTest,
    MasteryRow,
    Recommendation,
    RemoteRecommender,
    WeakestFirstRecommender,
)

MASTERY = [
    MasteryRow(12, "Indexes", 0.41, 0.62, -0.36, 0.38, 14, 6),
    MasteryRow(14, "Joins", 0.82, 0.7, 1.5, 0.3, 20, 17),
    MasteryRow(15, "Locks", 0.5, 0.2, 0.0, 0.8, 2, 1),
]
TESTS = [
    CandidateTest("pg-diag", "PostgreSQL diagnostic", "random", 1200, frozenset({12, 14})),
    CandidateTest("locks-quiz", "Locks quiz", "fixed", 600, frozenset({15})),
]


def test_the_remote_answer_is_used_and_the_request_follows_the_contract(model_server):
    model_server.reply = {
        "recommendations": [
            {"topic_id": 15, "reason": "Locks next.", "tests": ["locks-quiz"]},
            {"topic_id": 12, "reason": "Then indexes.", "tests": ["pg-diag"]},
        ]
    }

    found = RemoteRecommender().recommend(MASTERY, TESTS, limit=1)

    assert found == [Recommendation(15, "Locks next.", ("locks-quiz",))]
    path, headers, body = model_server.seen[0]
    assert path == "/v1/recommendations"
    assert headers["Authorization"] == "Bearer model-token"
    assert body["limit"] == 1
    assert body["mastery"][0] == {
        "topic_id": 12,
        "topic": "Indexes",
        "mastery": 0.41,
        "confidence": 0.62,
        "theta": -0.36,
        "se": 0.38,
        "responses": 14,
        "correct": 6,
    }
    assert body["tests"][0]["topic_ids"] == [12, 14]


@pytest.mark.parametrize(
    ("status", "reply", "delay"),
    [
        (200, {"recommendations": []}, 1.0),
        (503, {"detail": "down"}, 0.0),
        (200, {"topics": [12]}, 0.0),
        (200, {"recommendations": [{"reason": "no topic"}]}, 0.0),
        (200, {"recommendations": [{"topic_id": "twelve"}]}, 0.0),
    ],
)
def test_a_failing_remote_recommender_falls_back_to_the_built_in(
    model_server, status, reply, delay
):
    model_server.status, model_server.reply, model_server.delay = status, reply, delay

    started = time.monotonic()
    found = RemoteRecommender().recommend(MASTERY, TESTS, limit=5)

    assert found == WeakestFirstRecommender().recommend(MASTERY, TESTS, limit=5)
    assert [r.topic_id for r in found] == [12, 15]
    assert time.monotonic() - started < 0.9
