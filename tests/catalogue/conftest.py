import pytest
from rest_framework.test import APIClient

from tests.conftest import staff_client_for


@pytest.fixture
def staff_client(db) -> APIClient:
    """A staff member holding every catalogue permission (not a superuser)."""
    return staff_client_for("catalogue")
