"""Adding or changing a phone or email: a code to the new address, then verify."""

import logging
import re

import pytest
from django.core import mail
from django.utils import timezone

from accounts import sms
from accounts.models import OTPChallenge, User
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGE = "/api/v1/auth/me/contact/"
VERIFY = "/api/v1/auth/me/contact/verify/"
LOGIN_VERIFY = "/api/v1/auth/otp/verify/"
PHONE = "+919876543210"


def _ask(client, capture, **body):
    with capture(execute=True):
        return client.post(CHANGE, body, format="json")


def _sms_code(to: str = PHONE) -> str:
    body = next(m.body for m in reversed(sms.outbox) if m.to == to)
    return re.search(r"\b(\d{6})\b", body).group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_asking_answers_the_same_for_a_taken_and_a_free_number_and_changes_nothing(
    auth_client, user, django_capture_on_commit_callbacks
):
    UserFactory(phone=PHONE, phone_verified_at=timezone.now())
    before = User.objects.values().get(pk=user.pk)

    taken = _ask(auth_client, django_capture_on_commit_callbacks, phone="98765 43210")
    free = _ask(auth_client, django_capture_on_commit_callbacks, phone="+919876543211")

    assert taken.status_code == free.status_code == 202
    assert taken.json() == free.json()
    assert taken.json()["expires_in"] == 300
    assert [m.to for m in sms.outbox] == [PHONE, "+919876543211"]
    assert User.objects.values().get(pk=user.pk) == before  # nothing on the profile yet


def test_verifying_moves_the_number_onto_the_profile_verified(
    auth_client, user, django_capture_on_commit_callbacks
):
    _ask(auth_client, django_capture_on_commit_callbacks, phone=PHONE)

    response = auth_client.post(VERIFY, {"phone": PHONE, "code": _sms_code()}, format="json")

    assert response.status_code == 200
    assert response.json()["phone"] == PHONE
    assert response.json()["phone_verified"] is True
    user.refresh_from_db()
    assert user.phone == PHONE
    assert user.phone_verified_at is not None
    again = auth_client.post(VERIFY, {"phone": PHONE, "code": _sms_code()}, format="json")
    assert again.status_code == 410  # single use


def test_changing_the_email_goes_through_a_code_to_the_new_address(
    auth_client, user, django_capture_on_commit_callbacks
):
    old_email = user.email
    _ask(auth_client, django_capture_on_commit_callbacks, email="New.Address@Example.com")
    assert mail.outbox[-1].to == ["new.address@example.com"]
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    user.refresh_from_db()
    assert user.email == old_email

    response = auth_client.post(
        VERIFY, {"email": "new.address@example.com", "code": code}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["email"] == "new.address@example.com"
    assert response.json()["email_verified"] is True


def test_a_wrong_code_changes_nothing_and_counts(
    auth_client, user, django_capture_on_commit_callbacks
):
    _ask(auth_client, django_capture_on_commit_callbacks, phone=PHONE)

    response = auth_client.post(
        VERIFY, {"phone": PHONE, "code": _wrong(_sms_code())}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "otp_invalid"
    user.refresh_from_db()
    assert user.phone is None
    assert OTPChallenge.objects.get(user=user).attempts == 1


def test_one_users_code_does_not_verify_for_another_user(
    auth_client, user, api_client, django_capture_on_commit_callbacks
):
    _ask(auth_client, django_capture_on_commit_callbacks, phone=PHONE)
    intruder = UserFactory()
    api_client.force_authenticate(intruder)

    response = api_client.post(VERIFY, {"phone": PHONE, "code": _sms_code()}, format="json")

    assert response.status_code == 410
    intruder.refresh_from_db()
    assert intruder.phone is None


def test_a_change_code_is_not_a_login_code(
    auth_client, api_client, django_capture_on_commit_callbacks
):
    _ask(auth_client, django_capture_on_commit_callbacks, phone=PHONE)

    response = api_client.post(LOGIN_VERIFY, {"phone": PHONE, "code": _sms_code()}, format="json")

    assert response.status_code == 410
    assert not User.objects.filter(phone=PHONE).exists()


def test_a_squatted_unverified_number_no_longer_blocks_its_owner(
    auth_client, user, django_capture_on_commit_callbacks
):
    squatter = UserFactory(phone=PHONE)  # put there unproved (legacy data or a registration)
    _ask(auth_client, django_capture_on_commit_callbacks, phone=PHONE)

    response = auth_client.post(VERIFY, {"phone": PHONE, "code": _sms_code()}, format="json")

    assert response.status_code == 200
    assert response.json()["phone"] == PHONE
    squatter.refresh_from_db()
    assert squatter.phone is None


def test_a_number_that_is_another_accounts_only_login_is_refused_at_verify(
    auth_client, user, django_capture_on_commit_callbacks
):
    owner = User.objects.create_user(email=None, phone=PHONE, phone_verified_at=timezone.now())
    _ask(auth_client, django_capture_on_commit_callbacks, phone=PHONE)

    response = auth_client.post(VERIFY, {"phone": PHONE, "code": _sms_code()}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "contact_in_use"
    user.refresh_from_db()
    owner.refresh_from_db()
    assert (user.phone, owner.phone) == (None, PHONE)


def test_asking_is_throttled_per_account(
    auth_client, django_capture_on_commit_callbacks, monkeypatch
):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "contact_change": "3/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    statuses = [
        _ask(auth_client, django_capture_on_commit_callbacks, phone=f"+91987654321{n}").status_code
        for n in range(4)
    ]

    assert statuses == [202, 202, 202, 429]
    assert len(sms.outbox) == 3


def test_asking_is_throttled_per_destination_across_accounts(
    api_client, django_capture_on_commit_callbacks, monkeypatch
):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "otp_request_destination": "2/hour"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    statuses = []
    for _ in range(3):
        api_client.force_authenticate(UserFactory())
        statuses.append(
            _ask(api_client, django_capture_on_commit_callbacks, phone=PHONE).status_code
        )

    assert statuses == [202, 202, 429]


def test_asking_needs_a_login_and_one_destination(api_client, auth_client):
    assert api_client.post(CHANGE, {"phone": PHONE}, format="json").status_code == 401
    both = auth_client.post(CHANGE, {"phone": PHONE, "email": "a@example.com"}, format="json")
    bad = auth_client.post(CHANGE, {"phone": "12"}, format="json")
    assert (both.status_code, bad.status_code) == (400, 400)
    assert OTPChallenge.objects.count() == 0


def test_the_code_never_reaches_the_log(auth_client, django_capture_on_commit_callbacks, caplog):
    with caplog.at_level(logging.DEBUG):
        _ask(auth_client, django_capture_on_commit_callbacks, email="new@example.com")
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)

    assert code not in caplog.text


def test_staff_see_whose_change_a_code_is_for(
    auth_client, user, admin_client, django_capture_on_commit_callbacks
):
    _ask(auth_client, django_capture_on_commit_callbacks, phone=PHONE)
    challenge = OTPChallenge.objects.get(user=user)

    page = admin_client.get(f"/admin/accounts/otpchallenge/{challenge.pk}/change/")

    assert page.status_code == 200
    assert str(user) in page.content.decode()
    assert challenge.code_hash not in page.content.decode()
