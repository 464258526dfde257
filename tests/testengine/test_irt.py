"""The adaptive-test numbers (testengine.irt): pure numpy, no database."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from testengine import irt

finite_theta = st.floats(-6, 6)
discrimination = st.floats(0.2, 3.0)
difficulty = st.floats(-3, 3)
guessing = st.floats(0.0, 0.5)


def simulate(theta: float, a, b, c, rng: np.random.Generator) -> np.ndarray:
    return (rng.random(len(a)) < irt.p_correct(theta, a, b, c)).astype(int)


# --- the model ----------------------------------------------------------------------------------


@given(a=discrimination, b=difficulty, c=guessing)
def test_probability_lies_between_guessing_and_one_and_rises_with_ability(a, b, c):
    thetas = np.linspace(-6, 6, 121)

    p = irt.p_correct(thetas, a, b, c)

    assert np.all(p > c)
    assert np.all(p < 1)
    assert np.all(np.diff(p) > 0)


@given(a=discrimination, b=difficulty, c=guessing)
def test_probability_at_the_difficulty_is_halfway_above_the_guessing_floor(a, b, c):
    assert irt.p_correct(b, a, b, c) == pytest.approx(c + (1 - c) / 2)


def test_scaling_constant_is_one():
    # D = 1.0: one unit of a·(θ − b) is one logit.
    assert irt.D == 1.0
    assert irt.p_correct(1.0, 1.0, 0.0, 0.0) == pytest.approx(1 / (1 + np.exp(-1)))


def test_probability_broadcasts_thetas_against_items():
    p = irt.p_correct(np.array([[-1.0], [0.0], [1.0]]), [1.0, 2.0], [0.0, 0.5], [0.0, 0.25])

    assert p.shape == (3, 2)
    assert p[1, 0] == pytest.approx(0.5)


@given(a=st.floats(0.3, 3.0), b=difficulty)
def test_information_of_a_2pl_item_peaks_at_its_difficulty(a, b):
    thetas = np.linspace(-8, 8, 16001)

    info = irt.information(thetas, a, b, 0.0)

    assert thetas[np.argmax(info)] == pytest.approx(b, abs=2e-3)
    assert info.max() == pytest.approx(a**2 / 4, rel=1e-6)


@given(theta=st.floats(-4, 4), a=discrimination, b=difficulty, c=guessing)
def test_information_is_the_squared_slope_over_the_binomial_variance(theta, a, b, c):
    h = 1e-5
    slope = (irt.p_correct(theta + h, a, b, c) - irt.p_correct(theta - h, a, b, c)) / (2 * h)
    p = irt.p_correct(theta, a, b, c)

    assert irt.information(theta, a, b, c) == pytest.approx(
        slope**2 / (p * (1 - p)), rel=1e-4, abs=1e-9
    )


def test_guessing_moves_the_information_peak_above_the_difficulty_and_lowers_it():
    thetas = np.linspace(-4, 4, 8001)

    info_2pl = irt.information(thetas, 1.5, 0.0, 0.0)
    info_3pl = irt.information(thetas, 1.5, 0.0, 0.25)

    assert thetas[np.argmax(info_3pl)] > 0.05
    assert info_3pl.max() < info_2pl.max()


def test_information_far_below_the_difficulty_is_zero_not_nan():
    info = irt.information(np.array([-900.0, -40.0, 900.0]), 2.0, 0.0, np.array([0.0, 0.2, 0.0]))

    assert np.all(np.isfinite(info))
    assert np.all(info >= 0)
    assert info[0] == 0.0


# --- EAP ----------------------------------------------------------------------------------------


def test_eap_without_responses_returns_the_prior():
    empty = np.array([])

    theta, se = irt.eap(empty, empty, empty, empty)

    assert theta == pytest.approx(0.0, abs=1e-9)
    assert se == pytest.approx(1.0, abs=1e-3)
    assert irt.eap(empty, empty, empty, empty, prior_mean=0.5, prior_sd=0.8) == pytest.approx(
        (0.5, 0.8), abs=1e-3
    )


def test_eap_equals_the_posterior_mean_computed_directly():
    a, b, c = np.array([1.0, 1.5, 0.7]), np.array([-0.5, 0.3, 1.0]), np.array([0.2, 0.0, 0.25])
    u = np.array([1, 0, 1])
    grid = np.linspace(-4, 4, 61)
    p = irt.p_correct(grid[:, None], a, b, c)
    posterior = np.exp(-0.5 * grid**2) * np.prod(np.where(u == 1, p, 1 - p), axis=1)
    posterior /= posterior.sum()
    mean = posterior @ grid

    theta, se = irt.eap(a, b, c, u)

    assert theta == pytest.approx(mean, abs=1e-12)
    assert se == pytest.approx(np.sqrt(posterior @ (grid - mean) ** 2), abs=1e-12)


@pytest.mark.parametrize("true_theta", [-1.5, 0.0, 0.8, 2.0])
def test_eap_recovers_a_known_ability_and_its_error_shrinks_with_more_items(true_theta):
    rng = np.random.default_rng(20240601)
    n = 400
    a, b, c = rng.lognormal(np.log(1.2), 0.25, n), rng.uniform(-3, 3, n), np.full(n, 0.2)
    u = simulate(true_theta, a, b, c, rng)

    estimates = {m: irt.eap(a[:m], b[:m], c[:m], u[:m]) for m in (10, 50, 400)}

    theta, se = estimates[400]
    assert abs(theta - true_theta) < max(3 * se, 0.1)
    assert abs(theta - true_theta) < 0.4
    assert estimates[10][1] > estimates[50][1] > se
    assert se < 0.2


def test_eap_is_finite_for_long_all_correct_and_all_wrong_patterns():
    n = 300
    a, b, c = np.full(n, 2.5), np.full(n, 3.0), np.zeros(n)

    # every hard item right, every easy item wrong: likelihoods of 1e-300 and below
    high, high_se = irt.eap(a, b, c, np.ones(n))
    low, low_se = irt.eap(a, -b, c, np.zeros(n))

    assert 2.5 < high <= 4.0
    assert -4.0 <= low < -2.5
    assert np.isfinite([high_se, low_se]).all()


def test_eap_on_another_grid():
    a, b, c, u = [1.0] * 4, [0.0] * 4, [0.0] * 4, [1, 1, 1, 0]

    coarse = irt.eap(a, b, c, u, points=31, lo=-3, hi=3)
    fine = irt.eap(a, b, c, u, points=201, lo=-6, hi=6)

    assert coarse[0] == pytest.approx(fine[0], abs=0.01)
    assert irt.eap(a, b, c, u) == pytest.approx(fine, abs=0.01)


# --- selection ----------------------------------------------------------------------------------


@pytest.fixture
def pool():
    rng = np.random.default_rng(7)
    n = 500
    return {
        "a": rng.lognormal(np.log(1.2), 0.3, n),
        "b": rng.normal(0, 1, n),
        "c": rng.uniform(0.1, 0.25, n),
    }


@pytest.mark.parametrize("theta", [-2.0, 0.0, 1.3])
def test_select_with_k_1_picks_the_most_informative_available_item(pool, theta):
    available = np.ones(500, dtype=bool)
    best = int(np.argmax(irt.information(theta, **pool)))
    available[best] = False  # the most informative item was already given
    info = np.where(available, irt.information(theta, **pool), -np.inf)

    chosen = irt.select_next(
        theta, **pool, available_mask=available, k=1, rng=np.random.default_rng(0)
    )

    assert chosen == int(np.argmax(info))
    assert chosen != best


@given(theta=st.floats(-3, 3), k=st.integers(1, 10), seed=st.integers(0, 2**32 - 1))
def test_select_never_returns_an_unavailable_item(theta, k, seed):
    rng = np.random.default_rng(seed)
    n = 60
    a, b, c = rng.lognormal(0, 0.3, n), rng.normal(0, 1, n), rng.uniform(0, 0.25, n)
    available = rng.random(n) < 0.1
    available[rng.integers(n)] = True

    chosen = irt.select_next(theta, a=a, b=b, c=c, available_mask=available, k=k, rng=rng)

    assert available[chosen]


def test_select_with_few_candidates_left_takes_one_of_them(pool):
    available = np.zeros(500, dtype=bool)
    available[[3, 9]] = True

    chosen = {
        irt.select_next(0.0, **pool, available_mask=available, k=5, rng=np.random.default_rng(s))
        for s in range(20)
    }

    assert chosen == {3, 9}


def test_select_refuses_an_empty_pool(pool):
    with pytest.raises(ValueError, match="No item"):
        irt.select_next(
            0.0, **pool, available_mask=np.zeros(500, bool), k=1, rng=np.random.default_rng(0)
        )


def test_content_targets_without_topics_are_refused(pool):
    with pytest.raises(ValueError, match="topic_ids"):
        irt.select_next(
            0.0,
            **pool,
            available_mask=np.ones(500, bool),
            k=1,
            rng=np.random.default_rng(0),
            topic_targets={1: 1.0},
        )


def test_randomesque_spreads_choices_over_the_top_k(pool):
    rng = np.random.default_rng(11)
    info = irt.information(0.4, **pool)
    top5 = set(np.argsort(info)[-5:].tolist())

    picks = [
        irt.select_next(0.4, **pool, available_mask=np.ones(500, bool), k=5, rng=rng)
        for _ in range(500)
    ]

    assert set(picks) == top5
    counts = np.bincount(picks, minlength=500)[sorted(top5)]
    assert counts.min() > 60  # about 100 each: uniform, not "mostly the best"


def test_content_balancing_takes_the_topic_furthest_behind_its_target(pool):
    topic_ids = np.arange(500) % 3  # topics 0, 1, 2
    targets = {0: 0.5, 1: 0.3, 2: 0.2}
    # after 10 items: 5 / 3 / 2 given; the 11th: deficits 0.5, 0.3, 0.2 → topic 0
    counts = {0: 5, 1: 3, 2: 2}
    rng = np.random.default_rng(0)
    args = {"available_mask": np.ones(500, bool), "k": 1, "rng": rng, "topic_ids": topic_ids}

    chosen = irt.select_next(0.0, **pool, **args, topic_targets=targets, topic_counts=counts)

    in_topic = np.where(topic_ids == 0, irt.information(0.0, **pool), -np.inf)
    assert chosen == int(np.argmax(in_topic))
    # topic 2 far behind (0.2 × 11 − 0 = 2.2 against 0.5 × 11 − 6 = −0.5, 0.3 × 11 − 4 = −0.7)
    behind = irt.select_next(
        0.0, **pool, **args, topic_targets=targets, topic_counts={0: 6, 1: 4, 2: 0}
    )
    assert topic_ids[behind] == 2


def test_content_balancing_keeps_shares_close_to_targets_over_a_test(pool):
    topic_ids = np.arange(500) % 4
    targets = {0: 0.4, 1: 0.3, 2: 0.2, 3: 0.1}
    available = np.ones(500, bool)
    counts = dict.fromkeys(targets, 0)
    rng = np.random.default_rng(3)
    for _ in range(20):
        chosen = irt.select_next(
            0.0,
            **pool,
            available_mask=available,
            k=3,
            rng=rng,
            topic_ids=topic_ids,
            topic_targets=targets,
            topic_counts=counts,
        )
        available[chosen] = False
        counts[int(topic_ids[chosen])] += 1

    assert counts == {0: 8, 1: 6, 2: 4, 3: 2}


def test_content_balancing_falls_back_to_every_available_item_when_the_topic_is_used_up(pool):
    topic_ids = np.arange(500) % 2
    available = topic_ids == 1  # nothing left in topic 0
    info = np.where(available, irt.information(0.0, **pool), -np.inf)

    chosen = irt.select_next(
        0.0,
        **pool,
        available_mask=available,
        k=1,
        rng=np.random.default_rng(0),
        topic_ids=topic_ids,
        topic_targets={0: 0.9, 1: 0.1},
        topic_counts={0: 0, 1: 3},
    )

    assert chosen == int(np.argmax(info))


# --- stopping, scores, priors ------------------------------------------------------------------


RULES = {"min_items": 8, "max_items": 40, "target_se": 0.30}


@pytest.mark.parametrize(
    ("n_given", "se", "reason"),
    [
        (0, 1.0, None),
        (7, 0.25, None),  # precise enough, but fewer than the minimum
        (8, 0.30, "precision"),
        (8, 0.31, None),
        (39, 0.35, None),
        (40, 0.35, "max_items"),
        (40, 0.29, "precision"),
        (41, 0.50, "max_items"),
    ],
)
def test_stop_reason(n_given, se, reason):
    assert irt.stop_reason(n_given, se, **RULES) == reason


@given(theta=st.floats(allow_nan=False, allow_infinity=True))
def test_scaled_score_stays_within_0_to_100_with_one_decimal(theta):
    score = irt.scaled_score(theta)

    assert 0.0 <= score <= 100.0
    assert round(score, 1) == score


@pytest.mark.parametrize(
    ("theta", "score"),
    [(0.0, 50.0), (1.0, 60.0), (-2.34, 26.6), (1.26, 62.6), (4.0, 90.0), (6.0, 100.0), (-7.5, 0.0)],
)
def test_scaled_score_is_50_plus_10_theta(theta, score):
    assert irt.scaled_score(theta) == score


@given(st.floats(-5, 5), st.floats(-5, 5))
def test_scaled_score_keeps_the_order_of_abilities(low, high):
    if low <= high:
        assert irt.scaled_score(low) <= irt.scaled_score(high)


@pytest.mark.parametrize(
    ("difficulty", "n_choices", "expected"),
    [
        ("easy", 4, (1.0, -1.0, 0.25)),
        ("medium", 2, (1.0, 0.0, 0.5)),
        ("hard", 5, (1.0, 1.0, 0.2)),
        ("medium", 0, (1.0, 0.0, 0.0)),  # numeric, text: no guessing
        ("hard", 1, (1.0, 1.0, 0.0)),
    ],
)
def test_prior_parameters(difficulty, n_choices, expected):
    assert irt.prior_parameters(difficulty, n_choices) == pytest.approx(expected)


def test_prior_parameters_refuse_an_unknown_label():
    with pytest.raises(ValueError, match="Unknown difficulty"):
        irt.prior_parameters("impossible", 4)
