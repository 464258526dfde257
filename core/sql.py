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

``compile_query`` turns an ORM query into such a fixed statement once per process, so a
hot path runs a rule written once as a queryset (the start's access check and test read).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorWrapper

if TYPE_CHECKING:
    from django.db.models.sql import Query


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


@dataclass(frozen=True)
class _Constant:
    value: Any


@dataclass(frozen=True)
class Compiled:
    """A query the ORM compiled once, to run as a fixed (prepared) statement: its SQL and,
    per parameter, the name of the input it takes or the constant it holds."""

    sql: str
    slots: tuple[str | _Constant, ...]

    def params(self, **inputs: Any) -> list[Any]:
        return [slot.value if isinstance(slot, _Constant) else inputs[slot] for slot in self.slots]


def compile_query(query: Query, sentinels: dict[Any, str], *, required: set[str]) -> Compiled:
    """``query``'s SQL as the ORM compiles it, built with ``sentinels`` (values no real row
    or clock holds, each standing in for a named input) in place of the inputs. Building an
    ORM query can cost more than running it; compiling it once keeps one definition of the
    rule and the speed of written-out SQL. Refuses a query one of ``required`` did not
    reach (the rule changed shape under the caller)."""
    sql, params = query.get_compiler(DEFAULT_DB_ALIAS).as_sql()
    slots = tuple(
        sentinels[param] if _is_sentinel(param, sentinels) else _Constant(param) for param in params
    )
    if missing := required - set(slots):
        raise RuntimeError(f"an input did not reach the compiled query: {sorted(missing)}")
    return Compiled(sql, slots)


def _is_sentinel(param: Any, sentinels: dict[Any, str]) -> bool:
    try:
        return param in sentinels
    except TypeError:  # unhashable constants (lists) are never inputs
        return False
