"""Cache invalidation and derived-field upkeep only (CONTRIBUTING.md, "Where code goes"):
whichever door a catalogue row is written through (service, admin, shell), anonymous
catalogue responses are invalidated, and a product's denormalised price range follows
its plans. The receiver writes no product field itself: it calls
``catalogue.services.product_sync_derived``, the one writer of those fields, at once (in
the plan's transaction), so a plan written by hand is reflected before that commits.
A test's changes (its question counts show in a product's detail) arrive as
the test engine's domain signal ``tests_changed``, not as its models' signals."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalogue import services
from catalogue.cache import catalogue_changed
from catalogue.models import Category, Plan, Product, ProductTest
from testengine.signals import tests_changed


@receiver(post_save, sender=Category, dispatch_uid="catalogue-category-saved")
@receiver(post_delete, sender=Category, dispatch_uid="catalogue-category-deleted")
@receiver(post_save, sender=Product, dispatch_uid="catalogue-product-saved")
@receiver(post_delete, sender=Product, dispatch_uid="catalogue-product-deleted")
@receiver(post_save, sender=ProductTest, dispatch_uid="catalogue-producttest-saved")
@receiver(post_delete, sender=ProductTest, dispatch_uid="catalogue-producttest-deleted")
# A product's detail shows each test's question count, which rules and hand-picked
# questions decide.
@receiver(tests_changed, dispatch_uid="catalogue-tests-changed")
def _catalogue_changed(sender: object, **kwargs: Any) -> None:
    catalogue_changed()


@receiver(post_save, sender=Plan, dispatch_uid="catalogue-plan-saved")
@receiver(post_delete, sender=Plan, dispatch_uid="catalogue-plan-deleted")
def _plan_changed(sender: type[Plan], instance: Plan, **kwargs: Any) -> None:
    if Product.objects.filter(pk=instance.product_id).exists():
        services.product_sync_derived(product_ids=[instance.product_id])
    catalogue_changed()
