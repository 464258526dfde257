"""One-time-code login by email and by phone."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import sms
from accounts.models import Device, OTPChallenge, User
from tests.accounts.factories import UserFactory
from tests.accounts.helpers import bearer

pytestmark = pytest.mark.django_db

REQUEST = "/api/v1/auth/otp/request/"
VERIFY = "/api/v1/auth/otp/verify/"


def _emailed_code(index: int = -1) -> str:
    return re.search(r"\b(\d{6})\b", mail.outbox[index].body).group(1)


def _request(api_client, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        return api_client.post(REQUEST, body, format="json")


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_otp_request_answers_the_same_for_known_and_unknown_addresses(
    api_client, django_capture_on_commit_callbacks
):
    UserFactory(email="known@example.com")

    known = _request(api_client, django_capture_on_commit_callbacks, email="known@example.com")
    unknown = _request(api_client, django_capture_on_commit_callbacks, email="new@example.com")

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert known.json()["expires_in"] == 300
    assert [m.to for m in mail.outbox] == [["known@example.com"], ["new@example.com"]]


def test_otp_code_is_stored_hashed_never_in_clear(api_client, django_capture_on_commit_callbacks):
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    code = _emailed_code()

    challenge = OTPChallenge.objects.get()
    assert code not in challenge.code_hash
    assert len(challenge.code_hash) == 64
    lifetime = (challenge.expires_at - challenge.created_at).total_seconds()
    assert 299 <= lifetime <= 300


def test_otp_verify_creates_the_account_on_first_use_and_logs_in(
    api_client, django_capture_on_commit_callbacks
):
    _request(api_client, django_capture_on_commit_callbacks, email="New.Learner@Example.com")

    response = api_client.post(
        VERIFY, {"email": "new.learner@example.com", "code": _emailed_code()}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"user", "access", "refresh"}
    user = User.objects.get(email="new.learner@example.com")
    assert body["user"]["email_verified"] is True
    assert not user.has_usable_password()
    assert Device.objects.get(user=user).login_method == "otp"
    assert bearer(body["access"]).get("/api/v1/auth/me/").json()["id"] == str(user.public_id)


def test_otp_verify_logs_into_an_existing_account(api_client, django_capture_on_commit_callbacks):
    user = UserFactory(email="known@example.com")
    _request(api_client, django_capture_on_commit_callbacks, email="known@example.com")

    response = api_client.post(
        VERIFY, {"email": "known@example.com", "code": _emailed_code()}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["user"]["id"] == str(user.public_id)
    assert User.objects.count() == 1


def test_otp_by_phone_sends_an_sms_and_creates_a_phone_account(
    api_client, django_capture_on_commit_callbacks
):
    _request(api_client, django_capture_on_commit_callbacks, phone="98765 43210")
    assert [m.to for m in sms.outbox] == ["+919876543210"]
    code = re.search(r"\b(\d{6})\b", sms.outbox[0].body).group(1)

    response = api_client.post(VERIFY, {"phone": "+919876543210", "code": code}, format="json")

    assert response.status_code == 200
    user = User.objects.get(phone="+919876543210")
    assert user.email is None
    assert response.json()["user"]["phone_verified"] is True


def test_a_code_works_once(api_client, django_capture_on_commit_callbacks):
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    body = {"email": "asha@example.com", "code": _emailed_code()}

    first = api_client.post(VERIFY, body, format="json")
    second = api_client.post(VERIFY, body, format="json")

    assert first.status_code == 200
    assert second.status_code == 410
    assert second.json()["code"] == "otp_expired"
    assert Device.objects.count() == 1


def test_a_new_request_replaces_the_open_code(api_client, django_capture_on_commit_callbacks):
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    old_code = _emailed_code()
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    new_code = _emailed_code()

    assert OTPChallenge.objects.filter(consumed_at__isnull=True).count() == 1
    if old_code != new_code:
        stale = api_client.post(
            VERIFY, {"email": "asha@example.com", "code": old_code}, format="json"
        )
        assert stale.status_code == 400
    fresh = api_client.post(VERIFY, {"email": "asha@example.com", "code": new_code}, format="json")
    assert fresh.status_code == 200


def test_a_wrong_code_is_counted_and_says_how_many_tries_remain(
    api_client, django_capture_on_commit_callbacks
):
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    code = _emailed_code()

    response = api_client.post(
        VERIFY, {"email": "asha@example.com", "code": _wrong(code)}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "otp_invalid",
        "detail": "The code is not correct. 4 attempts left.",
    }
    assert OTPChallenge.objects.get().attempts == 1
    assert User.objects.count() == 0
    assert OutstandingToken.objects.count() == 0


def test_five_wrong_codes_close_the_challenge_even_for_the_right_code(
    api_client, django_capture_on_commit_callbacks
):
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    code = _emailed_code()
    wrong = {"email": "asha@example.com", "code": _wrong(code)}

    statuses = [api_client.post(VERIFY, wrong, format="json").status_code for _ in range(5)]
    right = api_client.post(VERIFY, {"email": "asha@example.com", "code": code}, format="json")

    assert statuses == [400, 400, 400, 400, 410]
    assert right.status_code == 410
    assert right.json()["code"] == "otp_expired"
    challenge = OTPChallenge.objects.get()
    assert (challenge.attempts, challenge.closed_reason) == (5, "exhausted")
    assert User.objects.count() == 0


def test_an_expired_code_is_refused(api_client, django_capture_on_commit_callbacks):
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    OTPChallenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    response = api_client.post(
        VERIFY, {"email": "asha@example.com", "code": _emailed_code()}, format="json"
    )

    assert response.status_code == 410
    assert response.json()["code"] == "otp_expired"
    assert User.objects.count() == 0


def test_verify_without_any_request_is_refused(api_client):
    response = api_client.post(
        VERIFY, {"email": "asha@example.com", "code": "123456"}, format="json"
    )

    assert response.status_code == 410
    assert OTPChallenge.objects.count() == 0


def test_otp_never_mints_tokens_for_a_disabled_account(
    api_client, django_capture_on_commit_callbacks
):
    UserFactory(email="blocked@example.com", is_active=False)
    _request(api_client, django_capture_on_commit_callbacks, email="blocked@example.com")

    response = api_client.post(
        VERIFY, {"email": "blocked@example.com", "code": _emailed_code()}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "account_disabled"
    assert Device.objects.count() == 0
    assert OutstandingToken.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"email": "a@example.com", "phone": "+919876543210"}, "non_field_errors"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "123"}, "phone"),
        ({"email": "a@example.com", "channel": "sms"}, "channel"),
    ],
)
def test_otp_request_refuses_bad_input_and_sends_nothing(
    api_client, django_capture_on_commit_callbacks, body, field
):
    response = _request(api_client, django_capture_on_commit_callbacks, **body)

    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert OTPChallenge.objects.count() == 0
    assert mail.outbox == []
    assert sms.outbox == []


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", ""])
def test_otp_verify_refuses_malformed_codes_without_counting_them(
    api_client, django_capture_on_commit_callbacks, code
):
    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")

    response = api_client.post(VERIFY, {"email": "asha@example.com", "code": code}, format="json")

    assert response.status_code == 400
    assert "code" in response.json()["fields"]
    assert OTPChallenge.objects.get().attempts == 0


def test_otp_request_is_throttled_per_destination(
    api_client, django_capture_on_commit_callbacks, monkeypatch
):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {
        **SimpleRateThrottle.THROTTLE_RATES,
        "otp_request_destination": "2/hour",
        "otp_request_ip": "100/hour",
    }
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    statuses = [
        _request(api_client, django_capture_on_commit_callbacks, email=email).status_code
        for email in [
            "asha@example.com",
            "ASHA@example.com",
            "asha@example.com",
            "ravi@example.com",
        ]
    ]

    assert statuses == [202, 202, 429, 202]
    assert len(mail.outbox) == 3


def test_the_code_never_reaches_the_logs(api_client, django_capture_on_commit_callbacks, caplog):
    caplog.set_level("DEBUG")

    _request(api_client, django_capture_on_commit_callbacks, email="asha@example.com")
    code = _emailed_code()
    api_client.post(VERIFY, {"email": "asha@example.com", "code": code}, format="json")

    assert code not in caplog.text


def test_phone_otp_is_refused_up_front_when_no_sms_provider_is_configured(
    api_client, django_capture_on_commit_callbacks, settings
):
    settings.SMS_BACKEND = "accounts.sms.DisabledSmsBackend"

    response = _request(api_client, django_capture_on_commit_callbacks, phone="+919876543210")

    assert response.status_code == 503
    assert response.json()["code"] == "sms_unavailable"
    assert OTPChallenge.objects.count() == 0
    assert sms.outbox == []


def test_verifying_a_phone_code_is_refused_too_when_no_sms_provider_is_configured(
    api_client, settings
):
    settings.SMS_BACKEND = "accounts.sms.DisabledSmsBackend"

    response = api_client.post(VERIFY, {"phone": "+919876543210", "code": "123456"}, format="json")

    assert response.status_code == 503
    assert response.json()["code"] == "sms_unavailable"


def test_the_file_backend_writes_one_file_per_text_message(
    api_client, django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.SMS_BACKEND = "accounts.sms.FileSmsBackend"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")

    first = _request(api_client, django_capture_on_commit_callbacks, phone="+919876543210")
    second = _request(api_client, django_capture_on_commit_callbacks, phone="+919876543211")

    assert (first.status_code, second.status_code) == (202, 202)
    files = sorted((tmp_path / "sms").glob("*.sms"))
    assert [f.read_text().splitlines()[0] for f in files] == [
        "To: +919876543210",
        "To: +919876543211",
    ]
    assert re.search(r"\b\d{6}\b is your Examforge login code", files[0].read_text())


def test_proving_an_email_someone_registered_unverified_takes_the_account_over(
    api_client, django_capture_on_commit_callbacks
):
    from rest_framework.test import APIClient

    from tests.accounts.helpers import login, refresh

    squatter = UserFactory(email="victim@example.com")  # registered by an attacker
    attacker = login(APIClient(), "victim@example.com")
    _request(api_client, django_capture_on_commit_callbacks, email="victim@example.com")

    response = api_client.post(
        VERIFY, {"email": "victim@example.com", "code": _emailed_code()}, format="json"
    )

    assert response.status_code == 200
    squatter.refresh_from_db()
    assert not squatter.has_usable_password()
    assert refresh(APIClient(), attacker["refresh"]).status_code == 401


def test_proving_a_phone_someone_claimed_unverified_gives_the_prover_their_own_account(
    api_client, django_capture_on_commit_callbacks
):
    squatter = UserFactory(phone="+919876543210")  # unverified on someone else's profile
    _request(api_client, django_capture_on_commit_callbacks, phone="+919876543210")
    code = re.search(r"\b(\d{6})\b", sms.outbox[0].body).group(1)

    response = api_client.post(VERIFY, {"phone": "+919876543210", "code": code}, format="json")

    assert response.status_code == 200
    assert response.json()["user"]["id"] != str(squatter.public_id)
    squatter.refresh_from_db()
    assert squatter.phone is None


def test_phone_spellings_share_one_otp_throttle_bucket(
    api_client, django_capture_on_commit_callbacks, monkeypatch
):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {
        **SimpleRateThrottle.THROTTLE_RATES,
        "otp_request_destination": "2/hour",
        "otp_request_ip": "100/hour",
    }
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    statuses = [
        _request(api_client, django_capture_on_commit_callbacks, phone=phone).status_code
        for phone in ["+919876543210", "098765 43210", "+91-98765-43210"]
    ]

    assert statuses == [202, 202, 429]
