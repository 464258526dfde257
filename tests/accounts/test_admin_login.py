"""The admin login page is throttled like the API login: per address and per account."""

import pytest
from django.test import Client

from tests.accounts.factories import DEFAULT_PASSWORD, StaffFactory
from tests.accounts.helpers import login

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"


def _attempt(client: Client, email: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        f"{LOGIN}?next=/admin/", {"username": email, "password": password}, REMOTE_ADDR=ip
    )


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def _rates(monkeypatch):
    """The shipped defaults (the API login's), whatever the environment says."""
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_ip": "20/min", "login_account": "10/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)


@pytest.mark.usefixtures("_rates")
def test_the_eleventh_attempt_is_refused_even_with_the_right_password():
    staff = StaffFactory()
    client = Client()
    wrong = [_attempt(client, staff.email, "wrong-password").status_code for _ in range(10)]

    right = _attempt(client, staff.email, DEFAULT_PASSWORD)

    assert wrong == [200] * 10
    assert right.status_code == 429
    assert int(right["Retry-After"]) > 0
    assert "Too many login attempts" in right.content.decode()
    assert not _logged_in(client)


@pytest.mark.usefixtures("_rates")
def test_the_lockout_reads_the_same_for_an_account_that_does_not_exist():
    staff = StaffFactory()
    for email in (staff.email, "nobody@example.com"):
        for _ in range(10):
            _attempt(Client(), email, "wrong-password")

    known = _attempt(Client(), staff.email, "wrong-password")
    unknown = _attempt(Client(), "nobody@example.com", "wrong-password")

    assert known.status_code == unknown.status_code == 429
    assert "Too many login attempts" in known.content.decode()
    assert staff.email not in known.content.decode().replace(f'value="{staff.email}"', "")


@pytest.mark.usefixtures("_rates")
def test_the_account_limit_follows_the_account_across_addresses_and_spares_others():
    staff, colleague = StaffFactory(), StaffFactory()
    for _ in range(10):
        _attempt(Client(), staff.email.upper(), "wrong-password", ip="10.0.0.1")

    elsewhere = Client()
    from_elsewhere = _attempt(elsewhere, staff.email, DEFAULT_PASSWORD, ip="10.0.0.2")
    colleague_client = Client()
    colleague_login = _attempt(colleague_client, colleague.email, DEFAULT_PASSWORD, ip="10.0.0.1")

    assert from_elsewhere.status_code == 429  # same account, another address: refused
    assert not _logged_in(elsewhere)
    assert colleague_login.status_code == 302  # another account, same address: in
    assert _logged_in(colleague_client)


@pytest.mark.usefixtures("_rates")
def test_the_address_limit_holds_across_accounts():
    staff = StaffFactory()
    for n in range(20):
        _attempt(Client(), f"guess{n}@example.com", "wrong-password", ip="10.0.0.9")

    blocked = Client()
    from_that_address = _attempt(blocked, staff.email, DEFAULT_PASSWORD, ip="10.0.0.9")
    other = Client()
    from_another = _attempt(other, staff.email, DEFAULT_PASSWORD, ip="10.0.0.10")

    assert from_that_address.status_code == 429
    assert not _logged_in(blocked)
    assert from_another.status_code == 302
    assert _logged_in(other)


@pytest.mark.usefixtures("_rates")
def test_admin_and_api_logins_spend_the_same_account_bucket(api_client):
    staff = StaffFactory()
    for _ in range(5):
        _attempt(Client(), staff.email, "wrong-password", ip="10.0.0.3")
    for _ in range(5):
        login(api_client, staff.email)

    response = api_client.post(
        "/api/v1/auth/token/", {"email": staff.email, "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 429


def test_the_login_page_itself_is_never_throttled():
    client = Client()
    assert all(client.get(LOGIN).status_code == 200 for _ in range(30))
