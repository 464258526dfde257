"""What learners browse and buy: categories, products, their plans and tests, and who is
enrolled in what. Money is integer paise; nothing here knows how it was paid."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.models import PublicIdModel, TimeStampedModel


class Category(TimeStampedModel):
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    order = models.PositiveIntegerField(default=0)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="catalogue_category_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(TimeStampedModel):
    class Kind(models.TextChoices):
        PROGRAM = "program", "Program"
        COURSE = "course", "Course"
        TEST_SERIES = "test_series", "Test series"
        BUNDLE = "bundle", "Bundle"

    class Level(models.TextChoices):
        BEGINNER = "beginner", "Beginner"
        INTERMEDIATE = "intermediate", "Intermediate"
        ADVANCED = "advanced", "Advanced"
        ALL = "all", "All levels"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    summary = models.CharField(max_length=300, blank=True)
    description_md = models.TextField("description (Markdown)", blank=True)
    description_html = models.TextField(editable=False, blank=True)
    image = models.ImageField(upload_to="products/%Y/%m/", blank=True)
    language = models.CharField(max_length=8, default="en", help_text="e.g. en, hi.")
    level = models.CharField(max_length=12, choices=Level.choices, default=Level.ALL)
    tags = ArrayField(models.CharField(max_length=50), default=list, blank=True)
    is_published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    is_featured = models.BooleanField(default=False)
    sort_order = models.IntegerField(default=0, help_text="Lower shows first.")
    seo_title = models.CharField(max_length=70, blank=True)
    seo_description = models.CharField(max_length=160, blank=True)

    # Derived from the plans and enrollments (kept current by catalogue.services), so that
    # filtering and ordering 5,000 products needs no joins.
    price_from_paise = models.PositiveIntegerField(null=True, blank=True, editable=False)
    price_to_paise = models.PositiveIntegerField(null=True, blank=True, editable=False)
    is_free = models.BooleanField(default=False, editable=False)
    live_enrollments = models.PositiveIntegerField(default=0, editable=False)

    search = models.GeneratedField(
        expression=SearchVector("title", weight="A", config="english")
        + SearchVector("summary", weight="B", config="english")
        + SearchVector("description_md", weight="C", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["sort_order", "-published_at", "id"]
        indexes = [
            GinIndex(fields=["search"], name="catalogue_product_search"),
            GinIndex(fields=["tags"], name="catalogue_product_tags"),
            # The default ("featured") ordering of the public listing, over exactly the
            # visible rows: the page and its COUNT come from this index alone.
            models.Index(
                F("is_featured").desc(),
                "sort_order",
                F("published_at").desc(),
                "id",
                condition=Q(is_published=True, price_from_paise__isnull=False),
                name="catalogue_product_featured",
            ),
            models.Index(
                "price_from_paise",
                "id",
                condition=Q(is_published=True, price_from_paise__isnull=False),
                name="catalogue_product_by_price",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_visible(self) -> bool:
        return self.is_published and self.price_from_paise is not None


class Plan(TimeStampedModel):
    """A way to buy a product: "1 month", "Lifetime"… A price of 0 makes it free."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="plans")
    name = models.CharField(max_length=80)
    price_paise = models.PositiveIntegerField()
    list_price_paise = models.PositiveIntegerField(
        null=True, blank=True, help_text="The struck-through price; at least the price."
    )
    currency = models.CharField(max_length=3, default="INR")
    validity_days = models.PositiveIntegerField(null=True, blank=True)
    is_lifetime = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "price_paise", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(list_price_paise__isnull=True)
                | Q(list_price_paise__gte=F("price_paise")),
                name="catalogue_plan_list_price_gte_price",
            ),
            models.CheckConstraint(
                condition=(Q(is_lifetime=True) & Q(validity_days__isnull=True))
                | (Q(is_lifetime=False) & Q(validity_days__gt=0)),
                name="catalogue_plan_validity_or_lifetime",
            ),
            models.CheckConstraint(condition=Q(currency="INR"), name="catalogue_plan_currency_inr"),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.name}"

    @property
    def is_free(self) -> bool:
        return self.price_paise == 0


class ProductTest(models.Model):
    """A test that a product grants, in order, optionally unlocked only from a date."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="product_tests")
    test = models.ForeignKey("testengine.Test", on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)
    unlock_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "test"], name="catalogue_producttest_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} · {self.test}"


class Enrollment(PublicIdModel):
    """A learner's access to a product. At most one current (not revoked) enrollment per
    learner and product — a database constraint; buying again extends it."""

    class Source(models.TextChoices):
        PURCHASE = "purchase", "Purchase"
        FREE = "free", "Free plan"
        GRANT = "grant", "Staff grant"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="enrollments"
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="enrollments")
    plan = models.ForeignKey(
        Plan, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=10, choices=Source.choices)
    order_id = models.UUIDField(
        null=True, blank=True, help_text="The payments order that paid for it."
    )
    starts_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: lifetime.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.CharField(max_length=200, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "product"],
                condition=Q(revoked_at__isnull=True),
                name="catalogue_enrollment_one_current",
            ),
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=F("starts_at")),
                name="catalogue_enrollment_window_ordered",
            ),
        ]
        indexes = [
            models.Index(
                fields=["user", "product"],
                condition=Q(revoked_at__isnull=True),
                name="catalogue_enrollment_live_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.product}"

    def is_live(self, at: datetime | None = None) -> bool:
        at = at or timezone.now()
        return (
            self.revoked_at is None
            and self.starts_at <= at
            and (self.expires_at is None or self.expires_at > at)
        )
