"""Item calibration: fit IRT item parameters from scored responses (pure numpy, no database).

The model is the 3PL the adaptive engine uses,
``P(correct | θ) = c + (1 − c) / (1 + exp(−a (θ − b)))``, with ``c`` held fixed at the
item's stored guessing floor (0 for a plain 2PL) and ``a``, ``b`` estimated by **marginal
maximum likelihood** with the EM algorithm of Bock and Aitkin (1981):

- abilities are integrated out over a fixed quadrature grid (``QUADRATURE_POINTS`` equally
  spaced points on ±``QUADRATURE_BOUND``) weighted by the N(0, 1) density, which also fixes
  the scale (the population of sittings has mean 0 and SD 1);
- E step: each sitting's posterior weight at every grid point, from its own responses only;
  summed per item, they give the expected number of attempts ``n_q`` and of correct answers
  ``r_q`` at each ability ``θ_q``;
- M step: per item, a few Fisher-scoring steps on ``Σ_q r_q log P(θ_q) + (n_q − r_q)
  log(1 − P(θ_q))`` in the slope/intercept form ``a θ + d`` (``b = −d / a``), vectorised
  over all items at once. The slope carries a weak log-normal prior (log a ~ N(0, 0.5²),
  BILOG-MG's default), which keeps items answered by a few hundred sittings from running
  off to a = 10; ``a_prior_sd=None`` gives plain MML.

Items with fewer than ``rasch_below`` responses are fitted as **Rasch** items (a fixed at
1, only b estimated): one parameter from thin data is far steadier than two. The choice is
per item, in one joint fit.

Responses are given in long form (sitting index, item index, correct), so an item that a
sitting was not given is simply absent: missing responses are masked, never counted as
wrong. ``responses_from_matrix`` turns a dense matrix with ``NaN`` (or a numpy masked
array) into that form.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

QUADRATURE_POINTS = 41
QUADRATURE_BOUND = 5.0
A_BOUNDS = (0.05, 6.0)
B_BOUNDS = (-6.0, 6.0)
DEFAULT_A_PRIOR_SD = 0.5
# Up to this many sittings × items cells, sums are matrix products over dense 0/1 matrices
# (fast BLAS); above it, sums over the responses themselves, a block at a time.
_DENSE_CELLS = 20_000_000
# Responses × quadrature points processed at once on the sparse path: bounds memory to
# ~50 MB per array whatever the size of the data.
_BLOCK_CELLS = 6_000_000


@dataclass(frozen=True)
class ResponseData:
    """Scored responses in long form: response ``k`` is sitting ``persons[k]`` answering
    item ``items[k]``, ``correct[k]`` true when it was right. Indices start at 0."""

    persons: np.ndarray
    items: np.ndarray
    correct: np.ndarray
    n_persons: int
    n_items: int


@dataclass(frozen=True)
class CalibrationResult:
    """Per item (arrays indexed like the input items): fitted ``a``, ``b``, the fixed
    ``c``, ``rasch`` (true where a was held at 1) and ``responses`` (how many the fit
    used; 0 means the item had none and its a, b are meaningless)."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    rasch: np.ndarray
    responses: np.ndarray
    iterations: int
    converged: bool
    log_likelihood: float


def responses_from_matrix(matrix: np.ndarray | np.ma.MaskedArray) -> ResponseData:
    """Long-form responses from a sittings × items matrix of 1/0 (or true/false). Missing
    entries — ``NaN``, or masked in a masked array — are items the sitting was not given."""
    if isinstance(matrix, np.ma.MaskedArray):
        values = np.asarray(matrix.filled(np.nan), dtype=float)
    else:
        values = np.asarray(matrix, dtype=float)
    if values.ndim != 2:
        raise ValueError("Give a two-dimensional sittings × items matrix.")
    seen = ~np.isnan(values)
    persons, items = np.nonzero(seen)
    answers = values[persons, items]
    if not np.isin(answers, (0.0, 1.0)).all():
        raise ValueError("Responses are 1 (correct), 0 (wrong) or missing.")
    return ResponseData(
        persons=persons,
        items=items,
        correct=answers == 1.0,
        n_persons=values.shape[0],
        n_items=values.shape[1],
    )


def quadrature(
    points: int = QUADRATURE_POINTS, bound: float = QUADRATURE_BOUND
) -> tuple[np.ndarray, np.ndarray]:
    """A fixed grid on ±bound and its N(0, 1) weights (summing to 1)."""
    theta = np.linspace(-bound, bound, points)
    weights = np.exp(-0.5 * theta**2)
    return theta, weights / weights.sum()


def probability(theta: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """P(correct) of each item (rows) at each ability (columns), 3PL."""
    logistic = 1.0 / (1.0 + np.exp(-a[:, None] * (theta[None, :] - b[:, None])))
    return c[:, None] + (1.0 - c[:, None]) * logistic


def _segments(keys: np.ndarray) -> np.ndarray:
    """Start offsets of the runs of equal values in a sorted array."""
    if not len(keys):
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _segment_sums(
    starts: np.ndarray, total: int, width: int, rows: Callable[[int, int], np.ndarray]
) -> np.ndarray:
    """Sums over runs of rows (each run one person or one item), built a block of whole
    runs at a time so a block never holds more than ``_BLOCK_CELLS`` cells."""
    out = np.empty((len(starts), width))
    if not len(starts):
        return out
    block_rows = max(1, _BLOCK_CELLS // width)
    ends = np.r_[starts[1:], total]
    first = 0
    while first < len(starts):
        lo = starts[first]
        # Whole runs whose rows fit in the block (at least one run).
        last = max(first + 1, int(np.searchsorted(ends, lo + block_rows, side="right")))
        hi = ends[last - 1]
        out[first:last] = np.add.reduceat(rows(lo, hi), starts[first:last] - lo, axis=0)
        first = last
    return out


_Sums = tuple[
    Callable[[np.ndarray, np.ndarray], np.ndarray],
    Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
]


def _dense_sums(
    n_persons: int, n_items: int, persons: np.ndarray, items: np.ndarray, correct: np.ndarray
) -> _Sums:
    given = np.zeros((n_persons, n_items))
    right = np.zeros((n_persons, n_items))
    given[persons, items] = 1.0
    right[persons, items] = correct
    wrong = given - right

    def sitting_loglik(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
        return right @ log_p + wrong @ log_q

    def item_weights(post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return given.T @ post, right.T @ post

    return sitting_loglik, item_weights


def _sparse_sums(
    n_persons: int, n_items: int, persons: np.ndarray, items: np.ndarray, correct: np.ndarray
) -> _Sums:
    total = len(persons)
    # Responses ordered by sitting (E step) and by item (M step), with their run starts.
    by_person = np.argsort(persons, kind="stable")
    p_items, p_correct = items[by_person], correct[by_person]
    p_starts = _segments(persons[by_person])
    p_index = persons[by_person][p_starts] if total else np.zeros(0, dtype=np.int64)
    by_item = np.argsort(items, kind="stable")
    i_persons, i_correct = persons[by_item], correct[by_item]
    i_starts = _segments(items[by_item])
    i_index = items[by_item][i_starts] if total else np.zeros(0, dtype=np.int64)

    def sitting_loglik(log_p: np.ndarray, log_q: np.ndarray) -> np.ndarray:
        width = log_p.shape[1]
        out = np.zeros((n_persons, width))

        def rows(lo: int, hi: int) -> np.ndarray:
            chosen = p_items[lo:hi]
            return np.where(p_correct[lo:hi, None], log_p[chosen], log_q[chosen])

        out[p_index] = _segment_sums(p_starts, total, width, rows)
        return out

    def item_weights(post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        width = post.shape[1]
        n_q = np.zeros((n_items, width))
        r_q = np.zeros((n_items, width))
        n_q[i_index] = _segment_sums(i_starts, total, width, lambda lo, hi: post[i_persons[lo:hi]])
        r_q[i_index] = _segment_sums(
            i_starts,
            total,
            width,
            lambda lo, hi: post[i_persons[lo:hi]] * i_correct[lo:hi, None],
        )
        return n_q, r_q

    return sitting_loglik, item_weights


def fit_items(
    data: ResponseData,
    *,
    guessing: np.ndarray | None = None,
    rasch_below: int = 0,
    a_prior_sd: float | None = DEFAULT_A_PRIOR_SD,
    max_iterations: int = 500,
    tolerance: float = 1e-4,
    quadrature_points: int = QUADRATURE_POINTS,
    method: str = "auto",
) -> CalibrationResult:
    """Fit a and b of every item by MML/EM (see the module docstring).

    ``guessing``: each item's fixed c (default 0: the 2PL). ``rasch_below``: items with
    fewer responses than this keep a = 1. Stops when no a or b moves by more than
    ``tolerance`` in one EM cycle, or after ``max_iterations`` cycles. ``method``: "dense"
    (matrix products), "sparse" (sums over the responses; memory grows with the responses,
    not sittings × items) or "auto" (dense up to ``_DENSE_CELLS`` cells); same results.
    """
    n_items = data.n_items
    persons = np.asarray(data.persons, dtype=np.int64)
    items = np.asarray(data.items, dtype=np.int64)
    correct = np.asarray(data.correct, dtype=bool)
    if not (persons.shape == items.shape == correct.shape):
        raise ValueError("persons, items and correct must have the same length.")
    if len(items) and (
        items.min() < 0
        or items.max() >= n_items
        or persons.min() < 0
        or persons.max() >= data.n_persons
    ):
        raise ValueError("A person or item index is out of range.")
    if len(np.unique(persons * n_items + items)) != len(items):
        raise ValueError("At most one response per sitting and item.")
    c = np.zeros(n_items) if guessing is None else np.asarray(guessing, dtype=float).copy()
    if c.shape != (n_items,) or ((c < 0) | (c >= 1)).any():
        raise ValueError("guessing needs one value in [0, 1) per item.")

    counts = np.bincount(items, minlength=n_items)
    rasch = counts < rasch_below
    theta, prior = quadrature(quadrature_points)
    log_prior = np.log(prior)

    # Sums over responses, as two callables: per sitting and grid point, the log-likelihood
    # of its responses; per item and grid point, the posterior weight of the sittings that
    # answered it (and of those that got it right).
    if method not in ("auto", "dense", "sparse"):
        raise ValueError("method is auto, dense or sparse.")
    if method == "dense" or (method == "auto" and data.n_persons * n_items <= _DENSE_CELLS):
        sitting_loglik, item_weights = _dense_sums(data.n_persons, n_items, persons, items, correct)
    else:
        sitting_loglik, item_weights = _sparse_sums(
            data.n_persons, n_items, persons, items, correct
        )

    # Starting values: a = 1, b from the item's proportion correct above guessing.
    right = np.bincount(items, weights=correct.astype(float), minlength=n_items)
    share = (right + 0.5) / (counts + 1.0)
    above = np.clip((share - c) / (1.0 - c), 0.02, 0.98)
    a = np.ones(n_items)
    b = np.clip(-np.log(above / (1.0 - above)) * 1.2, *B_BOUNDS)

    converged = False
    log_likelihood = float("nan")
    iteration = 0
    for iteration in range(1, max_iterations + 1):  # noqa: B007 — reported below
        p = np.clip(probability(theta, a, b, c), 1e-10, 1 - 1e-10)
        log_p, log_q = np.log(p), np.log1p(-p)

        # E step: each sitting's posterior over the grid, from its own responses.
        log_post = sitting_loglik(log_p, log_q) + log_prior
        top = log_post.max(axis=1, keepdims=True)
        post = np.exp(log_post - top)
        total = post.sum(axis=1, keepdims=True)
        post /= total
        log_likelihood = float((np.log(total) + top).sum())
        # Expected attempts (n_q) and correct answers (r_q) per item per grid point.
        n_q, r_q = item_weights(post)

        new_a, new_b = _m_step(theta, n_q, r_q, a, b, c, rasch=rasch, a_prior_sd=a_prior_sd)
        change = max(
            float(np.max(np.abs(new_a - a), initial=0.0)),
            float(np.max(np.abs(new_b - b), initial=0.0)),
        )
        a, b = new_a, new_b
        if change < tolerance:
            converged = True
            break

    return CalibrationResult(
        a=a,
        b=b,
        c=c,
        rasch=rasch,
        responses=counts,
        iterations=iteration,
        converged=converged,
        log_likelihood=log_likelihood,
    )


def _m_step(
    theta: np.ndarray,
    n_q: np.ndarray,
    r_q: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    *,
    rasch: np.ndarray,
    a_prior_sd: float | None,
    steps: int = 3,
) -> tuple[np.ndarray, np.ndarray]:
    """Fisher scoring on each item's expected complete-data log-likelihood, all items at
    once, in (a, d) with d = −a b; Rasch items move d only."""
    slope, intercept = a.copy(), -a * b
    cc = c[:, None]
    for _ in range(steps):
        logistic = 1.0 / (1.0 + np.exp(-(slope[:, None] * theta[None, :] + intercept[:, None])))
        p = np.clip(cc + (1.0 - cc) * logistic, 1e-10, 1 - 1e-10)
        dp = (1.0 - cc) * logistic * (1.0 - logistic)  # ∂P/∂(aθ + d)
        resid = (r_q - n_q * p) * dp / (p * (1.0 - p))
        info = n_q * dp**2 / (p * (1.0 - p))
        g_d = resid.sum(axis=1)
        g_a = (resid * theta).sum(axis=1)
        i_dd = info.sum(axis=1)
        i_ad = (info * theta).sum(axis=1)
        i_aa = (info * theta**2).sum(axis=1)
        if a_prior_sd:
            var = a_prior_sd**2
            g_a = g_a - (1.0 + np.log(slope) / var) / slope  # log-normal density in a
            i_aa = i_aa + 1.0 / (var * slope**2)
        # Rasch items: d alone. Others: the 2 × 2 system (ridge keeps it invertible).
        i_dd = i_dd + 1e-6
        i_aa = i_aa + 1e-6
        det = i_aa * i_dd - i_ad**2
        step_a = np.where(rasch, 0.0, (i_dd * g_a - i_ad * g_d) / det)
        step_d = np.where(rasch, g_d / i_dd, (i_aa * g_d - i_ad * g_a) / det)
        # Damp large steps: EM iterates anyway, and early cycles can overshoot.
        step_a = np.clip(step_a, -0.5, 0.5)
        step_d = np.clip(step_d, -1.0, 1.0)
        slope = np.where(rasch, 1.0, np.clip(slope + step_a, *A_BOUNDS))
        intercept = intercept + step_d
    difficulty = np.clip(-intercept / slope, *B_BOUNDS)
    has_data = n_q.sum(axis=1) > 0
    return np.where(has_data, slope, a), np.where(has_data, difficulty, b)
