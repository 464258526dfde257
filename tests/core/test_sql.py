"""Prepared statements on the hot paths: counted like any query, prepared after a few runs."""

from __future__ import annotations

import pytest
from django.db import connection

from core.sql import prepared_cursor

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT %s::int + 1"


def _prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def test_a_statement_is_prepared_on_its_connection_after_the_threshold(settings):
    assert settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] == 5
    for value in range(6):
        with prepared_cursor() as cursor:
            cursor.execute(STATEMENT, [value])
            assert cursor.fetchone() == (value + 1,)

    assert any("$1::int + 1" in text for text in _prepared_texts())


def test_prepared_statements_are_counted_as_queries(django_assert_num_queries):
    with django_assert_num_queries(2), prepared_cursor() as cursor:
        cursor.execute(STATEMENT, [1])
        cursor.execute(STATEMENT, [2])
