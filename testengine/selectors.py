"""Shared reads of the test engine: a topic's subtree and the questions a rule may draw.
Below ``bank`` (the cached candidate pools) and ``paper`` (paper generation), which both
read through these; other apps use them too (learning's practice)."""

from __future__ import annotations

from django.db.models import QuerySet

from testengine.models import Question, SectionRule, Topic


def topic_subtree_ids(topic_ids: list[int]) -> dict[int, list[int]]:
    """For each topic, itself and all its descendants (one query for the whole tree)."""
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Topic.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    result = {}
    for root in topic_ids:
        found, stack, seen = [], [root], set()
        while stack:
            node = stack.pop()
            if node in seen:  # a cycle written by racing edits must not loop forever
                continue
            seen.add(node)
            found.append(node)
            stack.extend(children.get(node, ()))
        result[root] = found
    return result


def rule_candidates(
    rule: SectionRule, subtrees: dict[int, list[int]] | None = None, *, practice: bool = False
) -> QuerySet[Question]:
    """Published questions a rule may draw from, as a queryset (not yet evaluated). Only
    a learner's practice test draws free-practice questions."""
    queryset = Question.objects.filter(status=Question.Status.PUBLISHED)
    if not practice:
        queryset = queryset.filter(free_practice=False)
    if rule.topic_id:
        if rule.include_subtopics:
            subtrees = subtrees or topic_subtree_ids([rule.topic_id])
            queryset = queryset.filter(topic_id__in=subtrees[rule.topic_id])
        else:
            queryset = queryset.filter(topic_id=rule.topic_id)
    if rule.difficulty:
        queryset = queryset.filter(difficulty=rule.difficulty)
    if rule.question_type:
        queryset = queryset.filter(type=rule.question_type)
    if rule.tags:
        queryset = queryset.filter(tags__contains=list(rule.tags))
    return queryset
