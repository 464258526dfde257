"""Recompute classical item statistics from submitted sittings. Safe to run repeatedly
(rows are replaced). A background task will run it after submissions later."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions_app.models import ExamSession
from sessions_app.services import update_item_statistics
from testengine.models import Test


class Command(BaseCommand):
    help = "Update item statistics (facility, discrimination) from submitted sittings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--test", metavar="SLUG", help="Only this test (default: all).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["test"]:
            test_id = Test.objects.filter(slug=options["test"]).values_list("id", flat=True)
            ids = list(test_id)
            if not ids:
                raise CommandError(f"No test with slug {options['test']!r}.")
        else:
            ids = list(
                ExamSession.objects.filter(status=ExamSession.Status.SUBMITTED)
                .order_by()
                .values_list("test_id", flat=True)
                .distinct()
            )
        total = sum(update_item_statistics(test_id) for test_id in ids)
        self.stdout.write(f"updated statistics of {total} questions in {len(ids)} tests")
