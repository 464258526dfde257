"""The numbers behind adaptive tests: the 3PL model, EAP ability estimates, item selection.

Pure numpy, no Django and no database: ``sessions_app`` passes the item parameters and the
learner's responses as arrays and gets numbers back (docs/architecture.md). Every function
broadcasts over arrays and has no Python loop over items, so selecting from a 10,000-item
pool stays well under 5 ms (``make bench-adaptive``).

The model is the three-parameter logistic (3PL)::

    P(correct | θ) = c + (1 − c) / (1 + exp(−D · a · (θ − b)))

with the scaling constant **D = 1.0**: the logistic metric, not the normal-ogive one
(D = 1.702). Calibration fits a and b on this same metric, so D only has to agree between
the two, and 1.0 is what the IRT libraries we compare with and calibrate with use
(catsim, girth). docs/testengine.md, "Adaptive mode: the numbers", has the whole story.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike, NDArray

D = 1.0
"""Logistic scaling constant: 1.0, the logistic metric (see the module docstring)."""

PRIOR_B = {"easy": -1.0, "medium": 0.0, "hard": 1.0}
"""Cold-start difficulty for each difficulty label (a = 1, c = chance of a blind guess)."""

SCALE_MEAN, SCALE_SD = 50.0, 10.0

STOP_PRECISION, STOP_MAX_ITEMS = "precision", "max_items"

Floats = NDArray[np.float64]


def _sigmoid(z: Floats) -> Floats:
    """The logistic function without overflow: exp only ever sees −|z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def p_correct(theta: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike) -> Floats:
    """Probability of a correct answer under the 3PL with D = 1.0; broadcasts its arguments.

    Lies in [c, 1] (strictly inside for finite θ, to the precision of a float64).
    """
    a, b, c = np.asarray(a, float), np.asarray(b, float), np.asarray(c, float)
    return c + (1.0 - c) * _sigmoid(D * a * (np.asarray(theta, float) - b))


def information(theta: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike) -> Floats:
    """Fisher information of a 3PL item at θ; broadcasts its arguments.

    I(θ) = (D·a)² · (1 − P)/P · ((P − c)/(1 − c))². With s the logistic part, P − c =
    (1 − c)·s and 1 − P = (1 − c)·(1 − s), which gives the form computed here without the
    0/0 of the textbook form far below b. For c = 0 it is the 2PL's (D·a)²·P·(1 − P),
    largest at θ = b; a guessing floor moves the peak slightly above b.
    """
    a, b, c = np.asarray(a, float), np.asarray(b, float), np.asarray(c, float)
    s = _sigmoid(D * a * (np.asarray(theta, float) - b))
    p = c + (1.0 - c) * s
    # s / p ≤ 1 / (1 − c); where p underflows to 0, s is 0 too and so is the information.
    ratio = np.divide(s, p, out=np.zeros_like(p), where=p > 0)
    return (D * a) ** 2 * (1.0 - c) * (1.0 - s) * s * ratio


@lru_cache(maxsize=8)
def _grid(points: int, lo: float, hi: float) -> Floats:
    grid = np.linspace(lo, hi, points)
    grid.flags.writeable = False
    return grid


GRID = _grid(61, -4.0, 4.0)
"""The default quadrature grid of :func:`eap`: 61 points, θ from −4 to 4 in steps of 0.133."""


def log_likelihood(
    grid: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike, u: ArrayLike
) -> Floats:
    """Log-likelihood of the responses ``u`` (true or 1 = correct) at each θ of ``grid``.

    In log space, so that 40 items of probability 1e-5 do not underflow to a zero
    posterior. With w = ±z (the sign of the response) and e = exp(−|w|) ≤ 1:
    log σ(w) = min(w, 0) − log(1 + e), exact to 1e-16 without overflow. A wrong answer
    adds log(1 − P) = log(1 − c) + log σ(−z); a right one log P = log σ(z) when c = 0, and
    log(c + (1 − c)·σ(z)) otherwise (P ≥ c > 0, so that logarithm is safe). One exp and
    one or two logs per cell: a 40-item pattern on the default grid takes ~0.1 ms.
    """
    a, b = np.asarray(a, float)[:, None], np.asarray(b, float)[:, None]
    c, right = np.asarray(c, float), np.asarray(u).astype(bool)
    z = D * a * (np.asarray(grid, float)[None, :] - b)
    w = np.where(right[:, None], z, -z)
    e = np.exp(-np.abs(w))
    log_lik = np.minimum(w, 0.0) - np.log(1.0 + e)
    log_lik[~right] += np.log1p(-c[~right])[:, None]
    guessed = right & (c > 0)
    if guessed.any():
        s = np.where(w[guessed] >= 0, 1.0, e[guessed]) / (1.0 + e[guessed])
        cg = c[guessed][:, None]
        log_lik[guessed] = np.log(cg + (1.0 - cg) * s)
    return log_lik.sum(axis=0)


def eap(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    u: ArrayLike,
    *,
    prior_mean: float = 0.0,
    prior_sd: float = 1.0,
    points: int = 61,
    lo: float = -4,
    hi: float = 4,
) -> tuple[float, float]:
    """Expected a posteriori θ and its standard error (the posterior SD) from responses.

    ``a``, ``b``, ``c`` are the parameters of the items given, ``u`` the responses (1 =
    correct, 0 = not; the caller maps partial credit). The posterior is the N(prior_mean,
    prior_sd²) prior times the 3PL likelihood on a fixed grid of ``points`` from ``lo`` to
    ``hi`` (the default grid is built once, at import), normalised after subtracting its
    maximum log value. With no responses it is the prior itself: (0, ≈1). Unlike maximum
    likelihood it is finite for all-correct or all-wrong patterns, which are the rule in
    the first few items of an adaptive test.
    """
    grid = GRID if (points, lo, hi) == (61, -4, 4) else _grid(points, float(lo), float(hi))
    log_post = -0.5 * ((grid - prior_mean) / prior_sd) ** 2
    if np.size(u):
        log_post = log_post + log_likelihood(grid, a, b, c, u)
    weights = np.exp(log_post - log_post.max())
    weights /= weights.sum()
    theta = float(weights @ grid)
    se = float(np.sqrt(weights @ (grid - theta) ** 2))
    return theta, se


def select_next(
    theta: float,
    *,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    available_mask: ArrayLike,
    k: int = 1,
    rng: np.random.Generator,
    topic_ids: ArrayLike | None = None,
    topic_targets: Mapping[int, float] | None = None,
    topic_counts: Mapping[int, int] | None = None,
) -> int:
    """Index of the next item: most informative at θ, randomesque, content-balanced.

    - Only items where ``available_mask`` is true are candidates (the caller excludes
      items already given, unpublished, out of the test's scope).
    - Content balancing: with ``topic_targets`` (topic id → target share, summing to 1),
      ``topic_ids`` (each item's topic) and ``topic_counts`` (topic id → items given so
      far), candidates are limited to the topic furthest behind its target, the largest
      ``share × (n_given + 1) − given``; ties go to the first topic in ``topic_targets``.
      When that topic has no available item left, every available item is a candidate.
    - Exposure control (randomesque, Kingsbury & Zara 1989): a uniform random choice,
      drawn from ``rng``, among the ``k`` most informative candidates; ``k = 1`` is plain
      maximum information (ties to the lowest index).

    Raises ``ValueError`` when no item is available (the caller stops the test first) and
    when ``topic_targets`` come without ``topic_ids``.
    """
    mask = np.asarray(available_mask, dtype=bool)
    if topic_targets:
        if topic_ids is None:
            raise ValueError("topic_targets need topic_ids (each item's topic).")
        counts = topic_counts or {}
        n_given = sum(counts.values())
        topics = list(topic_targets)
        deficits = [topic_targets[t] * (n_given + 1) - counts.get(t, 0) for t in topics]
        behind = topics[int(np.argmax(deficits))]
        in_topic = mask & (np.asarray(topic_ids) == behind)
        if in_topic.any():
            mask = in_topic
    candidates = np.flatnonzero(mask)
    if candidates.size == 0:
        raise ValueError("No item is available to select.")
    info = information(
        theta,
        np.asarray(a, float)[candidates],
        np.asarray(b, float)[candidates],
        np.asarray(c, float)[candidates],
    )
    k = max(1, min(int(k), candidates.size))
    if k == 1:
        return int(candidates[np.argmax(info)])
    top = np.argpartition(info, candidates.size - k)[candidates.size - k :]
    return int(candidates[top[rng.integers(k)]])


def stop_reason(
    n_given: int, se: float, *, min_items: int, max_items: int, target_se: float
) -> str | None:
    """Why the test ends after ``n_given`` items with standard error ``se``, or None.

    ``"precision"`` once at least ``min_items`` were given and SE ≤ ``target_se`` (checked
    first: a test that reached its precision on its last allowed item ended on precision);
    ``"max_items"`` at ``max_items``. The deadline is the caller's business.
    """
    if n_given >= min_items and se <= target_se:
        return STOP_PRECISION
    if n_given >= max_items:
        return STOP_MAX_ITEMS
    return None


def scaled_score(theta: float) -> float:
    """θ on a 0–100 scale: 50 + 10·θ, clipped to [0, 100], rounded to 1 decimal.

    Why this mapping: it is linear, so equal steps of ability are equal steps of score and
    score differences between sittings mean the same everywhere on the scale; 50 is the
    average learner of the calibration population (θ = 0) and 10 points one standard
    deviation, the T-score convention that learners and teachers already read. A
    percentage correct would say nothing in an adaptive test, where everyone answers about
    half of the items right. The default EAP grid bounds θ̂ to [−4, 4], so reported scores
    lie in [10, 90]; the clip only guards other grids.
    """
    return round(float(np.clip(SCALE_MEAN + SCALE_SD * theta, 0.0, 100.0)), 1)


def prior_parameters(difficulty: str, n_choices: int) -> tuple[float, float, float]:
    """Cold-start (a, b, c) for an item not yet calibrated, from its difficulty label.

    b = −1 / 0 / +1 for easy / medium / hard (one SD of the learner population apart),
    a = 1, and c = 1 / ``n_choices`` for choice questions (``n_choices`` ≥ 2), the chance of
    a blind guess; 0 otherwise. The caller passes ``n_choices = 0`` where a blind guess
    cannot score (numeric, text) or is not one in n (multiple-answer questions).
    Raises ``ValueError`` on an unknown label.
    """
    if difficulty not in PRIOR_B:
        raise ValueError(f"Unknown difficulty {difficulty!r}: expected one of {list(PRIOR_B)}.")
    c = 1.0 / n_choices if n_choices >= 2 else 0.0
    return 1.0, PRIOR_B[difficulty], c
