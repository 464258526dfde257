"""The item pool of an adaptive test, as arrays the selector works on.

An adaptive test's rules set its scope (the union of their candidate pools: published
questions of those topics, difficulties, types, tags) and its content balance (each rule's
``count`` over the total is its target share; an item counts for the first rule whose pool
holds it). The pool's ids come from :func:`testengine.bank.candidate_pools` (cached per
bank version); the IRT parameters are read with them. The result is kept in this process
for ``ADAPTIVE_POOL_SECONDS`` (60 s) under the bank version, so a thousand learners'
next-item choices cost no query, and a calibration's new parameters show within a minute.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from testengine.bank import bank_version, candidate_pools
from testengine.errors import PaperUnavailable
from testengine.models import Question, Section, Test

_cache: dict[tuple[int, int], tuple[float, AdaptivePool]] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class AdaptiveSettings:
    min_items: int
    max_items: int
    target_se: float
    randomesque_k: int

    @classmethod
    def of(cls, test: Test) -> AdaptiveSettings:
        config = test.adaptive_config or {}
        max_items = int(config.get("max_items", 30))
        return cls(
            min_items=min(int(config.get("min_items", 5)), max_items),
            max_items=max_items,
            target_se=float(config.get("target_se", 0.3)),
            randomesque_k=max(1, int(config.get("randomesque_k", 5))),
        )


@dataclass(frozen=True)
class AdaptivePool:
    section: Section  # the test's first section: its marking applies to every item
    ids: np.ndarray  # int64, sorted
    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    groups: np.ndarray  # the index of the rule each item counts for
    targets: dict[int, float]  # rule index → target share
    _index: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._index.update({int(pk): i for i, pk in enumerate(self.ids)})

    def positions(self, question_ids: Iterable[int]) -> list[int]:
        return [self._index[pk] for pk in question_ids if pk in self._index]

    def __len__(self) -> int:
        return len(self.ids)


def adaptive_pool(test: Test) -> AdaptivePool:
    """The test's pool (see the module docstring); raises ``PaperUnavailable`` when the
    test has no rules or no published item matches them."""
    version = bank_version()
    key = (test.pk, version)
    now = time.monotonic()
    with _lock:
        hit = _cache.get(key)
        if hit is not None and now - hit[0] < settings.ADAPTIVE_POOL_SECONDS:
            return hit[1]
    pool = _load(test)
    with _lock:
        for stale in [k for k in _cache if k[0] == test.pk]:
            del _cache[stale]
        _cache[key] = (now, pool)
    return pool


def forget_pools() -> None:
    with _lock:
        _cache.clear()


def _load(test: Test) -> AdaptivePool:
    sections = list(test.sections.order_by("order", "id").prefetch_related("rules"))
    rules = [rule for section in sections for rule in section.rules.all()]
    if not sections or not rules:
        raise PaperUnavailable("An adaptive test needs at least one rule (its item pool).")
    pools = candidate_pools(rules)
    group_of: dict[int, int] = {}
    for index, rule in enumerate(rules):
        for pk in pools[rule.id]:
            group_of.setdefault(pk, index)
    if not group_of:
        raise PaperUnavailable("No published question matches this adaptive test's rules.")
    rows = sorted(
        Question.objects.filter(
            pk__in=list(group_of), status=Question.Status.PUBLISHED
        ).values_list("id", "irt_a", "irt_b", "irt_c")
    )
    if not rows:
        raise PaperUnavailable("No published question matches this adaptive test's rules.")
    data = np.array(rows, dtype=float)
    total = sum(max(rule.count, 0) for rule in rules) or len(rules)
    return AdaptivePool(
        section=sections[0],
        ids=data[:, 0].astype(np.int64),
        a=data[:, 1].copy(),
        b=data[:, 2].copy(),
        c=data[:, 3].copy(),
        groups=np.array([group_of[int(pk)] for pk in data[:, 0]], dtype=np.int64),
        targets={index: max(rule.count, 0) / total for index, rule in enumerate(rules)},
    )
