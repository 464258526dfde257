"""Topic tree writes."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models.deletion import ProtectedError
from django.utils.text import slugify

from core.errors import Conflict
from testengine.errors import QuestionInvalid, TopicInUse
from testengine.models import Topic


def _check_parent(topic: Topic | None, parent: Topic | None) -> None:
    node = parent
    while node is not None and topic is not None and topic.pk:
        if node.pk == topic.pk:
            raise QuestionInvalid(fields={"parent": ["A topic cannot sit under itself."]})
        node = node.parent


@transaction.atomic
def topic_create(
    *, name: str, parent: Topic | None = None, slug: str = "", order: int = 0, description: str = ""
) -> Topic:
    """A new node in the topic tree; names are unique among siblings, slugs globally."""
    topic = Topic(
        name=name.strip(),
        parent=parent,
        slug=slug or slugify(name)[:140],
        order=order,
        description=description,
    )
    return _save(topic)


@transaction.atomic
def topic_update(*, topic: Topic, **changes: Any) -> Topic:
    if "parent" in changes:
        _check_parent(topic, changes["parent"])
    for name, value in changes.items():
        setattr(topic, name, value.strip() if name == "name" else value)
    return _save(topic)


def _save(topic: Topic) -> Topic:
    if not topic.slug:
        raise QuestionInvalid(fields={"slug": ["Give a slug (letters, digits, hyphens)."]})
    clash = Topic.objects.exclude(pk=topic.pk)
    errors: dict[str, list[str]] = {}
    if clash.filter(slug=topic.slug).exists():
        errors["slug"] = ["A topic with this slug already exists."]
    if clash.filter(parent=topic.parent, name=topic.name).exists():
        errors["name"] = ["A topic with this name already exists here."]
    if errors:
        raise QuestionInvalid(fields=errors)
    try:
        with transaction.atomic():
            topic.save()
    except IntegrityError as exc:
        raise Conflict("The topic changed meanwhile; try again.") from exc
    return topic


@transaction.atomic
def topic_delete(*, topic: Topic) -> None:
    """Only a topic with no subtopics, questions or test rules can go."""
    try:
        topic.delete()
    except ProtectedError as exc:
        raise TopicInUse() from exc
