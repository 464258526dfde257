"""``manage.py db_worker``: django-tasks-db's worker, which carries on when the database
goes away.

django-tasks-db's worker exits on the first connection error ("terminating connection due
to administrator command" at every PostgreSQL restart, "connection refused" while it is
down), leaving the queue unserved until something restarts the process. This command
(it replaces the library's: ``core`` comes before ``django_tasks_db`` in INSTALLED_APPS)
takes the same options, and on such an error closes its connections, waits (0.5 s, then
doubling up to 10 s while the database stays away) and starts the worker loop again with
the same worker id. Any other error still ends it. Signals behave as before: SIGTERM
lets a running task finish, and ends a wait at once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import connections
from django_tasks_db.management.commands.db_worker import Command as DatabaseWorkerCommand

from core.database import is_database_unavailable

logger = logging.getLogger("django_tasks_db")

FIRST_DELAY_SECONDS = 0.5
MAX_DELAY_SECONDS = 10.0
# A loop that ran this long was healthy: the next outage starts from the first delay.
HEALTHY_AFTER_SECONDS = 30.0


def _close_connections() -> None:
    for connection in connections.all(initialized_only=True):
        try:
            connection.close()
        except Exception:  # a broken connection may fail to close; it is dropped anyway
            logger.debug("closing a broken connection failed", exc_info=True)


class Command(DatabaseWorkerCommand):
    help = (
        "Run a database background worker that reconnects when the database goes away "
        "(a restart, an outage)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        delay = FIRST_DELAY_SECONDS
        while True:
            started = time.monotonic()
            try:
                return super().handle(*args, **options)
            except Exception as exc:
                if not is_database_unavailable(exc):
                    raise
                if time.monotonic() - started > HEALTHY_AFTER_SECONDS:
                    delay = FIRST_DELAY_SECONDS
                logger.warning(
                    "db_worker: the database is not available (%s); reconnecting in %.1f s",
                    str(exc).strip() or type(exc).__name__,
                    delay,
                )
                _close_connections()
                time.sleep(delay)
                delay = min(delay * 2, MAX_DELAY_SECONDS)
