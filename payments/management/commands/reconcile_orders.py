"""Periodic (every 10 minutes): settle or expire orders left "created" — the learner who
closed the browser, the webhook that never came. Safe to run twice at once (rows claimed
with SKIP LOCKED)."""

from typing import Any

from django.core.management.base import BaseCommand

from payments.services import orders_reconcile


class Command(BaseCommand):
    help = "Look up stale unpaid orders at the gateway; settle paid ones, expire the rest."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = orders_reconcile(limit=1000)
        self.stdout.write(
            f"checked {counts['checked']} orders: {counts['paid']} paid, "
            f"{counts['expired']} expired; {counts['captured']} authorized payments captured"
        )
