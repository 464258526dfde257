"""The one error shape, ``{"code", "detail"[, "fields"]}``, across the whole API."""

import copy
import json
import re
from unittest import mock

import pytest
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import Device, User
from core.errors import Conflict
from core.middleware import BodySizeLimitMiddleware
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

REGISTER = "/api/v1/auth/register/"
LOGIN = "/api/v1/auth/token/"
ME = "/api/v1/auth/me/"
NEW_ACCOUNT = {
    "email": "asha@example.com",
    "password": "correct-horse-battery",
    "full_name": "Asha Verma",
}


# --- parsing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_malformed_json_is_400_malformed_request_without_fields(api_client):
    response = api_client.post(REGISTER, data='{"email": ', content_type="application/json")

    assert response.status_code == 400
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == "malformed_request"
    assert body["detail"].startswith("JSON parse error")
    assert User.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload",
    [b'{"email": NaN, "password": "x"}', b'{"email": "\xff\xfe"}'],
    ids=["nan", "not-utf8"],
)
def test_json_outside_the_standard_is_malformed(api_client, payload):
    response = api_client.post(LOGIN, data=payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    assert "fields" not in response.json()


DEEP_BODIES = {
    "1000-open-brackets": "[" * 1000 + " " * 1000,  # a 2 KB body
    "1000-balanced": "[" * 1000 + "]" * 1000,
    "40-nested-objects": '{"a": ' * 40 + "1" + "}" * 40,
}


@pytest.mark.django_db
@pytest.mark.parametrize("payload", DEEP_BODIES.values(), ids=DEEP_BODIES.keys())
def test_a_deeply_nested_body_is_400_malformed_request(api_client, payload):
    response = api_client.post(LOGIN, data=payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "malformed_request",
        "detail": "JSON parse error - the body nests deeper than 32 levels.",
    }
    assert Device.objects.count() == 0


@pytest.mark.django_db
def test_a_deeply_nested_body_is_refused_on_an_authenticated_endpoint_too(auth_client, user):
    name = user.full_name
    response = auth_client.patch(ME, data="[" * 1000 + "]" * 1000, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"
    user.refresh_from_db()
    assert user.full_name == name


@pytest.mark.django_db
def test_nesting_within_the_bound_is_parsed(api_client):
    payload = "[" * 32 + "]" * 32

    response = api_client.post(REGISTER, data=payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"  # read, then refused as not an object


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("[]", "Invalid data. Expected a dictionary, but got list."),
        ('"asha"', "Invalid data. Expected a dictionary, but got str."),
        ("null", "No data provided"),
    ],
)
def test_a_json_body_that_is_not_an_object_is_400_invalid(api_client, payload, message):
    response = api_client.post(REGISTER, data=payload, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": message,
        "fields": {"non_field_errors": [message]},
    }
    assert User.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("text/plain", "email=asha@example.com"),
        ("application/x-www-form-urlencoded", "email=asha%40example.com&password=x"),
    ],
)
def test_a_body_that_is_not_json_is_415(api_client, content_type, payload):
    response = api_client.post(LOGIN, data=payload, content_type=content_type)

    assert response.status_code == 415
    assert response.json() == {
        "code": "unsupported_media_type",
        "detail": f'Unsupported media type "{content_type}" in request.',
    }
    assert Device.objects.count() == 0


@pytest.mark.django_db
def test_a_body_over_the_limit_is_413_and_creates_nothing(api_client, settings):
    settings.API_MAX_BODY_BYTES = 64
    body = json.dumps({**NEW_ACCOUNT, "full_name": "A" * 100})

    response = api_client.post(REGISTER, data=body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "detail": f"The request body is {len(body)} bytes; the limit is 64 bytes.",
    }
    assert User.objects.count() == 0
    assert Device.objects.count() == 0


@pytest.mark.django_db
def test_a_browser_app_on_an_allowed_origin_can_read_every_error(api_client, settings):
    # given the learner app's origin is allowed to call the API
    origin = "https://app.examforge.example"
    settings.CORS_ALLOWED_ORIGINS = [origin]
    settings.API_MAX_BODY_BYTES = 64
    oversized = json.dumps({**NEW_ACCOUNT, "full_name": "A" * 100})

    # when it sends an invalid body and an oversized one
    invalid = api_client.post(REGISTER, {}, format="json", headers={"Origin": origin})
    too_large = api_client.post(
        REGISTER, data=oversized, content_type="application/json", headers={"Origin": origin}
    )

    # then both answers are readable by it (without the header the browser hides the body)
    assert invalid.status_code == 400
    assert invalid.headers.get("Access-Control-Allow-Origin") == origin
    assert too_large.status_code == 413
    assert too_large.headers.get("Access-Control-Allow-Origin") == origin


@pytest.mark.django_db
def test_a_body_exactly_at_the_limit_is_accepted(api_client, settings):
    body = json.dumps(NEW_ACCOUNT)
    settings.API_MAX_BODY_BYTES = len(body)

    response = api_client.post(REGISTER, data=body, content_type="application/json")

    assert response.status_code == 201, response.content
    assert User.objects.filter(email="asha@example.com").count() == 1


@pytest.mark.django_db
def test_the_body_limit_applies_only_to_the_api(client, settings):
    # given a limit far below any admin login form
    settings.API_MAX_BODY_BYTES = 8

    # when a non-API page receives a larger body
    response = client.post("/admin/login/", {"username": "nobody@example.com", "password": "x"})

    # then it is not answered with the API's 413
    assert response.status_code == 200
    assert b"payload_too_large" not in response.content


# --- validation ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_missing_fields_are_400_invalid_naming_each_field(api_client):
    response = api_client.post(REGISTER, {"full_name": "Asha"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Some fields are not valid.",
        "fields": {
            "email": ["This field is required."],
            "password": ["This field is required."],
        },
    }
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_an_unknown_field_is_refused_and_nothing_is_created(api_client):
    response = api_client.post(REGISTER, {**NEW_ACCOUNT, "is_staff": True}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Some fields are not valid.",
        "fields": {"is_staff": ["Unknown field."]},
    }
    assert User.objects.count() == 0
    assert Device.objects.count() == 0


@pytest.mark.django_db
def test_a_non_field_error_becomes_the_detail(api_client):
    response = api_client.post(
        "/api/v1/auth/otp/request/",
        {"email": "asha@example.com", "phone": "+919876543210"},
        format="json",
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid",
        "detail": "Give either an email or a phone number, not both.",
        "fields": {"non_field_errors": ["Give either an email or a phone number, not both."]},
    }


# --- routing -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unknown_api_url_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "Not found."}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/nothing", "/api/v1/auth/x/y/"])
def test_an_unknown_api_url_is_a_json_404_under_debug_too(client, settings, path):
    settings.DEBUG = True

    response = client.get(path, follow=True)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "Not found."}


@pytest.mark.django_db
def test_an_unknown_page_outside_the_api_stays_django_s_under_debug(client, settings):
    settings.DEBUG = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_an_unknown_page_outside_the_api_is_html(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"<h1>Not found</h1>" in response.content


@pytest.mark.django_db
def test_get_on_a_post_only_endpoint_is_405(api_client):
    response = api_client.get(LOGIN)

    assert response.status_code == 405
    assert response.json() == {
        "code": "method_not_allowed",
        "detail": 'Method "GET" not allowed.',
    }
    assert response["Allow"] == "POST, OPTIONS"


@pytest.mark.django_db
def test_a_request_for_a_host_we_do_not_serve_is_a_json_400(client):
    response = client.get(ME, headers={"Host": "evil.example"})

    assert response.status_code == 400
    assert response.json() == {"code": "bad_request", "detail": "The request is malformed."}


# --- authentication ------------------------------------------------------------------------


@pytest.mark.django_db
def test_no_token_is_401_not_authenticated_with_a_challenge(api_client):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json() == {
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
    }
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_a_garbage_bearer_token_is_401_token_not_valid(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")

    response = api_client.get(ME)

    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == "token_not_valid"
    assert body["detail"] == "Given token not valid for any token type"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_wrong_credentials_are_a_domain_401(api_client):
    user = UserFactory()

    response = api_client.post(
        LOGIN, {"email": user.email, "password": "not-the-password"}, format="json"
    )

    assert response.status_code == 401
    assert response.json() == {
        "code": "invalid_credentials",
        "detail": "No active account matches this email and password.",
    }
    assert Device.objects.count() == 0


# --- failures inside views -----------------------------------------------------------------


@pytest.mark.django_db
def test_an_unhandled_error_in_a_view_is_a_bare_500_that_is_logged(api_client, caplog):
    user = UserFactory()

    with mock.patch("accounts.services.auth_login", side_effect=RuntimeError("secret internals")):
        response = api_client.post(
            LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "detail": "Something went wrong on our side. It has been logged.",
    }
    assert "secret internals" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    [record] = [r for r in caplog.records if r.name == "core.api"]
    assert record.getMessage() == "unhandled error in POST /api/v1/auth/token/"
    assert "secret internals" in str(record.exc_info[1])


@pytest.mark.django_db
def test_an_error_outside_drf_under_the_api_is_a_json_500():
    # given the request fails in middleware, before DRF could handle anything
    client = Client(raise_request_exception=False)

    with mock.patch.object(
        BodySizeLimitMiddleware, "__call__", side_effect=RuntimeError("secret internals")
    ):
        response = client.get(ME)

    assert response.status_code == 500
    assert response.json() == {
        "code": "server_error",
        "detail": "Something went wrong on our side. It has been logged.",
    }
    assert "secret internals" not in response.content.decode()


@pytest.mark.django_db
def test_a_domain_error_maps_to_its_status_code_fields_and_headers(api_client):
    user = UserFactory()
    error = Conflict(
        "Already taken.", fields={"email": ["Taken."]}, headers={"X-Conflict": "email"}
    )

    with mock.patch("accounts.services.auth_login", side_effect=error):
        response = api_client.post(
            LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )

    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "detail": "Already taken.",
        "fields": {"email": ["Taken."]},
    }
    assert response["X-Conflict"] == "email"


@pytest.mark.django_db
def test_a_domain_error_uses_its_class_defaults(api_client):
    user = UserFactory()

    with mock.patch("accounts.services.auth_login", side_effect=Conflict()):
        response = api_client.post(
            LOGIN, {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        )

    assert response.status_code == 409
    assert response.json() == {
        "code": "conflict",
        "detail": "The request conflicts with the current state of the resource.",
    }


@pytest.mark.django_db
def test_a_domain_404_from_a_service_keeps_its_message(auth_client):
    response = auth_client.post("/api/v1/auth/devices/00000000-0000-0000-0000-000000000000/revoke/")

    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "No such device."}


# --- throttling ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_third_login_in_a_minute_is_throttled_with_retry_after(
    api_client, settings, monkeypatch
):
    # given a login rate of 2 a minute per address
    rest_framework = copy.deepcopy(settings.REST_FRAMEWORK)
    rest_framework["DEFAULT_THROTTLE_RATES"]["login_ip"] = "2/min"
    settings.REST_FRAMEWORK = rest_framework
    # DRF read the rates into the class when it was imported.
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", dict(rest_framework["DEFAULT_THROTTLE_RATES"])
    )
    user = UserFactory()
    credentials = {"email": user.email, "password": DEFAULT_PASSWORD}

    # when the same address logs in three times
    first = api_client.post(LOGIN, credentials, format="json")
    second = api_client.post(LOGIN, credentials, format="json")
    third = api_client.post(LOGIN, credentials, format="json")

    # then the third is refused and starts no device session
    assert (first.status_code, second.status_code) == (200, 200)
    assert third.status_code == 429
    body = third.json()
    assert set(body) == {"code", "detail"}
    assert body["code"] == "throttled"
    assert re.fullmatch(
        r"Request was throttled\. Expected available in \d+ seconds?\.", body["detail"]
    )
    assert third["Retry-After"].isdigit()
    assert 1 <= int(third["Retry-After"]) <= 60
    assert Device.objects.filter(user=user).count() == 2


@pytest.mark.django_db
def test_a_missing_trailing_slash_on_an_api_post_is_a_308_that_keeps_the_method(api_client):
    response = api_client.post(
        "/api/v1/auth/token", {"email": "a@example.com", "password": "x"}, format="json"
    )

    assert response.status_code == 308
    assert response["Location"] == "/api/v1/auth/token/"


@pytest.mark.django_db
def test_bulk_upload_paths_take_the_larger_limit(api_client, settings):
    settings.API_MAX_BODY_BYTES = 100
    settings.API_MAX_UPLOAD_BYTES = 10_000
    body = "x" * 500

    regular = api_client.post(REGISTER, data=body, content_type="application/json")
    image = api_client.post(
        "/api/v1/catalogue/manage/products/some-slug/image/",
        data=body,
        content_type="application/json",
    )

    assert regular.status_code == 413
    assert image.status_code != 413


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/catalogue/products/?price_min=99999999999999999999",
        "/api/v1/catalogue/products/?page=99999999999999999999",
    ],
)
def test_out_of_range_numbers_are_a_400_not_a_500(api_client, url):
    response = api_client.get(url)

    assert response.status_code == 400
    assert response.json()["code"] in {"invalid", "invalid_value"}


@pytest.mark.django_db
def test_a_value_postgresql_refuses_is_a_400_not_a_500(auth_client, monkeypatch):
    from django.db import DataError

    def refuse(**kwargs):
        raise DataError("value out of range for type integer")

    monkeypatch.setattr("accounts.services.user_update_profile", refuse)

    response = auth_client.patch("/api/v1/auth/me/", {"full_name": "X"}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_value",
        "detail": "A value in the request is out of range or malformed.",
    }


@pytest.mark.django_db
def test_a_client_cannot_pick_its_throttle_identity_with_x_forwarded_for(api_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**SimpleRateThrottle.THROTTLE_RATES, "login_ip": "2/min", "login_account": "100/min"}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)

    statuses = [
        api_client.post(
            LOGIN,
            {"email": f"user{n}@example.com", "password": "wrong-password"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
        ).status_code
        for n in range(3)
    ]

    assert statuses == [401, 401, 429]
