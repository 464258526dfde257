"""Adaptive sittings: items are chosen one at a time from the test's pool.

At the start the learner's ability θ̂ is 0 (the prior's mean) and the first item is the
most informative there (randomesque: at random among the top k, so the same item is not
given to everyone). Each saved answer is committed (no going back): it is marked at once
(correct = 1, anything else = 0), θ̂ and its SE are re-estimated from every answer so far,
and either the test stops — SE at or below the target after the minimum number of items,
the maximum number of items, or an empty pool — or the next item is chosen and frozen
into the session's paper like any other question. A retried save changes nothing and
answers with the item already chosen, so a retry never advances twice. The deadline,
expiry and submit rules are the exam session's own.

The estimator and the selector are the plug-ins of ``testengine.adaptive`` (settings
``ADAPTIVE_ESTIMATOR`` / ``ADAPTIVE_SELECTOR``).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import numpy as np

from sessions_app.models import ExamSession
from testengine import irt
from testengine.adaptive import get_estimator, get_selector
from testengine.adaptive_bank import AdaptivePool, AdaptiveSettings, adaptive_pool
from testengine.models import Test
from testengine.paper import (
    Paper,
    PaperQuestion,
    PaperSection,
    adaptive_item,
    answer_layout,
)
from testengine.scoring import mark_question


def _choose(test: Test, pool: AdaptivePool, *, theta: float, given: list[int], seed: int):
    """The next item (frozen), or None when the pool has nothing left to give."""
    config = AdaptiveSettings.of(test)
    rng = np.random.default_rng([seed & 0xFFFFFFFF, len(given)])
    available = np.ones(len(pool), dtype=bool)
    available[pool.positions(given)] = False
    counts = Counter(int(pool.groups[i]) for i in pool.positions(given))
    selector = get_selector()
    for _ in range(5):  # an item unpublished since the pool was read is skipped
        if not available.any():
            return None
        index = selector.select(
            theta,
            a=pool.a,
            b=pool.b,
            c=pool.c,
            available_mask=available,
            k=config.randomesque_k,
            rng=rng,
            topic_ids=pool.groups,
            topic_targets=pool.targets,
            topic_counts=dict(counts),
        )
        item = adaptive_item(test, pool.section, int(pool.ids[index]), random.Random(seed))  # noqa: S311 - choice order, not security
        if item is not None:
            return item
        available[index] = False
    return None


def first_paper(test: Test, seed: int) -> tuple[Paper, dict[str, Any]]:
    """The sitting's paper with its first item, and the adaptive state."""
    pool = adaptive_pool(test)
    item = _choose(test, pool, theta=0.0, given=[], seed=seed)
    if item is None:
        from testengine.errors import PaperUnavailable

        raise PaperUnavailable("No published question matches this adaptive test's rules.")
    section = pool.section
    paper = Paper(
        test_id=test.pk,
        test_slug=test.slug,
        seed=seed,
        sections=(
            PaperSection(
                id=section.id,
                title=section.title,
                order=section.order,
                duration_seconds=None,  # one clock: the test's
                instructions=section.instructions,
                questions=(item,),
            ),
        ),
        meta={"adaptive": True},
    )
    state = {"theta": 0.0, "se": 1.0, "answers": [], "stop": None, "pool_size": len(pool)}
    return paper, state


def current_item_id(session: ExamSession) -> int | None:
    """The item waiting for an answer (None once the test has stopped)."""
    state = session.adaptive or {}
    if state.get("stop"):
        return None
    questions = session.paper["sections"][0]["questions"]
    answered = {answer["id"] for answer in state.get("answers", [])}
    last = questions[-1]["id"] if questions else None
    return None if last is None or last in answered else last


def record_answer(session: ExamSession, question: PaperQuestion, canonical: Any) -> dict[str, Any]:
    """Commit the answer to the current item: re-estimate θ̂, then stop or freeze the next
    item. The caller holds the session's row lock. Returns the new state."""
    test = session.test
    config = AdaptiveSettings.of(test)
    state = dict(session.adaptive)
    correct = mark_question(question, canonical).outcome == "correct"
    answers = [*state["answers"], {"id": question.id, "correct": correct}]
    by_id = {q["id"]: q for q in session.paper["sections"][0]["questions"]}
    params = np.array([by_id[answer["id"]]["irt"] for answer in answers], dtype=float)
    u = np.array([1.0 if answer["correct"] else 0.0 for answer in answers])
    theta, se = get_estimator().estimate(params[:, 0], params[:, 1], params[:, 2], u)
    answers[-1].update(theta=round(float(theta), 4), se=round(float(se), 4))
    state.update(theta=float(theta), se=float(se), answers=answers)
    stop = irt.stop_reason(
        len(answers),
        float(se),
        min_items=config.min_items,
        max_items=config.max_items,
        target_se=config.target_se,
    )
    item = None
    if stop is None:
        item = _choose(
            test, adaptive_pool(test), theta=float(theta), given=list(by_id), seed=session.seed
        )
        stop = None if item is not None else "pool_exhausted"
    state["stop"] = stop
    session.adaptive = state
    fields = ["adaptive"]
    if item is not None:
        paper = session.paper
        paper["sections"][0]["questions"].append(Paper.question_json(item))
        session.paper = paper
        session.layout = answer_layout(paper)
        session.question_count += 1
        session.max_score += item.marks
        fields += ["paper", "layout", "question_count", "max_score"]
    session.save(update_fields=fields)
    return state


def summary(session: ExamSession) -> dict[str, Any]:
    """After a save: whether the test is complete, how many items are answered, and the
    current item in the paper's JSON form (with its key: the API projects it)."""
    state = session.adaptive or {}
    current = current_item_id(session)
    section = session.paper["sections"][0]
    questions = section["questions"]
    return {
        "complete": bool(state.get("stop")),
        "answered": len(state.get("answers", [])),
        "section": section["id"],
        "number": len(questions),
        "current": questions[-1] if current is not None else None,
    }


def final_ability(session: ExamSession) -> dict[str, Any]:
    """θ̂, its SE, the scaled score and why the test stopped, for the result."""
    state = session.adaptive or {}
    theta = state.get("theta", 0.0)
    return {
        "theta": round(theta, 3),
        "se": round(state.get("se", 1.0), 3),
        "scaled_score": irt.scaled_score(theta),
        "items": len(state.get("answers", [])),
        "stop_reason": state.get("stop") or "submitted",
    }
