"""``me`` and password change."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.accounts.helpers import bearer, login, refresh

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me/"
PASSWORD = "/api/v1/auth/password/change/"


def test_me_returns_my_profile_with_explicit_fields(auth_client, user):
    response = auth_client.get(ME)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.public_id),
        "email": user.email,
        "phone": None,
        "full_name": user.full_name,
        "email_verified": False,
        "phone_verified": False,
        "is_staff": False,
        "date_joined": response.json()["date_joined"],
    }
    assert "password" not in response.content.decode()


def test_me_needs_a_token(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_patch_me_updates_the_name_and_can_remove_the_phone(auth_client, user):
    user.phone, user.phone_verified_at = "+919876543210", user.date_joined
    user.save()

    response = auth_client.patch(ME, {"full_name": "  Asha V.  ", "phone": None}, format="json")

    assert response.status_code == 200
    assert response.json()["full_name"] == "Asha V."
    user.refresh_from_db()
    assert (user.full_name, user.phone, user.phone_verified_at) == ("Asha V.", None, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "new@example.com"}, "email"),
        ({"is_staff": True}, "is_staff"),
        ({"phone": "12"}, "phone"),
        ({"phone": "+919876543210"}, "phone"),
        ({"full_name": "x" * 151}, "full_name"),
    ],
)
def test_patch_me_refuses_and_changes_nothing(auth_client, user, body, field):
    before = User.objects.values().get(pk=user.pk)

    response = auth_client.patch(ME, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert User.objects.values().get(pk=user.pk) == before


def test_patch_me_never_sets_a_phone_and_says_the_same_for_taken_and_free_numbers(
    auth_client, user
):
    UserFactory(phone="+919876543210")

    taken = auth_client.patch(ME, {"phone": "+919876543210"}, format="json")
    free = auth_client.patch(ME, {"phone": "+919876543211"}, format="json")

    assert taken.status_code == free.status_code == 400
    assert taken.json() == free.json()
    assert "auth/me/contact/" in taken.json()["fields"]["phone"][0]
    user.refresh_from_db()
    assert user.phone is None


def test_password_change_keeps_this_device_and_logs_out_the_others(api_client, user):
    here = login(APIClient(), user.email)
    elsewhere = login(APIClient(), user.email)

    response = bearer(here["access"]).post(
        PASSWORD,
        {"old_password": DEFAULT_PASSWORD, "new_password": "a-brand-new-passphrase"},
        format="json",
    )

    assert response.status_code == 204
    assert refresh(api_client, elsewhere["refresh"]).status_code == 401
    assert refresh(api_client, here["refresh"]).status_code == 200
    user.refresh_from_db()
    assert user.check_password("a-brand-new-passphrase")
    login(APIClient(), user.email, "a-brand-new-passphrase")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"old_password": "wrong-password", "new_password": "a-brand-new-passphrase"},
            "old_password",
        ),
        ({"old_password": DEFAULT_PASSWORD, "new_password": "short"}, "password"),
        ({"old_password": DEFAULT_PASSWORD}, "new_password"),
    ],
)
def test_password_change_refusals_change_nothing(api_client, user, body, field):
    here = login(APIClient(), user.email)
    elsewhere = login(APIClient(), user.email)

    response = bearer(here["access"]).post(PASSWORD, body, format="json")

    assert response.status_code == 400
    assert field in response.json()["fields"]
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)
    assert refresh(api_client, elsewhere["refresh"]).status_code == 200


def test_password_change_for_an_otp_only_account_is_a_conflict(user):
    from tests.accounts.factories import logged_in_device

    user.set_unusable_password()
    user.save()
    tokens = logged_in_device(user).tokens

    response = bearer(tokens.access).post(
        PASSWORD,
        {"old_password": "any-guess-at-all", "new_password": "a-brand-new-passphrase"},
        format="json",
    )

    assert response.status_code == 409
    assert response.json()["code"] == "password_not_set"
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_password_change_needs_a_token(api_client):
    response = api_client.post(
        PASSWORD, {"old_password": "x", "new_password": "a-brand-new-passphrase"}, format="json"
    )

    assert response.status_code == 401
