"""Fixtures shared by every test package. Tests run on real PostgreSQL (see Makefile)."""

from __future__ import annotations

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
