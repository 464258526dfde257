"""A database that cannot be reached: 503 database_unavailable with Retry-After (not 500),
a pool that checks its connections, and a task worker that reconnects."""

from __future__ import annotations

import json
from unittest import mock

import psycopg
import pytest
from django.core.management import call_command
from django.db import DataError, InterfaceError, OperationalError
from django.test import override_settings
from django.urls import path
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from core.database import is_database_unavailable
from core.management.commands import db_worker
from tests.core.test_settings import VALID_PRODUCTION, _setup


def _django_error(cause: BaseException, kind: type[Exception] = OperationalError) -> Exception:
    """What Django raises: its own class, with the driver's error as the cause."""
    error = kind(str(cause))
    error.__cause__ = cause
    return error


AWAY = {
    "pool-timeout": _django_error(PoolTimeout("couldn't get a connection after 2.00 sec")),
    "refused": _django_error(psycopg.OperationalError("connection refused")),
    "admin-shutdown": _django_error(
        pg_errors.AdminShutdown("terminating connection due to administrator command")
    ),
    "closed": _django_error(psycopg.InterfaceError("the connection is closed"), InterfaceError),
}
NOT_AWAY = {
    "statement-timeout": _django_error(pg_errors.QueryCanceled("canceling statement")),
    "lock-not-available": _django_error(pg_errors.LockNotAvailable("could not obtain lock")),
    "data-error": _django_error(pg_errors.NumericValueOutOfRange("out of range"), DataError),
    "not-a-database-error": ValueError("connection refused"),
}


@pytest.mark.parametrize("exc", AWAY.values(), ids=AWAY.keys())
def test_a_lost_or_unreachable_database_is_unavailable(exc):
    assert is_database_unavailable(exc)


@pytest.mark.parametrize("exc", NOT_AWAY.values(), ids=NOT_AWAY.keys())
def test_errors_about_the_request_itself_are_not(exc):
    assert not is_database_unavailable(exc)


# --- answers ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("exc", AWAY.values(), ids=AWAY.keys())
def test_an_api_request_answers_503_database_unavailable_with_retry_after(api_client, exc):
    with mock.patch("accounts.authentication.BearerAuthentication.authenticate", side_effect=exc):
        response = api_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION="Bearer x")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "code": "database_unavailable",
        "detail": "The database is not available at the moment. Try again in a few seconds.",
    }


@pytest.mark.django_db
def test_other_database_errors_stay_500(api_client):
    with mock.patch(
        "accounts.authentication.BearerAuthentication.authenticate",
        side_effect=NOT_AWAY["statement-timeout"],
    ):
        response = api_client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION="Bearer x")

    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def _page_without_database(request):
    raise AWAY["pool-timeout"]


urlpatterns = [path("page/", _page_without_database), path("api/page/", _page_without_database)]


@pytest.mark.urls(__name__)
@pytest.mark.parametrize(
    ("url", "content_type"), [("/page/", "text/plain"), ("/api/page/", "application/json")]
)
def test_a_plain_django_view_answers_503_too(client, url, content_type):
    response = client.get(url)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith(content_type)


def test_healthz_needs_no_database(client):
    # No django_db mark: any query here would fail the test.
    response = client.get("/healthz")

    assert response.status_code == 200


# --- the pool ----------------------------------------------------------------------------------


def test_the_pool_checks_each_connection_it_hands_out_and_fails_fast():
    then = (
        "from django.db import connection; import json\n"
        "pool = connection.pool\n"
        "print(json.dumps({'check': pool._check.__qualname__ if pool._check else None,"
        " 'timeout': pool.timeout, 'reconnect_timeout': pool.reconnect_timeout}))"
    )
    result = _setup("config.settings.production", then=then, DB_POOL="true", **VALID_PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "check": "ConnectionPool.check_connection",
        "timeout": 2.0,
        "reconnect_timeout": 5.0,
    }


# --- the task worker -----------------------------------------------------------------------------

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_the_worker_reconnects_after_the_database_went_away():
    runs = mock.Mock(side_effect=[AWAY["admin-shutdown"], AWAY["refused"], None])
    with (
        mock.patch("django_tasks_db.management.commands.db_worker.Worker.run", runs),
        mock.patch.object(db_worker.time, "sleep") as sleep,
    ):
        call_command("db_worker", "--no-reload", "--batch", verbosity=0)

    assert runs.call_count == 3
    assert [call.args[0] for call in sleep.call_args_list] == [0.5, 1.0]


@pytest.mark.django_db
@override_settings(TASKS=DATABASE_TASKS)
def test_the_worker_still_stops_on_any_other_error():
    runs = mock.Mock(side_effect=NOT_AWAY["statement-timeout"])
    with (
        mock.patch("django_tasks_db.management.commands.db_worker.Worker.run", runs),
        mock.patch.object(db_worker.time, "sleep") as sleep,
        pytest.raises(OperationalError),
    ):
        call_command("db_worker", "--no-reload", "--batch", verbosity=0)

    assert runs.call_count == 1
    sleep.assert_not_called()
