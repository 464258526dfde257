"""Benchmark: item calibration recovers known parameters (no database).

Simulates 2,000 sittings with θ ~ N(0, 1) answering a 200-item bank under the 2PL with
known a (log-normal, median 1) and b (N(0, 1)). Sittings see random parts of the bank, as
random-mode papers do: 160 items are each given to ~60 % of the sittings; 20 "new" items
to ~15 % (≈ 300 responses: fitted as Rasch items, below ``RASCH_BELOW``); 20 "fresh" items
to ~5 % (≈ 100 responses: below ``MIN_RESPONSES``, so they keep their priors, as the
service does). Everything else is missing, not wrong.

Then ``testengine.irt_fit.fit_items`` fits every item with enough responses and the
script prints the correlation of fitted with true b (goal ≥ 0.9: PASS/MISSED) and of a,
the RMSE of both, and the fit time. Exit status 1 when the goal is missed.

    .venv/bin/python scripts/bench_calibration.py   (or: make bench-calibration)
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testengine.irt_fit import ResponseData, fit_items  # noqa: E402

SEED = 20261122
SITTINGS, ITEMS = 2_000, 200
MIN_RESPONSES, RASCH_BELOW = 200, 500
GOAL_B_CORRELATION = 0.9


def simulate(rng: np.random.Generator) -> tuple[ResponseData, np.ndarray, np.ndarray]:
    theta = rng.standard_normal(SITTINGS)
    a = np.exp(rng.normal(0.0, 0.3, ITEMS))
    b = rng.normal(0.0, 1.0, ITEMS)
    exposure = np.r_[np.full(160, 0.60), np.full(20, 0.15), np.full(20, 0.05)]
    given = rng.random((SITTINGS, ITEMS)) < exposure[None, :]
    p = 1.0 / (1.0 + np.exp(-a[None, :] * (theta[:, None] - b[None, :])))
    answers = rng.random((SITTINGS, ITEMS)) < p
    persons, items = np.nonzero(given)
    data = ResponseData(
        persons=persons,
        items=items,
        correct=answers[persons, items],
        n_persons=SITTINGS,
        n_items=ITEMS,
    )
    return data, a, b


def main() -> int:
    rng = np.random.default_rng(SEED)
    data, true_a, true_b = simulate(rng)
    counts = np.bincount(data.items, minlength=ITEMS)
    keep = counts >= MIN_RESPONSES
    # As the service does: items below the minimum are left out of the fit entirely.
    chosen = keep[data.items]
    remap = np.cumsum(keep) - 1
    fitted_data = ResponseData(
        persons=data.persons[chosen],
        items=remap[data.items[chosen]],
        correct=data.correct[chosen],
        n_persons=SITTINGS,
        n_items=int(keep.sum()),
    )

    start = time.perf_counter()
    result = fit_items(fitted_data, rasch_below=RASCH_BELOW)
    seconds = time.perf_counter() - start

    b_true, a_true = true_b[keep], true_a[keep]
    two_pl = ~result.rasch
    r_b = float(np.corrcoef(result.b, b_true)[0, 1])
    r_a = float(np.corrcoef(result.a[two_pl], a_true[two_pl])[0, 1])
    rmse_b = float(np.sqrt(np.mean((result.b - b_true) ** 2)))
    rmse_a = float(np.sqrt(np.mean((result.a[two_pl] - a_true[two_pl]) ** 2)))
    r_b_2pl = float(np.corrcoef(result.b[two_pl], b_true[two_pl])[0, 1])
    r_b_rasch = float(np.corrcoef(result.b[result.rasch], b_true[result.rasch])[0, 1])

    print(f"python {platform.python_version()} · numpy {np.__version__} · {platform.machine()}")
    print(
        f"data: {SITTINGS:,} sittings × {ITEMS} items, {len(data.items):,} responses "
        f"({len(data.items) / (SITTINGS * ITEMS):.0%} of the matrix; the rest missing)"
    )
    print(
        f"items: {int(two_pl.sum())} fitted 2PL, {int(result.rasch.sum())} Rasch "
        f"(< {RASCH_BELOW} responses), {int((~keep).sum())} kept their prior "
        f"(< {MIN_RESPONSES} responses)"
    )
    print(
        f"fit: {seconds:.2f} s, {result.iterations} EM cycles, "
        f"{'converged' if result.converged else 'NOT converged'}"
    )
    print(
        f"b: r = {r_b:.3f} (2PL items {r_b_2pl:.3f}, Rasch items {r_b_rasch:.3f}), "
        f"RMSE {rmse_b:.3f}"
    )
    print(f"a (2PL items): r = {r_a:.3f}, RMSE {rmse_a:.3f}")
    ok = r_b >= GOAL_B_CORRELATION
    print(
        f"{'PASS' if ok else 'MISSED'}: correlation of fitted with true b {r_b:.3f} "
        f"(goal ≥ {GOAL_B_CORRELATION})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
