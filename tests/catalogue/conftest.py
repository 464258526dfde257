import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from tests.accounts.factories import StaffFactory, UserFactory


@pytest.fixture
def staff_client(db) -> APIClient:
    """A staff member holding every catalogue permission (not a superuser)."""
    user = StaffFactory()
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="catalogue"))
    client = APIClient()
    client.force_authenticate(user)
    client.user = user
    return client


@pytest.fixture
def learner_client(db) -> APIClient:
    client = APIClient()
    client.force_authenticate(UserFactory())
    return client


@pytest.fixture
def bare_staff_client(db) -> APIClient:
    """Staff without any catalogue permission."""
    client = APIClient()
    client.force_authenticate(StaffFactory())
    return client
