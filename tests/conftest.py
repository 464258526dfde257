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
