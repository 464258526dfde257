"""Factories for the catalogue. Products are unpublished by default; plans and enrollments
keep the product's derived fields (price range, free flag, live enrollments) current, as
the services do. Use ``PublishedProductFactory`` for a product learners can see."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from catalogue.models import Category, Enrollment, Plan, Product, ProductTest
from catalogue.services import product_sync_derived
from tests.accounts.factories import UserFactory
from tests.testengine.factories import TestFactory


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")
    parent = None


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    kind = Product.Kind.TEST_SERIES
    title = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    category = factory.SubFactory(CategoryFactory)
    summary = "A short summary."
    is_published = False
    published_at = None


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    product = factory.SubFactory(ProductFactory)
    name = factory.Sequence(lambda n: f"Plan {n}")
    price_paise = 49900
    validity_days = 30
    is_lifetime = False
    is_active = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        plan = super()._create(model_class, *args, **kwargs)
        product_sync_derived(product_ids=[plan.product_id])
        return plan


class PublishedProductFactory(ProductFactory):
    """A published product with one active plan (so it is visible)."""

    class Meta:
        skip_postgeneration_save = True  # saving would overwrite the synced derived fields

    is_published = True
    published_at = factory.LazyFunction(timezone.now)
    plan = factory.RelatedFactory(PlanFactory, factory_related_name="product")

    @classmethod
    def _after_postgeneration(cls, instance, create, results=None):
        if create:
            instance.refresh_from_db()


class ProductTestFactory(factory.django.DjangoModelFactory):
    __test__ = False  # not a pytest test class, despite the name

    class Meta:
        model = ProductTest

    product = factory.SubFactory(ProductFactory)
    test = factory.SubFactory(TestFactory, is_published=True)
    order = factory.Sequence(lambda n: n % 100)
    unlock_at = None


class EnrollmentFactory(factory.django.DjangoModelFactory):
    """A live purchase through a plan (pass ``plan=None, product=...`` for a plan-less
    grant)."""

    class Meta:
        model = Enrollment

    user = factory.SubFactory(UserFactory)
    plan = factory.SubFactory(PlanFactory)
    product = factory.SelfAttribute("plan.product")
    source = Enrollment.Source.PURCHASE
    starts_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(
        lambda o: (
            None
            if o.plan is None or o.plan.is_lifetime
            else o.starts_at + timedelta(days=o.plan.validity_days)
        )
    )

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        enrollment = super()._create(model_class, *args, **kwargs)
        product_sync_derived(product_ids=[enrollment.product_id])
        return enrollment
