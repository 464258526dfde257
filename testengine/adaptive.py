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
        topic_targets: Mapping[int, float] | None,
        topic_counts: Mapping[int, int] | None,
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
        topic_targets: Mapping[int, float] | None,
        topic_counts: Mapping[int, int] | None,
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


# --- the AI team's models over HTTP (contract: docs/models.md) -----------------------------------


def _floats(values: ArrayLike) -> list[float]:
    return [float(v) for v in np.asarray(values, dtype=float).ravel()]


class RemoteEstimator:
    """``POST {MODELS_REMOTE_URL}/ability`` with the items given and the responses;
    falls back to :class:`EAPEstimator` on a timeout, an error or a nonsensical answer."""

    fallback = EAPEstimator

    def estimate(
        self, a: ArrayLike, b: ArrayLike, c: ArrayLike, u: ArrayLike
    ) -> tuple[float, float]:
        from core.remote import RemoteModelError, call_model

        payload = {"a": _floats(a), "b": _floats(b), "c": _floats(c), "u": _floats(u)}
        try:
            body = call_model("ability", payload)
            theta, se = float(body["theta"]), float(body["se"])
            if not (np.isfinite(theta) and np.isfinite(se) and se > 0 and abs(theta) <= 10):
                raise ValueError("theta or se out of range")
        except (RemoteModelError, KeyError, TypeError, ValueError):
            return self.fallback().estimate(a, b, c, u)
        return theta, se


class RemoteSelector:
    """``POST {MODELS_REMOTE_URL}/next-item`` with θ̂, the pool's parameters and what is
    still available; falls back to :class:`MaxInfoSelector` on a timeout, an error, or an
    index that is not an available item."""

    fallback = MaxInfoSelector

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
        topic_targets: Mapping[int, float] | None,
        topic_counts: Mapping[int, int] | None,
    ) -> int:
        from core.remote import RemoteModelError, call_model

        mask = np.asarray(available_mask, dtype=bool)
        payload = {
            "theta": float(theta),
            "a": _floats(a),
            "b": _floats(b),
            "c": _floats(c),
            "available": [int(i) for i in np.flatnonzero(mask)],
            "k": int(k),
            "topics": None if topic_ids is None else [int(t) for t in np.asarray(topic_ids)],
            "topic_targets": None
            if topic_targets is None
            else {str(key): float(v) for key, v in topic_targets.items()},
            "topic_counts": None
            if topic_counts is None
            else {str(key): int(v) for key, v in topic_counts.items()},
        }
        try:
            index = int(call_model("next-item", payload)["index"])
            if not (0 <= index < len(mask) and mask[index]):
                raise ValueError("not an available item")
        except (RemoteModelError, KeyError, TypeError, ValueError):
            return self.fallback().select(
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
        return index


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
