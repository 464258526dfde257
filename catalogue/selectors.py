"""Read queries of the catalogue shared by several callers."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import DEFAULT_DB_ALIAS
from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
)
from django.utils import timezone

from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from catalogue.vocabulary import WORD, Vocabulary, vocabulary
from core.images import media_url
from core.sql import prepared_cursor
from testengine.models import Test

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


def accessible_tests(*, user: Learner | None, now: datetime | None = None) -> QuerySet[Test]:
    """The access rule, written once: published tests (never a learner's practice test)
    that ``user`` may sit at ``now``. A test is open to a learner when a product containing
    it grants it — the learner holds a live enrollment of that product, or the product is
    published and free outright (no active paid plan: a ₹0 trial plan next to paid plans
    gives access through its expiring enrollment, not to all) — and that product's unlock
    date for it has passed. Anonymous callers get the free tests only. One ``EXISTS`` per
    test row."""
    now = now or timezone.now()
    unlocked = Q(unlock_at__isnull=True) | Q(unlock_at__lte=now)
    paid_plan = Plan.objects.filter(
        product_id=OuterRef("product_id"), is_active=True, price_paise__gt=0
    )
    grant = Q(product__is_published=True, product__is_free=True) & ~Exists(paid_plan)
    if user is not None and user.is_authenticated:
        owned = live_enrollments(user=user, at=now).filter(product_id=OuterRef("product_id"))
        grant |= Q(Exists(owned))  # type: ignore[assignment]  # Q & ~Exists is a Q
    grants = ProductTest.objects.filter(unlocked, grant, test_id=OuterRef("pk"))
    return Test.objects.filter(Exists(grants), is_published=True, practice_owner__isnull=True)


def has_access(user: Learner | None, test: Test, *, now: datetime | None = None) -> bool:
    """May ``user`` sit ``test`` now? :func:`accessible_tests` for one test (one query).

    Asked by every start at the opening of a mock, so the query is compiled once per
    process (:func:`_access_statement`) and run as a prepared statement: building the
    ORM query cost more than the rest of a start. Same SQL, same rule."""
    authenticated = user is not None and user.is_authenticated
    sql, slots = _access_statement(authenticated)
    values = {
        _USER: user.pk if authenticated else None,  # type: ignore[union-attr]
        _TEST: test.pk,
        _NOW: now or timezone.now(),
    }
    params = [slot.value if isinstance(slot, _Constant) else values[slot] for slot in slots]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None


@dataclass(frozen=True)
class _Constant:
    value: Any


@dataclass(frozen=True)
class _Learner:
    pk: int
    is_authenticated: bool = True


_USER, _TEST, _NOW = "user", "test", "now"
# Values no real row or clock holds, standing in for the three inputs while compiling.
_SENTINELS: dict[Any, str] = {
    -7_300_000_000_000_001: _USER,
    -7_300_000_000_000_002: _TEST,
    datetime(1971, 2, 3, 4, 5, 6, 789_012, tzinfo=UTC): _NOW,
}


@functools.cache
def _access_statement(authenticated: bool) -> tuple[str, tuple[Any, ...]]:
    """``has_access``'s SQL as the ORM compiles it from :func:`accessible_tests`, and per
    parameter either the input it takes (user, test, now) or the constant it holds."""
    user_pk, test_pk, now = list(_SENTINELS)
    queryset = accessible_tests(user=_Learner(user_pk) if authenticated else None, now=now)
    query = queryset.filter(pk=test_pk).query.exists(limit=True)
    sql, params = query.get_compiler(DEFAULT_DB_ALIAS).as_sql()
    slots = tuple(
        _SENTINELS[param] if _is_sentinel(param) else _Constant(param) for param in params
    )
    if {_TEST, _NOW} - set(slots) or (authenticated and _USER not in slots):
        raise RuntimeError("has_access: an input did not reach the compiled query")
    return sql, slots


def _is_sentinel(param: Any) -> bool:
    try:
        return param in _SENTINELS
    except TypeError:  # unhashable constants (lists) are never inputs
        return False


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
