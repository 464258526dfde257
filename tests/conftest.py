"""Fixtures shared by every test package. Tests run on real PostgreSQL (see Makefile)."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import sms


@pytest.fixture(autouse=True)
def _isolate_side_channels(settings):
    """Each test starts with an empty SMS outbox and cache (throttle history lives there).

    The database cache is rolled back with each test's transaction; Redis is not, so it
    is flushed (each xdist worker has its own Redis database, see config.settings.test).
    """
    sms.outbox.clear()
    if settings.REDIS_URL:
        cache.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    from tests.accounts.factories import UserFactory

    return UserFactory()


@pytest.fixture
def auth_client(user) -> APIClient:
    """A client logged in as ``user`` through the real login endpoint."""
    from tests.accounts.factories import DEFAULT_PASSWORD

    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    client.tokens = response.json()
    return client


def staff_client_for(app_label: str) -> APIClient:
    """A staff member (not a superuser) holding every permission of one app."""
    from django.contrib.auth.models import Permission

    from tests.accounts.factories import StaffFactory

    user = StaffFactory()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label=app_label))
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


@pytest.fixture
def learner_client(db) -> APIClient:
    from tests.accounts.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


@pytest.fixture
def bare_staff_client(db) -> APIClient:
    """Staff without any model permission."""
    from tests.accounts.factories import StaffFactory

    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client


@pytest.fixture
def staff_groups(db):
    """The staff groups a migrated database has ("Content editors", "Finance"). A
    transactional test elsewhere in the same worker flushes every table, migration data
    included, so make them again with ``accounts.services.staff_groups_setup`` when they
    are gone."""
    from django.contrib.auth.models import Group

    from accounts.services import STAFF_GROUPS, staff_groups_setup

    if Group.objects.filter(name__in=STAFF_GROUPS).count() < len(STAFF_GROUPS):
        staff_groups_setup()


@pytest.fixture
def model_server(settings):
    """The AI team's model server, stubbed (tests/model_stub.py), with the remote settings
    pointing at it and the circuit breaker reset."""
    from core import remote
    from tests.model_stub import Stub

    server = Stub()
    settings.MODELS_REMOTE_URL = server.url
    settings.MODELS_REMOTE_TOKEN = "model-token"
    settings.MODELS_REMOTE_TIMEOUT_SECONDS = 0.3
    settings.MODELS_REMOTE_COOLDOWN_SECONDS = 30
    remote.reset_breaker()
    yield server
    remote.reset_breaker()
    server.close()


# --- the seeded demo, shared -------------------------------------------------------------------


def _switch_database(name: str) -> None:
    """Point the default connection at another database of the same server (closed first;
    the next query opens it there). Process caches keyed by database content go too."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from testengine.bank import forget_local_pools

    connection.close()
    connection.settings_dict["NAME"] = settings.DATABASES["default"]["NAME"] = name
    ContentType.objects.clear_cache()
    forget_local_pools()


def _server_connection():
    """An autocommit connection to the server's ``postgres`` database, as the test
    database's settings reach it."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    params.update(dbname="postgres", autocommit=True)
    for name in ("cursor_factory", "context", "prepare_threshold", "options"):
        params.pop(name, None)
    return psycopg.connect(**params)


@pytest.fixture(scope="session")
def demo_database(django_db_setup, django_db_blocker):
    """A database holding what ``manage.py seed_demo`` makes of this worker's test
    database, seeded once per xdist worker (a seed takes seconds; a test that needs a
    seeded demo would otherwise pay them each time). Its name and ``output``, what that
    first seed printed. Tests use it through ``seeded_demo``; it is dropped at the end."""
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    test_database = connection.settings_dict["NAME"]
    name = f"{test_database}_demo"
    with django_db_blocker.unblock():
        connection.close()  # a template may have no other session
        with _server_connection() as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            server.execute(f'CREATE DATABASE "{name}" TEMPLATE "{test_database}"')
        out = io.StringIO()
        _switch_database(name)
        try:
            # This runs before the test's own clean-up (_isolate_side_channels): a Redis
            # cache may still hold the last test's pools under the versions this seed uses.
            cache.clear()
            with override_settings(DEBUG=True):  # as the seeding tests set it
                call_command("seed_demo", stdout=out)
        finally:
            _switch_database(test_database)
    yield SimpleNamespace(name=name, output=out.getvalue())
    with django_db_blocker.unblock(), _server_connection() as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def seeded_demo(request, demo_database, django_db_blocker):
    """The test runs on the seeded demo (``demo_database``), in a transaction rolled back
    afterwards, so each test sees exactly the first seed's result. Returns what that seed
    printed. Use it instead of ``django_db`` / ``db`` (those open the test database)."""
    from django.db import connection, transaction

    if request.node.get_closest_marker("django_db") or "db" in request.fixturenames:
        raise pytest.UsageError("seeded_demo replaces django_db / db; ask for one or the other")
    test_database = connection.settings_dict["NAME"]
    with django_db_blocker.unblock():
        _switch_database(demo_database.name)
        try:
            with transaction.atomic():
                yield demo_database.output
                transaction.set_rollback(True)
        finally:
            _switch_database(test_database)
