"""Telling "the database is away" apart from other database errors.

While PostgreSQL restarts or is unreachable, a request fails to get a connection (the
pool's timeout, or a refused connect) or loses it mid-query. Those requests answer
503 ``database_unavailable`` with ``Retry-After`` (the API's exception handler and
``core.middleware.DatabaseUnavailableMiddleware``), not 500: nothing is wrong with the
request, and it is safe to retry. Errors the database gives about the request itself
(a cancelled statement, a lock not available, bad values) are not this.
"""

from __future__ import annotations

import psycopg
from django.db import InterfaceError, OperationalError
from psycopg_pool import PoolTimeout

RETRY_AFTER_SECONDS = 5
CODE = "database_unavailable"
DETAIL = "The database is not available at the moment. Try again in a few seconds."

# Connection exceptions (class 08), and the server shutting down or starting up.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def is_database_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (a Django or psycopg error) means the database cannot be reached."""
    if not isinstance(exc, OperationalError | InterfaceError | psycopg.Error):
        return False
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, PoolTimeout):
            return True
        if isinstance(seen, psycopg.InterfaceError):
            return True  # the connection is closed or broken
        if isinstance(seen, psycopg.OperationalError):
            # No SQLSTATE: the client side failed (connection refused, server closed the
            # connection unexpectedly); else the server said why.
            return seen.sqlstate is None or seen.sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
        seen = seen.__cause__
    return isinstance(exc, InterfaceError)
