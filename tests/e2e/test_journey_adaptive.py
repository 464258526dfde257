"""Journey 2: a learner enrolls in the free Backend Diagnostic and sits its adaptive
placement test item by item to the stop rule, then reads θ̂, its SE, the scaled score and
why the test stopped."""

from __future__ import annotations

import math

from tests.e2e.clients import App, assert_error, unique_email

PRODUCT = "backend-diagnostic"
TEST = "adaptive-placement-test"


def _answer(question: dict, turn: int) -> dict:
    """What a learner of middling skill might answer (the client never knows the key)."""
    if question["type"] == "numeric":
        return {"value": turn}
    if question["type"] == "text":
        return {"text": "index"}
    choices = question["choices"]
    return {"choices": [choices[turn % len(choices)]["id"]]}


def test_adaptive_test_to_its_stop_rule(live):
    app, _ = App.register(live.url, unique_email("adaptive"), "Adaptive Learner")
    product = app.ok("GET", f"catalogue/products/{PRODUCT}/")
    assert TEST in [t["slug"] for t in product["tests"]]
    (free,) = [p for p in product["plans"] if p["price_paise"] == 0]
    enrollment = app.ok(
        "POST", f"catalogue/products/{PRODUCT}/enroll/", 201, json={"plan": free["id"]}
    )
    again = app.ok("POST", f"catalogue/products/{PRODUCT}/enroll/", 200, json={"plan": free["id"]})
    assert again["id"] == enrollment["id"], "enrolling twice is the same enrollment"

    test = app.ok("GET", f"tests/{TEST}/")
    assert test["mode"] == "adaptive"
    assert test["can_start"] is True
    config = live.sql("SELECT adaptive_config FROM testengine_test WHERE slug = %s", [TEST])[0][0]
    min_items, max_items = config["min_items"], config["max_items"]

    session = app.ok("POST", f"tests/{TEST}/sessions/", 201)
    sid = session["id"]
    assert session["question_count"] == 1, "the paper grows one item at a time"

    paper = app.ok("GET", f"sessions/{sid}/questions/")
    (current,) = paper["questions"]
    empty = app.put(f"sessions/{sid}/responses/{current['id']}/", json={"answer": None, "seq": 1})
    assert "answer" in assert_error(empty, 400, "invalid")["fields"], "an item must be answered"
    given: list[int] = []
    first_item = current
    progress = None
    for turn in range(1, max_items + 2):
        assert turn <= max_items, "the test must stop by max_items"
        given.append(current["id"])
        url = f"sessions/{sid}/responses/{current['id']}/"
        save = {"answer": _answer(current, turn), "seq": turn, "time_spent_ms": 3000}
        saved = app.ok("PUT", url, json=save)
        assert saved["applied"] is True
        progress = saved["adaptive"]
        assert progress["answered"] == turn
        # A retry (the app lost the answer) returns the same next item: never advances twice.
        retry = app.ok("PUT", url, json=save)
        assert retry["applied"] is False
        assert retry["adaptive"] == progress
        if turn == 2:
            # Going back to an earlier item is refused: answers are committed.
            first = f"sessions/{sid}/responses/{given[0]}/"
            back = app.put(first, json={"answer": _answer(first_item, 9), "seq": 99})
            assert_error(back, 400, "not_current_question")
        if progress["complete"]:
            assert progress["next_question"] is None
            break
        nxt = progress["next_question"]
        assert nxt["id"] not in given, "no item is given twice"
        shown = app.ok("GET", f"sessions/{sid}/questions/")["questions"]
        assert [q["id"] for q in shown] == [nxt["id"]], "only the current item is shown"
        current = nxt

    items = len(given)
    assert min_items <= items <= max_items
    summary = app.ok("POST", f"sessions/{sid}/submit/")
    assert summary["status"] == "submitted"
    result = app.ok("GET", f"sessions/{sid}/result/")
    ability = result["ability"]
    assert ability["items"] == items
    assert ability["stop_reason"] in ("precision", "max_items", "pool_exhausted")
    if ability["stop_reason"] == "precision":
        assert ability["se"] <= config["target_se"]
    elif ability["stop_reason"] == "max_items":
        assert items == max_items
    assert 0 < ability["se"] < 1, "answers made the estimate more precise than the prior"
    assert math.isfinite(ability["theta"])
    expected_scaled = min(100.0, max(0.0, 50 + 10 * ability["theta"]))
    # θ̂ is shown to 3 decimals, the scaled score to 1 (from the unrounded θ̂).
    assert math.isclose(ability["scaled_score"], expected_scaled, abs_tol=0.051)
    assert ability["scaled_score"] == round(ability["scaled_score"], 1)
    assert result["correct"] + result["wrong"] + result["partial"] == items
    assert result["unattempted"] == 0

    ((theta, se),) = live.sql(
        "SELECT ability, ability_se FROM sessions_app_examsession WHERE id = %s", [sid]
    )
    assert math.isclose(theta, ability["theta"], abs_tol=0.0005)
    assert math.isclose(se, ability["se"], abs_tol=0.0005)
    review = app.ok("GET", f"sessions/{sid}/review/")
    assert [q["id"] for q in review["questions"]] == given, "the review shows the items given"
