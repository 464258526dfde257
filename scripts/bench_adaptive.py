"""Simulation report for adaptive tests: how well does our adaptive mode measure?

1,000 simulated examinees with known abilities θ ~ N(0, 1) sit tests drawn from a
synthetic calibrated bank of 1,000 four-choice 3PL items (a ~ lognormal around 1.2,
b ~ N(0, 1), c ~ U(0.10, 0.25)). Compared, on the same bank and examinees:

- **ours**: ``testengine.irt`` as the exam sessions use it — EAP (N(0, 1) prior), maximum
  information with randomesque exposure control (k = 5), no content balancing; stop at
  SE ≤ 0.30 after at least 8 items, or at 40 items;
- **random**: a fixed-length test of randomly drawn items, as long as our mean test,
  scored with the same EAP;
- **catsim** (a dev-only reference): its ``MaxInfoSelector`` (maximum information, no
  exposure control), ``NumericalSearchEstimator`` (maximum likelihood, Dodd's heuristic
  for all-right / all-wrong patterns) and ``MinErrorStopper(0.30, min_items=8,
  max_items=40)``, starting at θ = 0 like ours.

It reports RMSE and bias of θ̂, test length, the share of items shown to more than 20 % of
examinees, and the time ``select_next`` takes on a 10,000-item pool; writes
docs/img/adaptive_rmse.png (RMSE against test length); exits 1 when a goal is missed.
Pure Python, no database; everything is drawn from one seed, so reruns give the same
figures.

    make bench-adaptive        # or: .venv/bin/python scripts/bench_adaptive.py
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from testengine import irt  # noqa: E402 - after the path is set

SEED = 20241122
N_EXAMINEES, N_ITEMS = 1_000, 1_000
TARGET_SE, MIN_ITEMS, MAX_ITEMS, K = 0.30, 8, 40, 5
EXPOSURE_LIMIT = 0.20
POOL_FOR_TIMING, TIMED_CALLS = 10_000, 1_000
TARGET_SELECT_MS = 5.0
PLOT = ROOT / "docs" / "img" / "adaptive_rmse.png"


@dataclass
class Bank:
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray


@dataclass
class Outcome:
    """One design's results: final estimates, lengths, items given, estimates per step."""

    theta_hat: np.ndarray
    lengths: np.ndarray
    exposure: np.ndarray  # per item: share of examinees who were given it
    path: np.ndarray  # (examinee, n items) → θ̂ after n items; NaN once the test stopped


def make_bank(rng: np.random.Generator, n: int) -> Bank:
    return Bank(
        a=rng.lognormal(np.log(1.2), 0.25, n),
        b=rng.normal(0.0, 1.0, n),
        c=rng.uniform(0.10, 0.25, n),
    )


def rmse(estimates: np.ndarray, truth: np.ndarray) -> float:
    return float(np.sqrt(np.mean((estimates - truth) ** 2)))


def exposure_share(outcome: Outcome) -> float:
    return float(np.mean(outcome.exposure > EXPOSURE_LIMIT))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- the designs --------------------------------------------------------------------------------


def run_ours(
    bank: Bank, thetas: np.ndarray, rng: np.random.Generator, *, stop: bool = True
) -> Outcome:
    """Our adaptive mode, item by item, as sessions_app drives it (``stop=False``: all 40)."""
    n_items = len(bank.a)
    given_count = np.zeros(n_items)
    path = np.full((len(thetas), MAX_ITEMS + 1), np.nan)
    finals, lengths = np.empty(len(thetas)), np.empty(len(thetas), dtype=int)
    for person, true_theta in enumerate(thetas):
        available = np.ones(n_items, dtype=bool)
        given, answers = [], []
        theta, se = irt.eap([], [], [], [])
        path[person, 0] = theta
        while True:
            reason = irt.stop_reason(
                len(given), se, min_items=MIN_ITEMS, max_items=MAX_ITEMS, target_se=TARGET_SE
            )
            if len(given) >= MAX_ITEMS or (stop and reason):
                break
            item = irt.select_next(
                theta, a=bank.a, b=bank.b, c=bank.c, available_mask=available, k=K, rng=rng
            )
            available[item] = False
            given.append(item)
            p = irt.p_correct(true_theta, bank.a[item], bank.b[item], bank.c[item])
            answers.append(int(rng.random() < p))
            theta, se = irt.eap(bank.a[given], bank.b[given], bank.c[given], answers)
            path[person, len(given)] = theta
        finals[person], lengths[person] = theta, len(given)
        given_count[given] += 1
    return Outcome(finals, lengths, given_count / len(thetas), path)


def run_random(bank: Bank, thetas: np.ndarray, rng: np.random.Generator, length: int) -> Outcome:
    """Fixed-length tests of random items (every prefix scored, for the plot), EAP-scored."""
    n_items = len(bank.a)
    given_count = np.zeros(n_items)
    path = np.full((len(thetas), MAX_ITEMS + 1), np.nan)
    path[:, 0] = 0.0
    longest = max(length, MAX_ITEMS)
    finals = np.empty(len(thetas))
    for person, true_theta in enumerate(thetas):
        items = rng.choice(n_items, size=longest, replace=False)
        p = irt.p_correct(true_theta, bank.a[items], bank.b[items], bank.c[items])
        answers = (rng.random(longest) < p).astype(int)
        for n in range(1, longest + 1):
            chosen = items[:n]
            theta, _ = irt.eap(bank.a[chosen], bank.b[chosen], bank.c[chosen], answers[:n])
            if n <= MAX_ITEMS:
                path[person, n] = theta
            if n == length:
                finals[person] = theta
        given_count[items[:length]] += 1
    lengths = np.full(len(thetas), length)
    return Outcome(finals, lengths, given_count / len(thetas), path)


def run_catsim(bank: Bank, thetas: np.ndarray, *, stop: bool = True) -> Outcome:
    """catsim's maximum-information CAT on the same bank and examinees."""
    from catsim.estimation import NumericalSearchEstimator
    from catsim.initialization import FixedPointInitializer
    from catsim.item_bank import ItemBank
    from catsim.selection import MaxInfoSelector
    from catsim.simulation import Simulator
    from catsim.stopping import MinErrorStopper

    items = np.column_stack([bank.a, bank.b, bank.c, np.ones_like(bank.a)])
    # stop=False: the same stopper with an SE no test reaches, so every test runs 40 items.
    stopper = MinErrorStopper(TARGET_SE if stop else 1e-9, min_items=MIN_ITEMS, max_items=MAX_ITEMS)
    simulator = Simulator(ItemBank(items), thetas, seed=SEED)
    simulator.simulate(
        FixedPointInitializer(0.0), MaxInfoSelector(), NumericalSearchEstimator(), stopper
    )
    finals = np.array(simulator.latest_estimations, dtype=float)
    lengths = np.array([len(given) for given in simulator.administered_items])
    given_count = np.bincount(np.concatenate(simulator.administered_items), minlength=len(items))
    path = np.full((len(thetas), MAX_ITEMS + 1), np.nan)
    for person, estimates in enumerate(simulator.estimations):
        path[person, : len(estimates)] = estimates
    return Outcome(finals, lengths, given_count / len(thetas), path)


# --- timing -------------------------------------------------------------------------------------


def time_select(rng: np.random.Generator) -> dict[str, list[float]]:
    """``select_next`` on a 10,000-item pool, 400 items already given, k = 5."""
    bank = make_bank(rng, POOL_FOR_TIMING)
    available = np.ones(POOL_FOR_TIMING, dtype=bool)
    available[rng.choice(POOL_FOR_TIMING, 400, replace=False)] = False
    topic_ids = rng.integers(0, 12, POOL_FOR_TIMING)
    targets = dict.fromkeys(range(12), 1 / 12)
    counts = {topic: int(rng.integers(0, 4)) for topic in range(12)}
    cases = {
        "plain": {},
        "content-balanced (12 topics)": {
            "topic_ids": topic_ids,
            "topic_targets": targets,
            "topic_counts": counts,
        },
    }
    timings: dict[str, list[float]] = {}
    for name, extra in cases.items():
        for _ in range(20):  # warm-up
            irt.select_next(
                0.0, a=bank.a, b=bank.b, c=bank.c, available_mask=available, k=K, rng=rng, **extra
            )
        runs = []
        for theta in rng.normal(0.0, 1.0, TIMED_CALLS):
            start = time.perf_counter()
            irt.select_next(
                theta, a=bank.a, b=bank.b, c=bank.c, available_mask=available, k=K, rng=rng, **extra
            )
            runs.append((time.perf_counter() - start) * 1000)
        timings[name] = runs
    return timings


def time_eap(bank: Bank, rng: np.random.Generator) -> list[float]:
    """``eap`` after 40 responses (the longest test)."""
    runs = []
    for _ in range(TIMED_CALLS):
        items = rng.choice(len(bank.a), MAX_ITEMS, replace=False)
        answers = rng.integers(0, 2, MAX_ITEMS)
        start = time.perf_counter()
        irt.eap(bank.a[items], bank.b[items], bank.c[items], answers)
        runs.append((time.perf_counter() - start) * 1_000_000)
    return runs


# --- report -------------------------------------------------------------------------------------


def rmse_by_length(outcome: Outcome, thetas: np.ndarray) -> np.ndarray:
    """RMSE of θ̂ after n items, n = 0 … 40, over the examinees whose test got that far."""
    errors = (outcome.path - thetas[:, None]) ** 2
    return np.sqrt(np.nanmean(errors, axis=0))


def write_plot(
    thetas: np.ndarray, curves: dict[str, Outcome], finals: dict[str, tuple[float, float]]
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6), dpi=120)
    lengths = np.arange(MAX_ITEMS + 1)
    styles = {
        "ours": ("#1f77b4", "-"),
        "catsim": ("#d62728", "--"),
        "random": ("#7f7f7f", ":"),
    }
    for name, outcome in curves.items():
        color, line = styles[name]
        label = {
            "ours": "ours: EAP + max. information, randomesque k = 5",
            "catsim": "catsim: MLE (Dodd's steps while all right/wrong) + max. information",
            "random": "random items, EAP",
        }[name]
        ax.plot(lengths[1:], rmse_by_length(outcome, thetas)[1:], line, color=color, label=label)
    for name, (mean_length, value) in finals.items():
        color, _ = styles[name]
        ax.plot([mean_length], [value], "o", color=color, markersize=8)
        ax.annotate(
            f"{name}, SE stop" if name != "random" else "random, same mean length",
            (mean_length, value),
            textcoords="offset points",
            xytext=(6, -14) if name == "ours" else (6, 6),
            fontsize=8,
            color=color,
        )
    ax.set_xlabel("items given")
    ax.set_ylabel("RMSE of θ̂")
    ax.set_xlim(1, MAX_ITEMS)
    ax.set_ylim(0, 1.2)
    ax.grid(alpha=0.3)
    ax.set_title(
        f"{N_EXAMINEES:,} examinees, θ ~ N(0, 1), {N_ITEMS:,}-item 3PL bank (seed {SEED})\n"
        "lines: every test runs 40 items; dots: stop at SE ≤ 0.30 (min 8, max 40)",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT)
    plt.close(fig)


def line(name: str, outcome: Outcome, thetas: np.ndarray, seconds: float) -> str:
    error = outcome.theta_hat - thetas
    return (
        f"{name:<8} RMSE {rmse(outcome.theta_hat, thetas):.3f}, bias {error.mean():+.3f}, "
        f"length mean {outcome.lengths.mean():.1f} / max {outcome.lengths.max()}, "
        f"items > {EXPOSURE_LIMIT:.0%} exposure {exposure_share(outcome):.1%} "
        f"(max exposure {outcome.exposure.max():.0%}) [{seconds:.1f} s]"
    )


def main() -> int:
    import numpy

    try:
        import catsim  # noqa: F401 - only to fail early with a clear message
    except ImportError:
        sys.exit("catsim is missing: `make install` installs requirements-dev.txt.")
    from importlib.metadata import version

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"numpy {numpy.__version__}, catsim {version('catsim')}"
    )
    rng = np.random.default_rng(SEED)
    bank = make_bank(rng, N_ITEMS)
    thetas = rng.normal(0.0, 1.0, N_EXAMINEES)
    print(
        f"bank: {N_ITEMS:,} 3PL items, a median {np.median(bank.a):.2f}, "
        f"b mean {bank.b.mean():+.2f} sd {bank.b.std():.2f}, c {bank.c.min():.2f}–"
        f"{bank.c.max():.2f}; examinees: {N_EXAMINEES:,}, θ mean {thetas.mean():+.2f} "
        f"sd {thetas.std():.2f}; seed {SEED}"
    )
    print(
        f"stop rule: SE ≤ {TARGET_SE} after ≥ {MIN_ITEMS} items, or {MAX_ITEMS} items; "
        f"ours: EAP on {irt.GRID.size} points, randomesque k = {K}"
    )

    timed = {}

    def run(name, function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        timed[name] = time.perf_counter() - start
        return result

    ours = run("ours", run_ours, bank, thetas, np.random.default_rng(SEED + 1))
    length = round(float(ours.lengths.mean()))
    random_fixed = run("random", run_random, bank, thetas, np.random.default_rng(SEED + 2), length)
    reference = run("catsim", run_catsim, bank, thetas)
    print(line("ours", ours, thetas, timed["ours"]))
    print(line("random", random_fixed, thetas, timed["random"]) + f" (fixed at {length} items)")
    print(line("catsim", reference, thetas, timed["catsim"]))
    long_tests = ours.lengths >= MAX_ITEMS
    print(
        f"ours: {1 - long_tests.mean():.1%} of tests stopped on precision; "
        f"{long_tests.sum()} ran to {MAX_ITEMS} items, true θ of those: "
        + ", ".join(f"{t:+.1f}" for t in np.sort(thetas[long_tests])[:20])
    )

    # The curves of the plot: every test runs 40 items, θ̂ recorded after each.
    ours_40 = run_ours(bank, thetas, np.random.default_rng(SEED + 1), stop=False)
    catsim_40 = run_catsim(bank, thetas, stop=False)
    curve = {
        name: rmse_by_length(o, thetas) for name, o in [("ours", ours_40), ("catsim", catsim_40)]
    }
    random_curve = rmse_by_length(random_fixed, thetas)
    print(
        "RMSE at fixed lengths (no SE stop)   "
        + "  ".join(f"{n:>5}" for n in (5, 10, 15, 20, 30, 40))
    )
    for name, values in [*curve.items(), ("random", random_curve)]:
        print(f"  {name:<34} " + "  ".join(f"{values[n]:.3f}" for n in (5, 10, 15, 20, 30, 40)))
    write_plot(
        thetas,
        {"ours": ours_40, "catsim": catsim_40, "random": random_fixed},
        {
            name: (float(o.lengths.mean()), rmse(o.theta_hat, thetas))
            for name, o in [("ours", ours), ("catsim", reference), ("random", random_fixed)]
        },
    )
    print(f"plot: {PLOT.relative_to(ROOT)}")

    select_ms = time_select(np.random.default_rng(SEED + 3))
    for name, runs in select_ms.items():
        print(
            f"select_next, {POOL_FOR_TIMING:,}-item pool, k = {K}, {name} ({TIMED_CALLS:,} calls): "
            f"median {statistics.median(runs):.3f} ms, p95 {percentile(runs, 0.95):.3f} ms, "
            f"max {max(runs):.3f} ms"
        )
    eap_us = time_eap(bank, np.random.default_rng(SEED + 4))
    print(
        f"eap after {MAX_ITEMS} responses ({TIMED_CALLS:,} calls): median "
        f"{statistics.median(eap_us):.0f} µs, p95 {percentile(eap_us, 0.95):.0f} µs"
    )

    ours_rmse = rmse(ours.theta_hat, thetas)
    goals = [
        (
            ours_rmse <= rmse(reference.theta_hat, thetas),
            f"RMSE {ours_rmse:.3f} ≤ catsim's {rmse(reference.theta_hat, thetas):.3f} "
            "at the same SE stop rule",
        ),
        (
            ours_rmse < rmse(random_fixed.theta_hat, thetas),
            f"RMSE {ours_rmse:.3f} < the random {length}-item test's "
            f"{rmse(random_fixed.theta_hat, thetas):.3f}",
        ),
        (
            statistics.median(select_ms["plain"]) < TARGET_SELECT_MS,
            f"select_next median {statistics.median(select_ms['plain']):.3f} ms on "
            f"{POOL_FOR_TIMING:,} items (target < {TARGET_SELECT_MS:.0f} ms)",
        ),
    ]
    for ok, text in goals:
        print(f"{'PASS' if ok else 'MISSED'}: {text}")
    return 0 if all(ok for ok, _ in goals) else 1


if __name__ == "__main__":
    sys.exit(main())
