"""Read queries of the catalogue shared by several callers."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from catalogue.models import Category, Enrollment, Plan, Product, ProductTest


def live_enrollments(*, user, at: datetime | None = None) -> QuerySet[Enrollment]:
    at = at or timezone.now()
    return Enrollment.objects.filter(user=user, revoked_at__isnull=True, starts_at__lte=at).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=at)
    )


def has_access(user, test) -> bool:
    """May ``user`` sit ``test``? Yes when a live enrollment's product contains it (and its
    unlock date has passed), or a published free product contains it (one query)."""
    now = timezone.now()
    unlocked = Q(unlock_at__isnull=True) | Q(unlock_at__lte=now)
    in_products = ProductTest.objects.filter(unlocked, test=test)
    free = in_products.filter(product__is_published=True, product__is_free=True)
    if user is None or not user.is_authenticated:
        return free.exists()
    owned = in_products.filter(
        Exists(live_enrollments(user=user, at=now).filter(product_id=OuterRef("product_id")))
    )
    return (free | owned).exists()


def category_descendant_ids(category: Category) -> list[int]:
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Category.objects.values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(pk)
    found, stack = [], [category.pk]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(children.get(node, ()))
    return found


def public_products() -> QuerySet[Product]:
    """Published products with at least one active plan: all a learner may see."""
    return Product.objects.filter(is_published=True, price_from_paise__isnull=False)


def active_plans_prefetch() -> Prefetch:
    return Prefetch(
        "plans", queryset=Plan.objects.filter(is_active=True).order_by("order", "price_paise")
    )


def tests_prefetch() -> Prefetch:
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
