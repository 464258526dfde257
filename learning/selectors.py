"""Reads of the learning app: mastery rows, and the tests of a learner's enrollments with
the topics they cover (the recommender's input)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from catalogue.models import ProductTest
from catalogue.selectors import live_enrollments
from learning.models import TopicMastery
from learning.recommenders import CandidateTest, MasteryRow
from sessions_app.selectors import solution_open_sittings
from testengine.bank import questions_in_tests
from testengine.models import Question, SectionQuestion, SectionRule, Test, Topic

if TYPE_CHECKING:
    from accounts.models import User

ORDERINGS = {
    "weakest": ("theta", "-responses", "topic_id"),
    "strongest": ("-theta", "-responses", "topic_id"),
    "least_confident": ("-se", "theta", "topic_id"),
    "recent": ("-updated_at", "topic_id"),
    "topic": ("topic__name", "topic_id"),
}


def mastery_of(*, user: User, order: str = "weakest") -> QuerySet[TopicMastery]:
    """The learner's mastery rows with their topics (one query per page)."""
    return (
        TopicMastery.objects.filter(user=user).select_related("topic").order_by(*ORDERINGS[order])
    )


def mastery_rows_from(rows: list[TopicMastery]) -> list[MasteryRow]:
    """Mastery rows (with their topics) as the recommender's plain data."""
    return [
        MasteryRow(
            topic_id=row.topic_id,
            topic=row.topic.name,
            mastery=row.mastery,
            confidence=row.confidence,
            theta=row.theta,
            se=row.se,
            responses=row.responses,
            correct=row.correct,
        )
        for row in rows
    ]


def practice_question_ids(*, user: User, now: datetime) -> frozenset[int]:
    """The questions this learner may practise: published questions of the free practice
    pool, and the questions of their own submitted sittings whose solutions they may
    already read — less any question that sits in a test whose solutions are still
    closed to them (a test they have not bought, not yet sat, or whose policy has not
    opened; a draft test counts as closed). A practice review therefore never shows an
    answer the learner could not already read."""
    open_tests, revealed = solution_open_sittings(user=user, now=now)
    free = set(
        Question.objects.filter(status=Question.Status.PUBLISHED, free_practice=True).values_list(
            "id", flat=True
        )
    )
    if revealed:
        revealed = set(
            Question.objects.filter(status=Question.Status.PUBLISHED, pk__in=revealed).values_list(
                "id", flat=True
            )
        )
    wanted = free | revealed
    closed = Test.objects.curated().exclude(pk__in=open_tests)
    return frozenset(wanted - questions_in_tests(wanted, closed))


def enrolled_tests(*, user: User, now: datetime) -> QuerySet[Test]:
    """Published tests (never practice tests) in the products of the learner's live
    enrollments, unlocked and not closed. Free products the learner has not enrolled in
    do not count: recommendations come from what the learner chose."""
    owned = live_enrollments(user=user, at=now).filter(product_id=OuterRef("product_id"))
    unlocked = Q(unlock_at__isnull=True) | Q(unlock_at__lte=now)
    grants = ProductTest.objects.filter(unlocked, Exists(owned), test_id=OuterRef("pk"))
    return Test.objects.curated().filter(
        Exists(grants),
        Q(available_until__isnull=True) | Q(available_until__gt=now),
        is_published=True,
    )


def candidate_tests(*, user: User, now: datetime) -> list[CandidateTest]:
    """The learner's enrolled tests, each with every topic it asks about — a rule's topic
    (and its subtree, when the rule includes subtopics), a hand-picked question's topic —
    plus their ancestors, so a test on "Joins" covers "SQL" too. Four queries, however
    many tests or enrollments."""
    tests = list(
        enrolled_tests(user=user, now=now)
        .order_by("title", "id")
        .values("id", "slug", "title", "mode", "duration_seconds")
    )
    if not tests:
        return []
    ids = [test["id"] for test in tests]
    parents: dict[int, int | None] = {}
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Topic.objects.values_list("id", "parent_id"):
        parents[pk] = parent_id
        children.setdefault(parent_id, []).append(pk)

    def below(root: int) -> set[int]:
        found, stack = set(), [root]
        while stack:
            node = stack.pop()
            if node not in found:  # a cycle written by racing edits must not loop forever
                found.add(node)
                stack.extend(children.get(node, ()))
        return found

    def above(node: int | None) -> set[int]:
        found: set[int] = set()
        while node is not None and node not in found:
            found.add(node)
            node = parents.get(node)
        return found

    covered: dict[int, set[int]] = {pk: set() for pk in ids}
    for test_id, topic_id, subtopics in SectionRule.objects.filter(
        section__test_id__in=ids, topic__isnull=False
    ).values_list("section__test_id", "topic_id", "include_subtopics"):
        covered[test_id] |= above(topic_id) | (below(topic_id) if subtopics else set())
    for test_id, topic_id in SectionQuestion.objects.filter(section__test_id__in=ids).values_list(
        "section__test_id", "question__topic_id"
    ):
        covered[test_id] |= above(topic_id)
    return [
        CandidateTest(
            slug=test["slug"],
            title=test["title"],
            mode=test["mode"],
            duration_seconds=test["duration_seconds"],
            topic_ids=frozenset(covered[test["id"]]),
        )
        for test in tests
    ]
