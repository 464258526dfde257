"""Fit IRT item parameters (a, b) from scored sittings and store them. Schedule it nightly
(or weekly); safe to run twice at once — the second run finds the advisory lock taken and
stops — and to repeat (same responses, same values)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sessions_app.services import calibrate_items
from testengine.models import Test


class Command(BaseCommand):
    help = "Calibrate item parameters (2PL, or Rasch on thin data) from scored sittings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--test", metavar="SLUG", help="Only the questions of this test's scored papers."
        )
        parser.add_argument(
            "--min-responses",
            type=int,
            metavar="N",
            help="Fit only questions with at least N responses (default: "
            "CALIBRATION_MIN_RESPONSES); the rest keep their parameters.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        test_id = None
        if options["test"]:
            test_id = Test.objects.filter(slug=options["test"]).values_list("id", flat=True).first()
            if test_id is None:
                raise CommandError(f"No test with slug {options['test']!r}.")
        minimum = options["min_responses"]
        if minimum is not None and minimum < 1:
            raise CommandError("--min-responses must be at least 1.")
        report = calibrate_items(test_id=test_id, min_responses=minimum)
        if not report.ran:
            self.stdout.write("another calibration is running; nothing done")
            return
        self.stdout.write(
            f"calibrated {report.calibrated} questions ({report.fitted - report.rasch} 2PL, "
            f"{report.rasch} Rasch) from {report.responses} responses in {report.sittings} "
            f"sittings; {report.below_minimum} below the minimum kept their parameters; "
            f"{report.skipped} skipped; {report.iterations} EM cycles"
            f"{'' if report.converged else ' (not converged)'}, {report.seconds:.1f} s"
        )
