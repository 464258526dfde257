"""Plug-in points of adaptive tests: the ability estimator and the item selector.

Each is a small protocol; the classes in use are named by dotted paths in settings
(``ADAPTIVE_ESTIMATOR``, ``ADAPTIVE_SELECTOR``), so the AI team's models replace ours
without a code change here. The built-ins wrap :mod:`testengine.irt`. Everything is pure:
arrays in, numbers out, no database. Django is imported only inside :func:`get_estimator`
and :func:`get_selector`, so the numerical code and its tests run without settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from testengine import irt


@runtime_checkable
class AbilityEstimator(Protocol):
    def estimate(
        self, a: ArrayLike, b: ArrayLike, c: ArrayLike, u: ArrayLike
    ) -> tuple[float, float]:
        """(θ̂, standard error) from the parameters of the items given and the responses
        (1 correct, 0 not), in the order given."""
        ...


@runtime_checkable
class ItemSelector(Protocol):
    def select(
        self,
        theta: float,
        *,
        a: ArrayLike,
        b: ArrayLike,
        c: ArrayLike,
        available_mask: ArrayLike,
        k: int,
        rng: np.random.Generator,
        topic_ids: ArrayLike | None,
        topic_targets: Mapping[object, float] | None,
        topic_counts: Mapping[object, int] | None,
    ) -> int:
        """Index (into the arrays) of the next item to give; never an unavailable one."""
        ...


class EAPEstimator:
    """EAP with a N(0, 1) prior on the default 61-point grid (:func:`testengine.irt.eap`)."""

    def estimate(
        self, a: ArrayLike, b: ArrayLike, c: ArrayLike, u: ArrayLike
    ) -> tuple[float, float]:
        return irt.eap(a, b, c, u)


class MaxInfoSelector:
    """Maximum information, randomesque among the top k, content-balanced
    (:func:`testengine.irt.select_next`)."""

    def select(
        self,
        theta: float,
        *,
        a: ArrayLike,
        b: ArrayLike,
        c: ArrayLike,
        available_mask: ArrayLike,
        k: int,
        rng: np.random.Generator,
        topic_ids: ArrayLike | None,
        topic_targets: Mapping[object, float] | None,
        topic_counts: Mapping[object, int] | None,
    ) -> int:
        return irt.select_next(
            theta,
            a=a,
            b=b,
            c=c,
            available_mask=available_mask,
            k=k,
            rng=rng,
            topic_ids=topic_ids,
            topic_targets=topic_targets,
            topic_counts=topic_counts,
        )


def get_estimator() -> AbilityEstimator:
    """A new instance of the class named by ``settings.ADAPTIVE_ESTIMATOR``."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.ADAPTIVE_ESTIMATOR)()


def get_selector() -> ItemSelector:
    """A new instance of the class named by ``settings.ADAPTIVE_SELECTOR``."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    return import_string(settings.ADAPTIVE_SELECTOR)()
