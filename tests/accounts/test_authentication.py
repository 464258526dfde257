"""Bearer access tokens on every API request (accounts.authentication)."""

import uuid

import pytest
from rest_framework_simplejwt.tokens import AccessToken

from accounts.models import User
from tests.accounts.factories import UserFactory
from tests.accounts.helpers import bearer, login

pytestmark = pytest.mark.django_db


def _token_for(public_id) -> str:
    token = AccessToken()
    token["user_id"] = str(public_id)
    return str(token)


def test_a_valid_access_token_authenticates_its_user_in_one_query(
    api_client, user, django_assert_num_queries
):
    access = login(api_client, user.email)["access"]
    client = bearer(access)

    with django_assert_num_queries(1):  # the user; /auth/me/ needs nothing more
        response = client.get("/api/v1/auth/me/")

    assert response.status_code == 200
    assert response.json()["email"] == user.email


@pytest.mark.parametrize("case", ["deactivated", "deleted", "not_a_uuid", "no_user_claim"])
def test_tokens_of_no_usable_user_are_401_in_the_error_shape(case):
    user = UserFactory()
    if case == "deactivated":
        User.objects.filter(pk=user.pk).update(is_active=False)
        access = _token_for(user.public_id)
    elif case == "deleted":
        access = _token_for(uuid.uuid4())
    elif case == "not_a_uuid":
        access = _token_for("12345")
    else:
        token = AccessToken()
        access = str(token)

    response = bearer(access).get("/api/v1/auth/me/")

    assert response.status_code == 401
    body = response.json()
    assert set(body) >= {"code", "detail"}
    expected = {"deactivated": "user_inactive", "deleted": "user_not_found"}
    assert body["code"] == expected.get(case, "token_not_valid")
