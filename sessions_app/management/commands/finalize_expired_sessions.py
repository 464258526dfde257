"""Periodic (every minute): finalize exam sessions whose time is up, stamped at their
deadline. Safe to run several at once (rows are claimed with SKIP LOCKED)."""

from typing import Any

from django.core.management.base import BaseCommand

from sessions_app.services import finalize_expired_sessions


class Command(BaseCommand):
    help = "Submit every open exam session whose deadline (plus grace) has passed."

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        while True:
            done = finalize_expired_sessions(limit=500)
            total += done
            if done < 500:
                break
        self.stdout.write(f"finalized {total} expired sessions")
