import pytest
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import Device, User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.accounts.helpers import bearer

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/token/"


def _register(api_client, **overrides):
    body = {
        "email": "Asha.Verma@Example.com",
        "password": "correct-horse-battery",
        "full_name": "Asha Verma",
        **overrides,
    }
    return api_client.post(REGISTER, body, format="json", HTTP_USER_AGENT="ExamforgeApp/1.0")


def test_register_creates_a_learner_logged_in_on_this_device(api_client):
    response = _register(api_client, phone="98765 43210")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    assert body["user"]["email"] == "asha.verma@example.com"
    assert body["user"]["phone"] == "+919876543210"
    assert body["user"]["is_staff"] is False
    user = User.objects.get()
    assert str(user.public_id) == body["user"]["id"]
    assert user.check_password("correct-horse-battery")
    device = Device.objects.get(user=user)
    assert device.login_method == "register"
    assert device.user_agent == "ExamforgeApp/1.0"
    assert device.ip_address == "127.0.0.1"
    me = bearer(body["access"]).get("/api/v1/auth/me/")
    assert me.json()["email"] == "asha.verma@example.com"


def test_register_refuses_an_email_differing_only_in_case(api_client):
    UserFactory(email="asha.verma@example.com")

    response = _register(api_client, email="ASHA.VERMA@example.com")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert response.json()["fields"] == {"email": ["An account with this email already exists."]}
    assert User.objects.count() == 1
    assert Device.objects.count() == 0
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "This password is too short. It must contain at least 10 characters."),
        ("password1234", "This password is too common."),
        ("3141592653589", "This password is entirely numeric."),
        ("asha.verma@example", "The password is too similar to the email address."),
    ],
)
def test_register_refuses_a_weak_password_and_writes_nothing(api_client, password, message):
    response = _register(api_client, password=password)

    assert response.status_code == 400
    assert message in response.json()["fields"]["password"]
    assert User.objects.count() == 0
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"full_name": "x" * 151}, "full_name"),
        ({"is_staff": True}, "is_staff"),
    ],
)
def test_register_refuses_bad_or_extra_fields(api_client, overrides, field):
    response = _register(api_client, **overrides)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert User.objects.count() == 0


def test_register_refuses_a_phone_someone_verified(api_client):
    UserFactory(phone="+919876543210", phone_verified_at=timezone.now())

    response = _register(api_client, phone="+91 98765 43210")

    assert response.status_code == 400
    assert response.json()["fields"] == {
        "phone": ["An account with this phone number already exists."]
    }
    assert User.objects.count() == 1


def test_a_phone_someone_claimed_unverified_does_not_block_registering_it(api_client):
    squatter = UserFactory(phone="+919876543210")  # never proved

    response = _register(api_client, phone="+91 98765 43210")

    assert response.status_code == 201
    assert response.json()["user"]["phone"] == "+919876543210"
    squatter.refresh_from_db()
    assert squatter.phone is None


def test_register_with_missing_fields_names_each(api_client):
    response = api_client.post(REGISTER, {}, format="json")

    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email", "password"}


def test_login_returns_a_token_pair_and_records_the_device(api_client):
    user = UserFactory(email="ravi@example.com")

    response = api_client.post(
        LOGIN,
        {"email": "RAVI@example.com", "password": DEFAULT_PASSWORD},
        format="json",
        HTTP_USER_AGENT="Mozilla/5.0 test",
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    device = Device.objects.get(user=user)
    assert (device.user_agent, device.ip_address, device.login_method) == (
        "Mozilla/5.0 test",
        "203.0.113.9",
        "password",
    )
    user.refresh_from_db()
    assert user.last_login is not None


@pytest.mark.parametrize(
    "case", ["wrong_password", "unknown_email", "inactive_user", "otp_only_account"]
)
def test_login_failures_look_the_same_and_mint_nothing(api_client, case):
    user = UserFactory(email="ravi@example.com")
    email, password = "ravi@example.com", DEFAULT_PASSWORD
    if case == "wrong_password":
        password = "not-the-password"
    elif case == "unknown_email":
        email = "nobody@example.com"
    elif case == "inactive_user":
        user.is_active = False
        user.save()
    else:
        user.set_unusable_password()
        user.save()

    response = api_client.post(LOGIN, {"email": email, "password": password}, format="json")

    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_credentials",
        "detail": "No active account matches this email and password.",
    }
    assert Device.objects.count() == 0
    assert OutstandingToken.objects.count() == 0


def test_login_ignores_a_stale_authorization_header(api_client):
    UserFactory(email="ravi@example.com")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer expired.garbage.token")

    response = api_client.post(
        LOGIN, {"email": "ravi@example.com", "password": DEFAULT_PASSWORD}, format="json"
    )

    assert response.status_code == 200


def test_login_is_throttled_per_account_across_addresses(api_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_account": "3/min", "login_ip": "100/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    UserFactory(email="ravi@example.com")

    statuses = [
        api_client.post(
            LOGIN,
            {"email": "Ravi@example.com", "password": "wrong-guess"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{n}",
        ).status_code
        for n in range(4)
    ]

    assert statuses == [401, 401, 401, 429]
    blocked = api_client.post(
        LOGIN, {"email": "ravi@example.com", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert blocked.status_code == 429
    assert int(blocked["Retry-After"]) > 0
    assert Device.objects.count() == 0
