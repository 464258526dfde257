"""Cache invalidation and derived-field upkeep only (CONTRIBUTING.md, "Where code goes"):
whichever door a catalogue row is written through (service, admin, shell), anonymous
catalogue responses are invalidated, and a product's denormalised price range follows
its plans."""

from typing import Any

from django.db.models import Model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from catalogue.cache import catalogue_changed
from catalogue.models import Category, Plan, Product, ProductTest
from testengine.models import SectionQuestion, SectionRule, Test


@receiver(post_save, sender=Category, dispatch_uid="catalogue-category-saved")
@receiver(post_delete, sender=Category, dispatch_uid="catalogue-category-deleted")
@receiver(post_save, sender=Product, dispatch_uid="catalogue-product-saved")
@receiver(post_delete, sender=Product, dispatch_uid="catalogue-product-deleted")
@receiver(post_save, sender=ProductTest, dispatch_uid="catalogue-producttest-saved")
@receiver(post_delete, sender=ProductTest, dispatch_uid="catalogue-producttest-deleted")
@receiver(post_save, sender=Test, dispatch_uid="catalogue-test-saved")
# A product's detail shows each test's question count, which rules and hand-picked
# questions decide.
@receiver(post_save, sender=SectionRule, dispatch_uid="catalogue-rule-saved")
@receiver(post_delete, sender=SectionRule, dispatch_uid="catalogue-rule-deleted")
@receiver(post_save, sender=SectionQuestion, dispatch_uid="catalogue-sq-saved")
@receiver(post_delete, sender=SectionQuestion, dispatch_uid="catalogue-sq-deleted")
def _catalogue_changed(sender: type[Model], **kwargs: Any) -> None:
    catalogue_changed()


@receiver(post_save, sender=Plan, dispatch_uid="catalogue-plan-saved")
@receiver(post_delete, sender=Plan, dispatch_uid="catalogue-plan-deleted")
def _plan_changed(sender: type[Plan], instance: Plan, **kwargs: Any) -> None:
    from catalogue.services import product_sync_derived

    if Product.objects.filter(pk=instance.product_id).exists():
        product_sync_derived(product_ids=[instance.product_id])
    catalogue_changed()
