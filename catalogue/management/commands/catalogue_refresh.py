"""Periodic: recompute products' derived fields (price range, free flag, live-enrollment
count) through ``catalogue.services.product_sync_derived``, their one writer. Enrollments
expire by the clock, not by a write, so popularity drifts until this runs. Safe to run
twice at once (each batch is one idempotent UPDATE)."""

from typing import Any

from django.core.management.base import BaseCommand

from catalogue import services
from catalogue.cache import catalogue_changed
from catalogue.models import Product

BATCH = 500


class Command(BaseCommand):
    help = "Recompute every product's price range, free flag and live-enrollment count."

    def handle(self, *args: Any, **options: Any) -> None:
        ids = list(Product.objects.order_by("id").values_list("id", flat=True))
        for start in range(0, len(ids), BATCH):
            services.product_sync_derived(product_ids=ids[start : start + BATCH])
        catalogue_changed()
        self.stdout.write(f"refreshed {len(ids)} products")
