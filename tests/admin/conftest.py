"""Every admin test has the staff groups (see the ``staff_groups`` fixture)."""

import pytest


@pytest.fixture(autouse=True)
def _staff_groups(staff_groups):
    return staff_groups
