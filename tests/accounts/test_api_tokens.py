"""Refresh rotation, logout, logout-all and the device list."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import Device
from tests.accounts.factories import UserFactory, logged_in_device
from tests.accounts.helpers import bearer, login, refresh

pytestmark = pytest.mark.django_db


def test_refresh_rotates_and_the_old_refresh_token_is_refused_after(api_client, user):
    tokens = login(api_client, user.email)

    first = refresh(api_client, tokens["refresh"])
    again = refresh(api_client, tokens["refresh"])

    assert first.status_code == 200
    assert set(first.json()) == {"access", "refresh"}
    assert first.json()["refresh"] != tokens["refresh"]
    assert again.status_code == 401
    assert again.json()["code"] == "token_not_valid"
    assert bearer(first.json()["access"]).get("/api/v1/auth/me/").status_code == 200
    # The replay revoked the device: its newer refresh token is refused as well.
    assert refresh(api_client, first.json()["refresh"]).status_code == 401


def test_refresh_keeps_the_device_and_moves_its_current_token(api_client, user):
    tokens = login(api_client, user.email)
    device = Device.objects.get(user=user)

    new = refresh(api_client, tokens["refresh"]).json()

    device.refresh_from_db()
    assert Device.objects.filter(user=user).count() == 1
    assert device.current_jti == RefreshToken(new["refresh"])["jti"]
    assert BlacklistedToken.objects.filter(
        token__jti=RefreshToken(tokens["refresh"], verify=False)["jti"]
    ).exists()


@pytest.mark.parametrize(
    "token",
    ["", "not-a-jwt", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl"],
    ids=["empty", "garbage", "bad-signature"],
)
def test_refresh_refuses_malformed_tokens(api_client, token):
    response = refresh(api_client, token)

    assert response.status_code in {400, 401}
    assert response.json()["code"] in {"invalid", "token_not_valid"}


def test_refresh_refuses_an_access_token(api_client, user):
    tokens = login(api_client, user.email)

    response = refresh(api_client, tokens["access"])

    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_refresh_refuses_a_token_of_a_deactivated_user(api_client, user):
    tokens = login(api_client, user.email)
    user.is_active = False
    user.save()

    response = refresh(api_client, tokens["refresh"])

    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"


def test_logout_revokes_the_device_and_its_refresh_token(api_client, user):
    tokens = login(api_client, user.email)

    response = api_client.post(
        "/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json"
    )

    assert response.status_code == 204
    assert refresh(api_client, tokens["refresh"]).status_code == 401
    assert Device.objects.get(user=user).revoked_at is not None
    again = api_client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_logout_with_a_rotated_token_is_reuse_and_revokes_the_device(api_client, user):
    tokens = login(api_client, user.email)
    newer = refresh(api_client, tokens["refresh"]).json()

    response = api_client.post(
        "/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json"
    )

    assert response.status_code == 401
    # As at refresh, a rotated token coming back is theft: the device's chain ends.
    assert Device.objects.get(user=user).revoked_at is not None
    assert refresh(api_client, newer["refresh"]).status_code == 401


def test_logout_all_revokes_every_device_of_the_user_only(api_client, user):
    phone = login(APIClient(), user.email)
    laptop = login(APIClient(), user.email)
    other = UserFactory()
    others_tokens = login(APIClient(), other.email)

    response = bearer(laptop["access"]).post("/api/v1/auth/logout-all/")

    assert response.status_code == 204
    assert refresh(api_client, phone["refresh"]).status_code == 401
    assert refresh(api_client, laptop["refresh"]).status_code == 401
    assert refresh(api_client, others_tokens["refresh"]).status_code == 200
    assert Device.objects.filter(user=user, revoked_at__isnull=True).count() == 0


def test_logout_all_needs_authentication(api_client):
    response = api_client.post("/api/v1/auth/logout-all/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_devices_lists_only_my_live_devices_and_marks_the_current_one(
    api_client, user, django_assert_max_num_queries
):
    first = login(APIClient(), user.email, HTTP_USER_AGENT="Phone")
    login(APIClient(), user.email, HTTP_USER_AGENT="Laptop")
    gone = login(APIClient(), user.email, HTTP_USER_AGENT="Old tablet")
    APIClient().post("/api/v1/auth/logout/", {"refresh": gone["refresh"]}, format="json")
    login(APIClient(), UserFactory().email, HTTP_USER_AGENT="Someone else")

    with django_assert_max_num_queries(3):
        response = bearer(first["access"]).get("/api/v1/auth/devices/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert sorted(d["user_agent"] for d in results) == ["Laptop", "Phone"]
    assert [d["user_agent"] for d in results if d["current"]] == ["Phone"]
    assert set(results[0]) == {
        "id",
        "user_agent",
        "ip_address",
        "login_method",
        "created_at",
        "last_used_at",
        "expires_at",
        "current",
    }


def test_devices_list_query_count_does_not_grow_with_devices(
    api_client, user, django_assert_max_num_queries
):
    tokens = login(APIClient(), user.email)
    for n in range(15):
        logged_in_device(user, user_agent=f"Device {n}")

    with django_assert_max_num_queries(3):
        response = bearer(tokens["access"]).get("/api/v1/auth/devices/?page_size=50")

    assert response.json()["count"] == 16


def test_revoking_my_device_ends_its_refresh_chain(api_client, user):
    mine = login(APIClient(), user.email, HTTP_USER_AGENT="Phone")
    other_device = login(APIClient(), user.email, HTTP_USER_AGENT="Laptop")
    laptop = Device.objects.get(user=user, user_agent="Laptop")

    response = bearer(mine["access"]).post(f"/api/v1/auth/devices/{laptop.id}/revoke/")

    assert response.status_code == 200
    assert response.json()["id"] == str(laptop.id)
    assert refresh(api_client, other_device["refresh"]).status_code == 401
    assert refresh(api_client, mine["refresh"]).status_code == 200


def test_another_users_device_is_not_found_and_stays_live(api_client, user):
    mine = login(APIClient(), user.email)
    victim = UserFactory()
    victim_tokens = login(APIClient(), victim.email)
    victim_device = Device.objects.get(user=victim)

    response = bearer(mine["access"]).post(f"/api/v1/auth/devices/{victim_device.id}/revoke/")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    victim_device.refresh_from_db()
    assert victim_device.revoked_at is None
    assert refresh(api_client, victim_tokens["refresh"]).status_code == 200


def test_revoke_with_a_malformed_device_id_is_not_found(api_client, user):
    mine = login(APIClient(), user.email)

    response = bearer(mine["access"]).post("/api/v1/auth/devices/not-a-uuid/revoke/")

    assert response.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_yield_exactly_one_new_pair(user):
    tokens = login(APIClient(), user.email)
    statuses: list[int] = []
    barrier = threading.Barrier(4)

    def attempt() -> None:
        barrier.wait()
        try:
            statuses.append(refresh(APIClient(), tokens["refresh"]).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200, 401, 401, 401]


def test_reusing_a_rotated_refresh_token_revokes_the_whole_device(api_client, user):
    tokens = login(api_client, user.email)
    other_device = login(APIClient(), user.email)
    newer = refresh(api_client, tokens["refresh"]).json()

    reuse = refresh(APIClient(), tokens["refresh"])  # the thief replays the stolen old token

    assert reuse.status_code == 401
    assert reuse.json()["code"] == "token_not_valid"
    # The device's newest refresh token is dead too, for the thief and the victim alike.
    assert refresh(api_client, newer["refresh"]).status_code == 401
    device = Device.objects.get(current_jti=RefreshToken(newer["refresh"], verify=False)["jti"])
    assert device.revoked_at is not None
    # Another device of the same user is another lineage: untouched.
    assert refresh(APIClient(), other_device["refresh"]).status_code == 200


def test_a_forged_or_never_rotated_token_revokes_nothing(api_client, user):
    tokens = login(api_client, user.email)
    forged = RefreshToken(tokens["refresh"], verify=False)
    forged_raw = str(forged)[:-4] + ("AAAA" if not str(forged).endswith("AAAA") else "BBBB")

    assert refresh(APIClient(), forged_raw).status_code == 401
    assert refresh(api_client, tokens["refresh"]).status_code == 200
