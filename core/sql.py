"""Prepared statements for the hottest written-out SQL (the autosave, the bearer user).

Django hands psycopg its statements with client-side binding: the parameters are merged
into the text and PostgreSQL parses and plans every statement afresh. That costs PostgreSQL
about twice the CPU of the same statement prepared once per connection (pgbench runs the
autosave's statements at ~2,500 transactions/s prepared against ~1,340 as plain text on the
2-core reference machine). ``prepared_cursor()`` is a cursor on Django's own connection and
transaction that binds parameters on the server, so psycopg prepares a statement the
``prepare_threshold``-th time a connection runs it (``DB_PREPARED_STATEMENTS``, on by
default; ``DATABASES["default"]["OPTIONS"]["prepare_threshold"]``) and reuses the plan after.
It goes through Django's cursor wrapper, so query logging, ``django_assert_num_queries``,
the metrics' statement count and the database-error translation all see it as any other.

Only fixed statements belong here: a prepared statement is kept per connection for each
distinct text (psycopg keeps the 100 most used), so never format values into the text.
Behind PgBouncer in transaction mode before 1.21, prepared statements fail (the next
transaction may run on another server connection): set ``DB_PREPARED_STATEMENTS=false``
there (docs/deployment.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper


@contextmanager
def prepared_cursor(using: str = DEFAULT_DB_ALIAS) -> Iterator[CursorWrapper]:
    """A Django cursor with server-side binding on the current connection (see above)."""
    connection = connections[using]
    connection.ensure_connection()
    with connection.wrap_database_errors:
        raw = ServerBindingCursor(connection.connection)  # type: ignore[call-arg]
    # django-stubs types these as taking a CursorWrapper; they take the driver's cursor.
    cursor = (
        connection.make_debug_cursor(raw)  # type: ignore[arg-type]
        if connection.queries_logged
        else connection.make_cursor(raw)  # type: ignore[arg-type]
    )
    try:
        yield cursor
    finally:
        cursor.close()
