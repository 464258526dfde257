"""Load the demo data every app contributes (idempotent: safe to run on every start)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.seeding import seeders


class Command(BaseCommand):
    help = "Create or refresh the demo accounts and data. Safe to run repeatedly."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Run even with DEBUG off (demo passwords are public: never on a real site).",
        )

    def handle(self, *args: Any, allow_production: bool = False, **options: Any) -> None:
        if not settings.DEBUG and not allow_production:
            raise CommandError("seed_demo creates accounts with public passwords; DEBUG is off.")
        for label, seed in seeders():
            with transaction.atomic():
                seed(self.stdout)  # type: ignore[arg-type]  # an OutputWrapper writes like a TextIO
            self.stdout.write(self.style.SUCCESS(f"demo data: {label} ready"))
