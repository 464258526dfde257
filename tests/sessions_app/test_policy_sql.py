"""The rules of ``sessions_app.policy`` in SQL (``sessions_app.policy_sql``) say what the
pure functions say, over every combination of the facts they read."""

from __future__ import annotations

import itertools
import uuid
from datetime import timedelta

import pytest
from django.db.models import BooleanField, DateTimeField, IntegerField, UUIDField, Value
from django.utils import timezone

from sessions_app import policy
from sessions_app.policy_sql import status_filter
from sessions_app.selectors import sitting_facts
from testengine.models import Test
from tests.testengine.factories import TestFactory

pytestmark = pytest.mark.django_db

MINUTE = timedelta(minutes=1)


def _tests(now) -> list[Test]:
    """One test per shape the start rule reads: window, attempts allowed, minimum gap."""
    windows = [
        (None, None),
        (now - MINUTE, now + MINUTE),
        (now + MINUTE, None),  # not open yet
        (None, now),  # closes exactly now: closed
        (now, None),  # opens exactly now: open
        (now - 2 * MINUTE, now - MINUTE),  # over
    ]
    return [
        TestFactory(
            available_from=opens,
            available_until=closes,
            max_attempts=attempts,
            min_gap_seconds=gap,
        )
        for (opens, closes), attempts, gap in itertools.product(windows, [None, 1, 3], [0, 1800])
    ]


FACTS = list(
    itertools.starmap(
        policy.SittingFacts,
        itertools.product(
            [0, 1, 2, 3],  # attempts used
            [0, 2],  # extra attempts granted
            [None, -5, -30, -31, 10],  # minutes from now the last attempt ended (10: a deadline)
            [None, uuid.UUID(int=7)],  # the open sitting
            [False, True],  # submitted any
        ),
    )
)


def _with_facts(facts: policy.SittingFacts, now):
    ended = None if facts.last_ended_at is None else now + facts.last_ended_at * MINUTE
    return policy.SittingFacts(
        facts.attempts_used, facts.extra_attempts, ended, facts.open_session, facts.has_submitted
    ), Test.objects.annotate(
        attempts_used=Value(facts.attempts_used, IntegerField()),
        extra_attempts=Value(facts.extra_attempts, IntegerField()),
        last_ended_at=Value(ended, DateTimeField()),
        open_session=Value(facts.open_session, UUIDField()),
        has_submitted=Value(facts.has_submitted, BooleanField()),
    )


@pytest.mark.parametrize("status", policy.LISTING_STATUSES)
def test_the_status_filter_is_in_status_for_every_combination_of_facts(status):
    now = timezone.now()
    tests = _tests(now)
    assert len(tests) * len(FACTS) == 36 * 160
    for template in FACTS:
        facts, annotated = _with_facts(template, now)
        in_sql = set(
            annotated.filter(pk__in=[t.pk for t in tests])
            .filter(status_filter(status, now=now))
            .values_list("pk", flat=True)
        )
        in_python = {t.pk for t in tests if policy.in_status(status, t, facts, now=now)}
        assert in_sql == in_python, (status, facts)


def test_the_facts_of_a_listed_row_are_its_annotations():
    now = timezone.now()
    test = TestFactory()
    facts, annotated = _with_facts(policy.SittingFacts(2, 1, -5, uuid.UUID(int=3), True), now)

    assert sitting_facts(annotated.get(pk=test.pk)) == facts


def test_an_unknown_status_is_no_filter():
    now = timezone.now()
    with pytest.raises(ValueError, match="no such status"):
        status_filter("done", now=now)
    with pytest.raises(ValueError, match="no such status"):
        policy.in_status("done", TestFactory(), policy.SittingFacts(), now=now)
