"""Recompute topic mastery from all scored answers (backfills, a new estimator, items
recalibrated). Safe to run twice at once: writes are serialised per learner."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from learning import services
from sessions_app.models import ExamSession


class Command(BaseCommand):
    help = "Recompute per-topic mastery for every learner with a scored sitting, or one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", metavar="EMAIL", help="Only this learner.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["user"]:
            user = get_user_model().objects.filter(email__iexact=options["user"]).first()
            if user is None:
                raise CommandError(f"No user with the email {options['user']!r}.")
            user_ids = [user.pk]
        else:
            user_ids = list(
                ExamSession.objects.filter(status=ExamSession.Status.SUBMITTED)
                .order_by("user_id")
                .values_list("user_id", flat=True)
                .distinct()
            )
        topics = sum(services.mastery_recompute(user_id=pk) for pk in user_ids)
        self.stdout.write(f"mastery: {topics} topic rows for {len(user_ids)} learner(s)")
