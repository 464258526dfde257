"""The remote plug-ins against a local stub of the AI team's model server: answers used,
the auth header sent, and every failure (timeout, error status, bad body, nonsense values,
no URL) falling back to the built-in model — with the cool-down skipping a broken remote."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from core import remote
from testengine.adaptive import EAPEstimator, MaxInfoSelector, RemoteEstimator, RemoteSelector

A = np.array([1.2, 0.8, 1.5, 1.0])
B = np.array([-1.0, 0.0, 0.5, 1.5])
C = np.array([0.2, 0.2, 0.25, 0.0])
U = np.array([1.0, 1.0, 0.0, 1.0])


@pytest.fixture
def stub(model_server):
    return model_server


def test_the_remote_estimate_is_used_and_the_request_follows_the_contract(stub):
    stub.reply = {"theta": 1.25, "se": 0.41}

    theta, se = RemoteEstimator().estimate(A, B, C, U)

    assert (theta, se) == (1.25, 0.41)
    path, headers, body = stub.seen[0]
    assert path == "/v1/ability"
    assert headers["Authorization"] == "Bearer model-token"
    assert body == {"a": A.tolist(), "b": B.tolist(), "c": C.tolist(), "u": U.tolist()}


@pytest.mark.parametrize(
    ("status", "reply", "delay"),
    [
        (200, {"theta": 1.0, "se": 0.3}, 1.0),  # too slow: the timeout
        (500, {"detail": "boom"}, 0.0),
        (200, b"<html>not json</html>", 0.0),
        (200, ["not", "an", "object"], 0.0),
        (200, {"theta": "NaN", "se": 0.3}, 0.0),
        (200, {"theta": 0.5, "se": -1}, 0.0),
        (200, {"estimate": 0.5}, 0.0),
    ],
)
def test_a_failing_remote_estimator_falls_back_to_eap(stub, caplog, status, reply, delay):
    stub.status, stub.reply, stub.delay = status, reply, delay

    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="core.remote"):
        estimate = RemoteEstimator().estimate(A, B, C, U)

    assert estimate == pytest.approx(EAPEstimator().estimate(A, B, C, U))
    assert time.monotonic() - started < 0.9  # bounded by the timeout, not the model
    if status != 200 or delay or isinstance(reply, bytes | list):
        assert "remote model failed" in caplog.text
        assert "model-token" not in caplog.text


def test_after_a_failure_the_remote_is_skipped_for_the_cool_down(stub):
    stub.delay = 1.0
    RemoteEstimator().estimate(A, B, C, U)
    stub.delay, stub.reply = 0.0, {"theta": 2.0, "se": 0.2}

    started = time.monotonic()
    again = RemoteEstimator().estimate(A, B, C, U)

    assert time.monotonic() - started < 0.1
    assert again == pytest.approx(EAPEstimator().estimate(A, B, C, U))
    assert len(stub.seen) == 1  # the second call never went out
    remote.reset_breaker()
    assert RemoteEstimator().estimate(A, B, C, U) == (2.0, 0.2)


def test_no_url_means_the_built_in_model(settings):
    settings.MODELS_REMOTE_URL = ""
    assert RemoteEstimator().estimate(A, B, C, U) == pytest.approx(
        EAPEstimator().estimate(A, B, C, U)
    )


def _select(selector, mask):
    return selector.select(
        0.3,
        a=A,
        b=B,
        c=C,
        available_mask=mask,
        k=1,
        rng=np.random.default_rng(1),
        topic_ids=np.array([7, 7, 8, 8]),
        topic_targets={7: 0.5, 8: 0.5},
        topic_counts={7: 1},
    )


def test_the_remote_selector_picks_an_available_item(stub):
    stub.reply = {"index": 3}
    mask = np.array([False, True, True, True])

    assert _select(RemoteSelector(), mask) == 3
    path, _, body = stub.seen[0]
    assert path == "/v1/next-item"
    assert body["available"] == [1, 2, 3]
    assert body["topic_targets"] == {"7": 0.5, "8": 0.5}
    assert body["topics"] == [7, 7, 8, 8]


@pytest.mark.parametrize("reply", [{"index": 0}, {"index": 99}, {"index": "x"}, {}])
def test_a_remote_selector_answer_that_is_not_an_available_item_falls_back(stub, reply):
    stub.reply = reply
    mask = np.array([False, True, True, True])

    assert _select(RemoteSelector(), mask) == _select(MaxInfoSelector(), mask)


def test_a_slow_remote_selector_falls_back_within_the_timeout(stub):
    stub.delay, stub.reply = 1.0, {"index": 3}
    mask = np.array([True, True, True, True])

    started = time.monotonic()
    chosen = _select(RemoteSelector(), mask)

    assert chosen == _select(MaxInfoSelector(), mask)
    assert time.monotonic() - started < 0.9
