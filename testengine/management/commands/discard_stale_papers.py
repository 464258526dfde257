"""Periodic (hourly, and after bank edits): delete prepared papers that no start would take
any more — generated before their test or the question bank last changed, or of a test
no longer published. Starts never take such a paper anyway; this frees the rows."""

from typing import Any

from django.core.management.base import BaseCommand

from testengine.services import papers_discard_stale


class Command(BaseCommand):
    help = "Delete prepared papers that have gone stale."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"discarded {papers_discard_stale()} stale prepared papers")
