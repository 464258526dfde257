"""``make run``'s set-up in one process: migrate, the cache table, the demo data, then the
start-up banner (one Django start instead of three on a first run)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from core.dev_delivery import display_path


def mail_destination() -> str:
    backend = settings.EMAIL_BACKEND
    if backend.endswith((".DevFileEmailBackend", ".filebased.EmailBackend")):
        return f"{display_path(settings.EMAIL_FILE_PATH)}/ (one line per message here)"
    if backend.endswith(".console.EmailBackend"):
        return "this terminal"
    return f"{backend} (EMAIL_URL)"


def sms_destination() -> str:
    backend = settings.SMS_BACKEND
    if backend.endswith("FileSmsBackend"):
        return f"{display_path(settings.SMS_FILE_PATH)}/"
    if backend.endswith("ConsoleSmsBackend"):
        return "this terminal"
    return f"{settings.SMS_BACKEND} (SMS_BACKEND)"


def banner(base_url: str, *, worker_log: str = "") -> str:
    base = base_url.rstrip("/")
    rows = [
        ("API docs", f"{base}/api/docs/  (ReDoc: {base}/api/redoc/)"),
        ("Admin", f"{base}/{settings.ADMIN_URL}"),
        ("Health", f"{base}/healthz"),
        ("Accounts", "the demo accounts above; all demo data: README.md, Quick start"),
        ("Mail", mail_destination()),
        ("SMS", sms_destination()),
    ]
    if worker_log:
        rows.append(("Worker log", worker_log))
    width = max(len(label) for label, _ in rows)
    lines = [
        "",
        f"  Examforge is starting on {base}/",
        *(f"    {label.ljust(width)}  {value}" for label, value in rows),
        "  Another port or address: make run PORT=8001 HOST=0.0.0.0",
        "  Ctrl-C stops the server, its background worker and the embedded PostgreSQL.",
        "",
    ]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Migrate, create the cache table, load the demo data and print where it all is."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url", default="http://127.0.0.1:8000", help="where the server will listen"
        )
        parser.add_argument("--worker-log", default="", help="where the worker's log goes")

    def handle(self, *args: Any, url: str, worker_log: str, **options: Any) -> None:
        verbosity = options["verbosity"]
        # A first run applies every migration: a line each would bury the demo accounts.
        quiet = max(verbosity - 1, 0)
        call_command("migrate", interactive=False, verbosity=quiet, stdout=self.stdout)
        call_command("createcachetable", verbosity=quiet, stdout=self.stdout)
        call_command("seed_demo", verbosity=verbosity, stdout=self.stdout)
        self.stdout.write(banner(url, worker_log=worker_log))
