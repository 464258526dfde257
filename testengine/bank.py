"""The question bank's version and the per-rule candidate pools cached under it.

Any write that can change which questions a rule may draw calls :func:`bank_changed`
(inside its transaction). :func:`candidate_pools` returns, for each rule, the sorted ids of
the published questions matching it: from this process's memory, else the shared cache
(Redis in production), else the database — keyed by the bank version, so a stale pool is
never served once the change has committed.
"""

from __future__ import annotations

import hashlib
import threading
from array import array
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterable

from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet

from testengine.models import SectionQuestion, SectionRule, Test
from testengine.selectors import rule_candidates, topic_subtree_ids

POOL_TIMEOUT = 24 * 3600
LOCAL_POOLS_MAX = 512

_local: OrderedDict[str, array] = OrderedDict()
_local_lock = threading.Lock()


def bank_changed() -> None:
    """Bump the bank version (one row; the lock it takes is held to the end of the
    caller's transaction, so concurrent bank writes queue rather than race)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO testengine_questionbankstate (id, version) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET version = testengine_questionbankstate.version + 1"
        )


def bank_version() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version FROM testengine_questionbankstate WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else 0


def rule_signature(rule: SectionRule) -> str:
    parts = (
        rule.topic_id,
        rule.include_subtopics,
        rule.difficulty,
        rule.question_type,
        tuple(sorted(rule.tags)),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def _remember(key: str, pool: array) -> None:
    with _local_lock:
        _local[key] = pool
        _local.move_to_end(key)
        while len(_local) > LOCAL_POOLS_MAX:
            _local.popitem(last=False)


def forget_local_pools() -> None:
    """Drop this process's copies (tests; the shared cache is keyed by version anyway)."""
    with _local_lock:
        _local.clear()


def candidate_pools(
    rules: Iterable[SectionRule], *, use_cache: bool = True, practice: bool = False
) -> dict[int, array]:
    """Sorted candidate ids per rule id, each an ``array('q')``. ``practice``: the rules
    of a learner's practice test, which may also draw the free practice pool."""
    rules = list(rules)
    if not rules:
        return {}
    version = bank_version()
    kind = "practice" if practice else "pool"
    keys = {rule.id: f"testengine:{kind}:v{version}:{rule_signature(rule)}" for rule in rules}
    pools: dict[int, array] = {}
    if use_cache:
        with _local_lock:
            for rule in rules:
                if keys[rule.id] in _local:
                    pools[rule.id] = _local[keys[rule.id]]
        missing = [rule for rule in rules if rule.id not in pools]
        if missing:
            shared = cache.get_many([keys[rule.id] for rule in missing])
            for rule in missing:
                if keys[rule.id] in shared:
                    pools[rule.id] = shared[keys[rule.id]]
                    _remember(keys[rule.id], pools[rule.id])
    missing = [rule for rule in rules if rule.id not in pools]
    if missing:
        topics = [rule.topic_id for rule in missing if rule.topic_id]
        subtrees = topic_subtree_ids(topics) if topics else {}
        fresh: dict[str, array] = {}
        for rule in missing:
            ids = (
                rule_candidates(rule, subtrees, practice=practice)
                .order_by("id")
                .values_list("id", flat=True)
            )
            pools[rule.id] = array("q", ids)
            fresh[keys[rule.id]] = pools[rule.id]
            _remember(keys[rule.id], pools[rule.id])
        if use_cache:
            cache.set_many(fresh, timeout=POOL_TIMEOUT)
    return pools


def questions_in_tests(question_ids: Iterable[int], tests: QuerySet[Test]) -> set[int]:
    """Which of ``question_ids`` sit in any of ``tests`` (a queryset of tests): listed in
    a fixed section, or drawable by a rule (from the cached pools). Two queries and the
    pools' lookups, however many tests."""
    wanted = set(question_ids)
    if not wanted:
        return set()
    found = set(
        SectionQuestion.objects.filter(section__test__in=tests, question_id__in=wanted).values_list(
            "question_id", flat=True
        )
    )
    rules = SectionRule.objects.filter(section__test__in=tests).exclude(section__test__mode="fixed")
    for pool in candidate_pools(rules).values():
        for pk in wanted - found:
            at = bisect_left(pool, pk)
            if at < len(pool) and pool[at] == pk:
                found.add(pk)
    return found
