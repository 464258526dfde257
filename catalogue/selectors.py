"""Read queries of the catalogue shared by several callers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import (
    Count,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from catalogue.vocabulary import WORD, Vocabulary, vocabulary
from core.images import media_url

if TYPE_CHECKING:
    from django.http import HttpRequest
    from rest_framework.request import Request


class Learner(Protocol):
    """Whoever the access rule is asked about: a user, an anonymous visitor, or a
    stand-in that carries only the id (``sessions_app.policy.learner``)."""

    @property
    def pk(self) -> int | None: ...
    @property
    def is_authenticated(self) -> bool: ...


def live_enrollments(*, user: Learner, at: datetime | None = None) -> QuerySet[Enrollment]:
    at = at or timezone.now()
    return Enrollment.objects.filter(
        user_id=user.pk,  # type: ignore[misc]  # a signed-in learner's
        revoked_at__isnull=True,
        starts_at__lte=at,
    ).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=at))


def category_descendant_ids(category: Category) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack, seen = [], [category.pk], set()
    while stack:
        node = stack.pop()
        if node in seen:  # never loop on a cycle written by racing edits
            continue
        seen.add(node)
        found.append(node)
        stack.extend(children.get(node, ()))
    return found


def public_products() -> QuerySet[Product]:
    """Published products with at least one active plan: all a learner may see."""
    return Product.objects.filter(is_published=True, price_from_paise__isnull=False)


# Quotes or a negated word: the learner wrote search syntax, so only full-text answers.
_SYNTAX = re.compile(r'"|(?:^|\s)-[^\W_]')
_MAX_WORDS = 8
# Swapping two neighbouring letters ("djnago") leaves too few shared trigrams for the
# vocabulary to recognise a short word, so each word up to this length is also tried with
# every neighbouring pair swapped. Longer "words" are not words anyone mistyped.
_MAX_SWAPPED_LENGTH = 24


def product_search(queryset: QuerySet[Product], text: str) -> QuerySet[Product]:
    """Search ``queryset`` for ``text``, annotated with ``rank`` (higher is better).

    Full-text first: the words (web-search syntax: quotes, ``or``, ``-word``) against
    title, summary and description, ranked by ``ts_rank``. When that finds nothing, one
    more full-text query finds what a typo or half a word meant: every word must match as
    itself taken as a prefix (``postg`` finds PostgreSQL), with two neighbouring letters
    swapped (``djnago``, ``pyhton``), or as one of the catalogue words closest to it by
    trigram similarity (``postgress``, ``kubernets``: ``catalogue.vocabulary``); or the
    words run together (``postgre sql``). Ranked by ``ts_rank``.

    Text with search syntax gets no typo fallback (it would drop a ``-word``). The first
    step is an ``EXISTS`` probe on the full-text index, so the fallback runs only for text
    that full text cannot answer."""
    query = SearchQuery(text, search_type="websearch", config="english")
    ranked = queryset.filter(search=query).annotate(rank=SearchRank(F("search"), query))
    if ranked.exists():
        return ranked
    words = WORD.findall(text.lower())[:_MAX_WORDS]
    if not words or _SYNTAX.search(text):
        return ranked.none()
    known = vocabulary()
    every_word = " & ".join(_word_forms(word, known) for word in words)
    if len(words) > 1:
        every_word = f"({every_word}) | {_word_forms(''.join(words), known)}"
    near = SearchQuery(every_word, search_type="raw", config="english")
    return queryset.filter(search=near).annotate(rank=SearchRank(F("search"), near))


def _word_forms(word: str, known: Vocabulary) -> str:
    """``word`` as a tsquery alternative: itself as a prefix, one of its neighbouring
    letter swaps (``djnago`` → ``django``), or a catalogue word close to it. Words are
    letters and digits only, so nothing here is tsquery syntax."""
    forms = [f"{word}:*"]
    if 4 <= len(word) <= _MAX_SWAPPED_LENGTH:
        forms.extend(
            word[:i] + word[i + 1] + word[i] + word[i + 2 :]
            for i in range(len(word) - 1)
            if word[i] != word[i + 1]
        )
    forms.extend(known.close_to(word))
    return "(" + " | ".join(dict.fromkeys(forms)) + ")"


PLAN_FIELDS = (
    "id",
    "product_id",
    "name",
    "price_paise",
    "list_price_paise",
    "currency",
    "validity_days",
    "is_lifetime",
)
LIST_FIELDS = (
    "id",
    "slug",
    "title",
    "kind",
    "summary",
    "image",
    "category__slug",
    "language",
    "level",
    "tags",
    "is_featured",
    "is_free",
    "price_from_paise",
    "price_to_paise",
    "published_at",
)


def product_list_rows(
    rows: list[dict[str, Any]], request: HttpRequest | Request
) -> list[dict[str, Any]]:
    """The public list's JSON for a page of ``.values(*LIST_FIELDS)`` rows, with their
    active plans (one query). Plain dicts, no model instances or serializer machinery:
    this is the catalogue's hottest read. Its shape is ``ProductListSerializer``'s (a test
    holds the two equal)."""
    ids = [row["id"] for row in rows]
    plans: dict[int, list[dict[str, Any]]] = {pk: [] for pk in ids}
    for plan in (
        Plan.objects.filter(product_id__in=ids, is_active=True)
        .order_by("order", "price_paise", "id")
        .values(*PLAN_FIELDS)
    ):
        product_id = plan.pop("product_id")
        plan["is_free"] = plan["price_paise"] == 0
        plans[product_id].append(plan)
    return [
        {
            "slug": row["slug"],
            "title": row["title"],
            "kind": row["kind"],
            "summary": row["summary"],
            "image": media_url(row["image"], request),
            "category": row["category__slug"],
            "language": row["language"],
            "level": row["level"],
            "tags": row["tags"],
            "is_featured": row["is_featured"],
            "is_free": row["is_free"],
            "price_from_paise": row["price_from_paise"],
            "price_to_paise": row["price_to_paise"],
            "plans": plans[row["id"]],
            "published_at": _iso(row["published_at"]),
        }
        for row in rows
    ]


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def active_plans_prefetch() -> Prefetch[str]:
    return Prefetch(
        "plans",
        queryset=Plan.objects.filter(is_active=True)
        .only(*PLAN_FIELDS)
        .order_by("order", "price_paise", "id"),
    )


def tests_prefetch() -> Prefetch[str]:
    return Prefetch(
        "product_tests",
        queryset=ProductTest.objects.select_related("test").order_by("order", "id"),
    )


def question_counts(test_ids: list[int]) -> dict[int, int]:
    """Questions per test: hand-picked ones plus what the rules draw (two queries)."""
    from testengine.models import SectionQuestion, SectionRule

    counts: dict[int, int] = dict.fromkeys(test_ids, 0)
    for test_id, n in (
        SectionRule.objects.filter(section__test_id__in=test_ids)
        .values("section__test_id")
        .annotate(n=Sum("count"))
        .values_list("section__test_id", "n")
    ):
        counts[test_id] += n or 0
    for test_id, n in (
        SectionQuestion.objects.filter(section__test_id__in=test_ids)
        .values("section__test_id")
        .annotate(n=Count("id"))
        .values_list("section__test_id", "n")
    ):
        counts[test_id] += n
    return counts
