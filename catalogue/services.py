"""Every write of the catalogue: products with their plans and tests, publishing, and
enrollments (free enrolment, staff grants, extensions on purchase, revocation)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Min, Q
from django.utils import timezone
from django.utils.text import slugify

from catalogue.errors import (
    CatalogueInvalid,
    CategoryInUse,
    NotPublishable,
    PaymentRequired,
    PlanUnavailable,
    ProductInUse,
    ProductNotFound,
    ProductPublished,
    TrialUsed,
)
from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from catalogue.signals import enrollment_changed, enrollment_ended
from core.errors import Conflict
from core.locks import lock_user
from core.markdown import math_errors, render_markdown, unsafe_markup

if TYPE_CHECKING:
    from accounts.models import User

PRODUCT_FIELDS = (
    "kind",
    "title",
    "slug",
    "category",
    "summary",
    "description_md",
    "language",
    "level",
    "tags",
    "is_featured",
    "sort_order",
    "seo_title",
    "seo_description",
)
PLAN_FIELDS = (
    "name",
    "price_paise",
    "list_price_paise",
    "validity_days",
    "is_lifetime",
    "is_active",
    "order",
)


# --- derived fields --------------------------------------------------------------------------


def product_sync_derived(*, product_ids: Iterable[int]) -> None:
    """Recompute the denormalised price range, free flag and live-enrollment count that
    listing filters and orders by. The one writer of ``price_from_paise``,
    ``price_to_paise``, ``is_free`` and ``live_enrollments``: called by the product and
    enrollment services, by the plan receiver (a plan saved or deleted by any door) and by
    ``manage.py catalogue_refresh`` (hourly, for enrollments that expired by the clock)."""
    ids = list(product_ids)
    if not ids:
        return
    now = timezone.now()
    prices = {
        row["product_id"]: row
        for row in Plan.objects.filter(product_id__in=ids, is_active=True)
        .values("product_id")
        .annotate(low=Min("price_paise"), high=Max("price_paise"))
    }
    free = set(
        Plan.objects.filter(product_id__in=ids, is_active=True, price_paise=0).values_list(
            "product_id", flat=True
        )
    )
    live = dict(
        Enrollment.objects.filter(product_id__in=ids, revoked_at__isnull=True, starts_at__lte=now)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .values("product_id")
        .annotate(n=Count("id"))
        .values_list("product_id", "n")
    )
    products = list(Product.objects.filter(pk__in=ids).only("id"))
    for product in products:
        row = prices.get(product.id)
        product.price_from_paise = row["low"] if row else None
        product.price_to_paise = row["high"] if row else None
        product.is_free = product.id in free
        product.live_enrollments = live.get(product.id, 0)
    Product.objects.bulk_update(
        products,
        ["price_from_paise", "price_to_paise", "is_free", "live_enrollments"],
        batch_size=500,
    )


# --- products ---------------------------------------------------------------------------------


def plans_validate(plans: list[dict[str, Any]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for index, plan in enumerate(plans):
        problems = []
        price = plan.get("price_paise")
        if price is None or price < 0:
            problems.append("price_paise: a price in paise, 0 or more.")
        listed = plan.get("list_price_paise")
        if listed is not None and price is not None and listed < price:
            problems.append("list_price_paise: the list price cannot be below the price.")
        lifetime = bool(plan.get("is_lifetime"))
        days = plan.get("validity_days")
        if lifetime and days is not None:
            problems.append("validity_days: a lifetime plan has no validity in days.")
        if not lifetime and (days is None or days <= 0):
            problems.append(
                "validity_days: give the validity in days (1 or more), or make it lifetime."
            )
        if problems:
            errors[f"plans.{index}"] = problems
    return errors


def _save_product(
    product: Product,
    values: dict[str, Any],
    plans: list[dict[str, Any]] | None,
    tests: list[dict[str, Any]] | None,
) -> Product:
    errors: dict[str, list[str]] = {}
    found = unsafe_markup(values.get("description_md", ""))
    if found:
        errors["description_md"] = [f"Remove the HTML that could run code ({found!r})."]
    if math := math_errors(values.get("description_md", "")):
        errors.setdefault("description_md", []).extend(math)
    if plans is not None:
        errors |= plans_validate(plans)
    if tests is not None:
        ids = [row["test"].pk for row in tests]
        if len(set(ids)) != len(ids):
            errors["tests"] = ["A test is listed twice."]
    for name, value in values.items():
        setattr(product, name, value)
    if not product.slug:
        product.slug = slugify(product.title)[:200]
    if not product.slug:  # a title without a letter or digit makes no slug
        errors["slug"] = ["Give a slug (letters, digits, hyphens)."]
    if Product.objects.exclude(pk=product.pk).filter(slug=product.slug).exists():
        errors["slug"] = ["A product with this slug already exists."]
    if errors:
        raise CatalogueInvalid(fields=errors)
    product.tags = sorted(
        {"-".join(str(t).lower().split()) for t in product.tags if str(t).strip()}
    )
    product.description_html = render_markdown(product.description_md)
    try:
        with transaction.atomic():
            product.save()
            if plans is not None:
                _replace_plans(product, plans)
            if tests is not None:
                product.product_tests.all().delete()
                ProductTest.objects.bulk_create(
                    ProductTest(
                        product=product,
                        test=row["test"],
                        order=position,
                        unlock_at=row.get("unlock_at"),
                    )
                    for position, row in enumerate(tests)
                )
    except IntegrityError as exc:
        raise Conflict("The product changed meanwhile; try again.") from exc
    product_sync_derived(product_ids=[product.pk])
    product.refresh_from_db()
    if product.is_published and product.price_from_paise is None:
        raise NotPublishable("A published product must keep at least one active plan.")
    return product


def _replace_plans(product: Product, plans: list[dict[str, Any]]) -> None:
    """Plans sent with an ``id`` are updated; new ones created; missing ones deactivated
    when enrollments point at them (kept for the record), deleted otherwise."""
    existing = {plan.id: plan for plan in product.plans.all()}
    keep: set[int] = set()
    for position, data in enumerate(plans):
        fields = {name: data[name] for name in PLAN_FIELDS if name in data}
        fields.setdefault("order", position)
        plan_id = data.get("id")
        if plan_id is not None:
            if plan_id not in existing:
                raise CatalogueInvalid(fields={f"plans.{position}": ["Unknown plan id."]})
            plan = existing[plan_id]
            for name, value in fields.items():
                setattr(plan, name, value)
            plan.save()
            keep.add(plan_id)
        else:
            Plan.objects.create(product=product, **fields)
    for plan_id, plan in existing.items():
        if plan_id in keep:
            continue
        if Enrollment.objects.filter(plan=plan).exists():
            if plan.is_active:
                plan.is_active = False
                plan.save(update_fields=["is_active", "updated_at"])
        else:
            plan.delete()


@transaction.atomic
def product_create(
    *,
    values: dict[str, Any],
    plans: list[dict[str, Any]] | None = None,
    tests: list[dict[str, Any]] | None = None,
) -> Product:
    """A new, unpublished product with its plans and tests."""
    return _save_product(Product(), values, plans or [], tests or [])


@transaction.atomic
def product_update(
    *,
    product: Product,
    values: dict[str, Any],
    plans: list[dict[str, Any]] | None = None,
    tests: list[dict[str, Any]] | None = None,
) -> Product:
    """Change a product. ``plans``/``tests``, when given, replace the current ones (plans
    keep their ids; a plan someone enrolled through is deactivated, never deleted)."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    return _save_product(product, values, plans, tests)


@transaction.atomic
def product_publish(*, product: Product) -> Product:
    """Publish; refused (409 ``not_publishable``) without an active plan."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    if not product.plans.filter(is_active=True).exists():
        raise NotPublishable()
    if not product.is_published:
        product.is_published = True
        product.published_at = product.published_at or timezone.now()
        product.save(update_fields=["is_published", "published_at", "updated_at"])
    return product


@transaction.atomic
def product_unpublish(*, product: Product) -> Product:
    """Hide from the catalogue. Enrolled learners keep their access."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.is_published:
        product.is_published = False
        product.save(update_fields=["is_published", "updated_at"])
    return product


@transaction.atomic
def category_save(*, category: Category | None = None, **values: Any) -> Category:
    """Create or change a category; slugs are unique, the tree has no cycles."""
    category = category or Category()
    parent = values.get("parent", category.parent if category.pk else None)
    node = parent
    while node is not None and category.pk:
        if node.pk == category.pk:
            raise CatalogueInvalid(fields={"parent": ["A category cannot sit under itself."]})
        node = node.parent
    for name, value in values.items():
        setattr(category, name, value)
    if not category.slug:
        category.slug = slugify(category.name)[:140]
    if not category.slug:  # a name without a letter or digit makes no slug
        raise CatalogueInvalid(fields={"slug": ["Give a slug (letters, digits, hyphens)."]})
    if Category.objects.exclude(pk=category.pk).filter(slug=category.slug).exists():
        raise CatalogueInvalid(fields={"slug": ["A category with this slug already exists."]})
    category.save()
    return category


@transaction.atomic
def category_delete(*, category: Category) -> None:
    """Only an empty category can be deleted: none of its products or subcategories may be
    left without it (409 ``category_in_use``). The row is locked first, so a product or
    subcategory added meanwhile waits and then finds it gone."""
    category = Category.objects.select_for_update().get(pk=category.pk)
    if category.products.exists() or category.children.exists():
        raise CategoryInUse()
    category.delete()


# --- enrollments -------------------------------------------------------------------------------


def _term(plan: Plan | None, days: int | None) -> timedelta | None:
    """How long access lasts; None for lifetime."""
    if days is not None:
        return timedelta(days=days)
    if plan is None or plan.is_lifetime:
        return None
    return timedelta(days=plan.validity_days)  # type: ignore[arg-type]  # not lifetime: set


@transaction.atomic
def enrollment_add(
    *,
    user: User,
    product: Product,
    plan: Plan | None,
    source: str,
    days: int | None = None,
    order_id: uuid.UUID | None = None,
    granted_by: User | None = None,
) -> tuple[Enrollment, bool]:
    """Give or extend access: the one current enrollment of (user, product) is extended by
    the plan's validity (from its expiry if still live, from now if it lapsed), made
    lifetime by a lifetime plan, or created. Returns (enrollment, created)."""
    if plan is not None and plan.product_id != product.pk:
        raise CatalogueInvalid(fields={"plan": ["This plan does not belong to the product."]})
    # Serialises enrollment changes per learner: two concurrent "enroll" calls for the same
    # product cannot both see "no enrollment yet".
    lock_user(user.pk)
    now = timezone.now()
    term = _term(plan, days)
    current = (
        Enrollment.objects.select_for_update()
        .filter(user=user, product=product, revoked_at__isnull=True)
        .first()
    )
    if current is None:
        enrollment = Enrollment.objects.create(
            user=user,
            product=product,
            plan=plan,
            source=source,
            order_id=order_id,
            starts_at=now,
            expires_at=None if term is None else now + term,
            granted_by=granted_by,
        )
        created = True
    else:
        enrollment = current
        lapsed = enrollment.expires_at is not None and enrollment.expires_at <= now
        if term is None:
            enrollment.expires_at = None
        elif enrollment.expires_at is not None:
            base = enrollment.expires_at if enrollment.expires_at > now else now
            if enrollment.expires_at <= now:
                enrollment.starts_at = now
            enrollment.expires_at = base + term
        enrollment.plan = plan or enrollment.plan
        # Provenance: a purchase, or a fresh term after a lapse, says how access is held
        # now; a grant or free enrolment extending a purchase keeps "purchase".
        if source == Enrollment.Source.PURCHASE or lapsed:
            enrollment.source = source
        enrollment.order_id = order_id or enrollment.order_id
        enrollment.granted_by = granted_by or enrollment.granted_by
        enrollment.save()
        created = False
    product_sync_derived(product_ids=[product.pk])
    changed = {"enrollment_id": enrollment.pk, "user_id": user.pk, "product_id": product.pk}
    transaction.on_commit(lambda: enrollment_changed.send(sender=Enrollment, **changed))
    return enrollment, created


@transaction.atomic
def enrollment_enroll_free(
    *, user: User, product_slug: str, plan_id: int
) -> tuple[Enrollment, bool]:
    """Enroll in a published product through one of its free, active plans. Idempotent:
    enrolling again while enrolled returns the same enrollment unchanged.

    A free plan with a validity is a trial, once per learner and product: a learner who
    has held any enrollment of the product before (a trial, a purchase or a staff grant,
    lapsed or revoked) is refused with ``trial_used``. More access after that is staff's
    call (``enrollment_grant``) or a purchase. A lifetime free plan is free content, not a
    trial, and can always be taken."""
    product = Product.objects.filter(slug=product_slug, is_published=True).first()
    if product is None:
        raise ProductNotFound()
    plan = product.plans.filter(pk=plan_id).first()
    if plan is None:
        raise CatalogueInvalid(fields={"plan": ["This plan does not belong to the product."]})
    if not plan.is_active:
        raise PlanUnavailable()
    if not plan.is_free:
        raise PaymentRequired()
    lock_user(user.pk)
    current = Enrollment.objects.filter(user=user, product=product, revoked_at__isnull=True).first()
    if current is not None and current.is_live():
        return current, False
    if not plan.is_lifetime and Enrollment.objects.filter(user=user, product=product).exists():
        raise TrialUsed()
    return enrollment_add(user=user, product=product, plan=plan, source=Enrollment.Source.FREE)


@transaction.atomic
def enrollment_grant(
    *,
    user: User,
    product: Product,
    by: User | None,
    plan: Plan | None = None,
    days: int | None = None,
) -> Enrollment:
    """Staff grant (source=grant): the plan's validity, ``days``, or lifetime."""
    if days is not None and days <= 0:
        raise CatalogueInvalid(fields={"days": ["A positive number of days."]})
    enrollment, _ = enrollment_add(
        user=user,
        product=product,
        plan=plan,
        source=Enrollment.Source.GRANT,
        days=days,
        granted_by=by,
    )
    return enrollment


@transaction.atomic
def enrollment_revoke(
    *, enrollment: Enrollment, reason: str = "", by: User | None = None
) -> Enrollment:
    """End access now (refunds, abuse). The row stays for the record; a later purchase
    starts a new enrollment. ``enrollment_ended`` tells the apps that hold what the
    enrollment gave (open sittings close, rankings drop them) once this commits."""
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.revoked_at is None:
        enrollment.revoked_at = timezone.now()
        enrollment.revoke_reason = reason[:200]
        enrollment.save(update_fields=["revoked_at", "revoke_reason", "updated_at"])
        product_sync_derived(product_ids=[enrollment.product_id])
        ended = {
            "enrollment_id": enrollment.pk,
            "user_id": enrollment.user_id,
            "product_id": enrollment.product_id,
        }
        transaction.on_commit(lambda: enrollment_ended.send(sender=Enrollment, **ended))
    return enrollment


@transaction.atomic
def product_set_image(*, product: Product, image: File[bytes] | None) -> Product:
    """Replace (an uploaded file, already checked by ``core.images``) or clear (None) the
    cover image. Stored through the default storage (S3 or MEDIA_ROOT) under a fresh name
    whose extension follows the content, never the uploader's file name; the replaced file
    is deleted only once the row no longer points at it (a rolled-back change keeps it)."""
    from core.images import image_extension

    product = Product.objects.select_for_update().get(pk=product.pk)
    old = product.image.name
    if image is None:
        product.image = ""
    else:
        name = f"{product.slug[:60]}-{secrets.token_hex(4)}.{image_extension(image)}"
        product.image.save(name, image, save=False)
    product.save(update_fields=["image", "updated_at"])
    if old and old != product.image.name:
        _delete_file_on_commit(product, old)
    return product


@transaction.atomic
def product_delete(*, product: Product) -> None:
    """Only an unpublished product nobody enrolled in can be deleted (409 otherwise)."""
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.is_published:
        raise ProductPublished()
    if Enrollment.objects.filter(product=product).exists():
        raise ProductInUse()
    image = product.image.name
    product.delete()
    if image:
        _delete_file_on_commit(product, image)


def _delete_file_on_commit(product: Product, name: str) -> None:
    storage = product.image.storage
    transaction.on_commit(lambda: storage.delete(name))
