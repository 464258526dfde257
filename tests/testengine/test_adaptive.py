"""The adaptive plug-in points (testengine.adaptive): settings only, no database."""

from __future__ import annotations

import numpy as np
import pytest

from testengine import adaptive, irt


class FixedEstimator:
    def estimate(self, a, b, c, u):
        return 1.5, 0.2


def test_built_ins_are_the_default_plug_ins():
    estimator, selector = adaptive.get_estimator(), adaptive.get_selector()

    assert type(estimator) is adaptive.EAPEstimator
    assert type(selector) is adaptive.MaxInfoSelector
    assert isinstance(estimator, adaptive.AbilityEstimator)
    assert isinstance(selector, adaptive.ItemSelector)


def test_the_estimator_is_the_class_named_in_settings(settings):
    settings.ADAPTIVE_ESTIMATOR = f"{__name__}.FixedEstimator"

    estimator = adaptive.get_estimator()

    assert isinstance(estimator, FixedEstimator)
    assert estimator.estimate([], [], [], []) == (1.5, 0.2)


def test_an_unknown_plug_in_path_fails_loudly(settings):
    settings.ADAPTIVE_SELECTOR = "testengine.adaptive.NoSuchSelector"

    with pytest.raises(ImportError):
        adaptive.get_selector()


def test_built_ins_give_what_irt_gives():
    a, b, c, u = [1.2, 0.8, 1.5], [-0.5, 0.0, 0.7], [0.2, 0.25, 0.0], [1, 1, 0]
    pool = {"a": np.array([1.0, 2.0, 1.0]), "b": np.array([0.0, 0.1, 3.0]), "c": np.zeros(3)}

    assert adaptive.EAPEstimator().estimate(a, b, c, u) == irt.eap(a, b, c, u)
    chosen = adaptive.MaxInfoSelector().select(
        0.0,
        **pool,
        available_mask=np.array([True, True, True]),
        k=1,
        rng=np.random.default_rng(0),
        topic_ids=None,
        topic_targets=None,
        topic_counts=None,
    )
    assert chosen == 1
