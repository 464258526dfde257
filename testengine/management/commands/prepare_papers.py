"""Prepare papers ahead of a scheduled sitting: top a test's pool (``testengine.pool``) up
to ``--count`` fresh papers, so that the starts at its opening insert them instead of
generating. Run it after the last change to the test and its questions (a later change
makes the pool stale, and starts generate again); safe to repeat."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from testengine.models import Test
from testengine.pool import POOLED_MODES
from testengine.services import papers_prepare


class Command(BaseCommand):
    help = "Top up the pool of prepared papers of one test (by slug) or of every published test."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", nargs="?", help="The test's slug.")
        parser.add_argument(
            "--all",
            action="store_true",
            help="Every published fixed or random test (not learners' practice tests).",
        )
        parser.add_argument(
            "--count",
            type=int,
            metavar="N",
            default=None,
            help="Fresh papers wanted per test (default: PREPARED_PAPERS_PER_TEST).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count = options["count"] or settings.PREPARED_PAPERS_PER_TEST
        if count < 1:
            raise CommandError("--count must be at least 1.")
        if options["all"] == bool(options["slug"]):
            raise CommandError("Give a test's slug or --all (not both).")
        if options["all"]:
            tests = (
                Test.objects.curated()
                .filter(is_published=True, mode__in=POOLED_MODES)
                .order_by("slug")
            )
        else:
            tests = Test.objects.filter(slug=options["slug"])
            if not tests.exists():
                raise CommandError(f"No test with slug {options['slug']!r}.")
        for test in tests:
            report = papers_prepare(test=test, count=count)
            note = f" (skipped: {report.skipped})" if report.skipped else ""
            self.stdout.write(
                f"{test.slug}: {report.prepared} prepared, {report.fresh} fresh{note}"
            )
