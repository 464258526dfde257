"""OpenAPI documentation of the auth API (``accounts.api.views``): one decorator per
operation, applied on the view as ``@schema.<name>``. Error responses are declared with the
errors the operation raises (core.api.schema.error_responses)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.exceptions import ParseError, ValidationError

from accounts import services
from accounts.api.serializers import (
    CODE_SENT,
    OTP_SENT,
    AuthResponseSerializer,
    ContactChangeInputSerializer,
    ContactVerifyInputSerializer,
    DeviceSerializer,
    LoginInputSerializer,
    OTPCodeInputSerializer,
    OTPRequestedSerializer,
    OTPVerifyInputSerializer,
    PasswordChangeInputSerializer,
    ProfileUpdateInputSerializer,
    RefreshInputSerializer,
    RegisterInputSerializer,
    TokenPairSerializer,
    UserSerializer,
)
from accounts.errors import (
    AccountDisabled,
    ContactInUse,
    InvalidCredentials,
    OTPExhausted,
    OTPExpired,
    OTPInvalid,
    PasswordNotSet,
    SmsLoginUnavailable,
    TokenInvalid,
)
from core.api.schema import ErrorCase, error_responses
from core.errors import NotFound

TAG = ["auth"]

_TOKENS = {"access": "eyJhbGciOiJIUzI1NiIs…", "refresh": "eyJhbGciOiJIUzI1NiIs…"}
_USER = {
    "id": "9b2f0c56-3f4e-4d0b-9a43-2f7f3c1e8a11",
    "email": "asha@example.com",
    "phone": "+919876543210",
    "full_name": "Asha Verma",
    "email_verified": False,
    "phone_verified": False,
    "is_staff": False,
    "date_joined": "2026-11-22T10:00:00Z",
}

_BAD_DESTINATION = (
    ValidationError({"non_field_errors": ["Give either an email or a phone number, not both."]}),
    services.FieldError(fields={"phone": ["Enter a valid phone number."]}),
)
_OTP_WRONG = (
    OTPInvalid("The code is not correct. 4 attempts left."),
    ValidationError({"code": ["Enter the 6-digit code."]}),
)
_OTP_CLOSED = (OTPExpired, OTPExhausted)


def _errors(*cases: ErrorCase) -> dict[int, OpenApiResponse]:
    """Every auth throttle answers 429 with ``Retry-After``."""
    return error_responses(
        *cases, descriptions={429: "Too many attempts; see the Retry-After header."}
    )


register = extend_schema(
    tags=TAG,
    summary="Create a learner account",
    description=(
        "Creates the account and logs it in on this device. The email is unique "
        "whatever its case. Passwords need 10+ characters, not common, not all digits, "
        "not like the email or name."
    ),
    request=RegisterInputSerializer,
    responses={
        201: AuthResponseSerializer,
        **_errors(
            services.FieldError(fields={"email": ["An account with this email already exists."]}),
            services.FieldError(fields={"password": ["This password is too common."]}),
            ParseError("JSON parse error - Expecting value: line 1 column 1"),
            413,
            415,
            429,
        ),
    },
    examples=[
        OpenApiExample(
            "Register",
            value={
                "email": "asha@example.com",
                "password": "correct-horse-battery",
                "full_name": "Asha Verma",
                "phone": "+919876543210",
            },
            request_only=True,
        ),
        OpenApiExample(
            "Registered",
            value={"user": _USER, **_TOKENS},
            response_only=True,
            status_codes=["201"],
        ),
    ],
)

login = extend_schema(
    tags=TAG,
    summary="Log in with email and password",
    description="Returns an access/refresh pair for a new device session.",
    request=LoginInputSerializer,
    responses={
        200: TokenPairSerializer,
        **_errors(ValidationError({"email": ["This field is required."]}), InvalidCredentials, 429),
    },
    examples=[
        OpenApiExample(
            "Login",
            value={"email": "learner@examforge.local", "password": "learner-demo-pass"},
            request_only=True,
        ),
        OpenApiExample("Tokens", value=_TOKENS, response_only=True),
    ],
)

refresh = extend_schema(
    tags=TAG,
    summary="Exchange a refresh token for a new pair",
    description=(
        "Rotation: the refresh token you send stops working and a new one comes back. "
        "Sending an old (rotated) or logged-out refresh token gets 401. A rotated "
        "refresh token sent again is taken as stolen: the whole device session is "
        "revoked, its newest refresh token included."
    ),
    request=RefreshInputSerializer,
    responses={200: TokenPairSerializer, **_errors(400, TokenInvalid, 429)},
    examples=[
        OpenApiExample("Refresh", value={"refresh": _TOKENS["refresh"]}, request_only=True),
        OpenApiExample("New pair", value=_TOKENS, response_only=True),
    ],
)

logout = extend_schema(
    tags=TAG,
    summary="Log out this device",
    description=(
        "Revokes the device the refresh token belongs to: that refresh token (and any "
        "newer one of the same device) is refused from now on. A rotated (older) "
        "refresh token gets 401 and, as at refresh, revokes its device. Access tokens already "
        f"issued expire within {settings.JWT_ACCESS_MINUTES} minutes."
    ),
    request=RefreshInputSerializer,
    responses={204: None, **_errors(400, TokenInvalid, 429)},
    examples=[OpenApiExample("Logout", value={"refresh": _TOKENS["refresh"]}, request_only=True)],
)

logout_all = extend_schema(
    tags=TAG,
    summary="Log out every device",
    description="Revokes every device session of the account, this one included.",
    request=None,
    responses={204: None, **_errors(401)},
)

otp_request = extend_schema(
    tags=TAG,
    summary="Send a one-time login code",
    description=(
        "Sends a 6-digit code by email or SMS. The answer is the same whether or not an "
        "account exists; the first successful verify creates a learner account. A new "
        "request replaces any code still open for the destination."
    ),
    request=OTPCodeInputSerializer,
    responses={
        202: OTPRequestedSerializer,
        **_errors(*_BAD_DESTINATION, 429, SmsLoginUnavailable),
    },
    examples=[
        OpenApiExample("By email", value={"email": "asha@example.com"}, request_only=True),
        OpenApiExample("By phone", value={"phone": "+919876543210"}, request_only=True),
        OpenApiExample(
            "Sent",
            value={"detail": OTP_SENT, "expires_in": 300},
            response_only=True,
            status_codes=["202"],
        ),
    ],
)

otp_verify = extend_schema(
    tags=TAG,
    summary="Log in with a one-time code",
    description=(
        "Checks the code and returns tokens (and the user). Creates the learner "
        "account on first verify. Five wrong codes close the code; it also expires "
        "after a few minutes."
    ),
    request=OTPVerifyInputSerializer,
    responses={
        200: AuthResponseSerializer,
        **_errors(*_OTP_WRONG, AccountDisabled, *_OTP_CLOSED, 429, SmsLoginUnavailable),
    },
    examples=[
        OpenApiExample(
            "Verify", value={"email": "asha@example.com", "code": "042817"}, request_only=True
        ),
        OpenApiExample("Logged in", value={"user": _USER, **_TOKENS}, response_only=True),
    ],
)

me = extend_schema(
    tags=TAG,
    summary="My profile",
    responses={200: UserSerializer, **_errors(401)},
    examples=[OpenApiExample("Me", value=_USER, response_only=True)],
)

me_update = extend_schema(
    tags=TAG,
    summary="Update my profile",
    description=(
        'Change `full_name`, or remove the phone with `"phone": null` (accounts '
        "with an email). A new phone or email is added through "
        "`POST auth/me/contact/`, which sends a code to it; it reaches the profile "
        "only once verified."
    ),
    request=ProfileUpdateInputSerializer,
    responses={
        200: UserSerializer,
        **_errors(
            services.FieldError(fields={"phone": [services.PHONE_CHANGE_HINT]}),
            ValidationError(
                {"email": ["Change the email with POST auth/me/contact/: a code goes to it."]}
            ),
            401,
        ),
    },
    examples=[
        OpenApiExample("Rename", value={"full_name": "Asha V."}, request_only=True),
        OpenApiExample("Remove phone", value={"phone": None}, request_only=True),
    ],
)

contact_change = extend_schema(
    tags=TAG,
    summary="Add or change my email or phone: send a code to it",
    description=(
        "Sends a 6-digit code to the new email or phone; the profile does not change "
        "until `POST auth/me/contact/verify/`. The answer is the same whether the "
        "address is free, belongs to another account or is already yours. A new "
        "request replaces the code still open for that address."
    ),
    request=ContactChangeInputSerializer,
    responses={
        202: OTPRequestedSerializer,
        **_errors(*_BAD_DESTINATION, 401, 429, SmsLoginUnavailable),
    },
    examples=[
        OpenApiExample("New phone", value={"phone": "+919876543210"}, request_only=True),
        OpenApiExample("New email", value={"email": "asha.v@example.com"}, request_only=True),
        OpenApiExample(
            "Sent",
            value={"detail": CODE_SENT, "expires_in": 300},
            response_only=True,
            status_codes=["202"],
        ),
    ],
)

contact_verify = extend_schema(
    tags=TAG,
    summary="Verify my new email or phone",
    description=(
        "Checks the code sent by `POST auth/me/contact/` and puts the address on the "
        "profile, verified (`email_verified` / `phone_verified`). Another account that "
        "held the number unverified loses it. Five wrong codes close the code."
    ),
    request=ContactVerifyInputSerializer,
    responses={
        200: UserSerializer,
        **_errors(*_OTP_WRONG, 401, ContactInUse, *_OTP_CLOSED, 429, SmsLoginUnavailable),
    },
    examples=[
        OpenApiExample(
            "Verify", value={"phone": "+919876543210", "code": "042817"}, request_only=True
        ),
        OpenApiExample("Verified", value={**_USER, "phone_verified": True}, response_only=True),
    ],
)

password_change = extend_schema(
    tags=TAG,
    summary="Change my password",
    description="Every other device is logged out; this one stays logged in.",
    request=PasswordChangeInputSerializer,
    responses={
        204: None,
        **_errors(
            services.FieldError(fields={"old_password": ["The current password is not correct."]}),
            401,
            PasswordNotSet,
            429,
        ),
    },
    examples=[
        OpenApiExample(
            "Change",
            value={"old_password": "learner-demo-pass", "new_password": "a-new-long-passphrase"},
            request_only=True,
        )
    ],
)

device_list = extend_schema(
    tags=TAG,
    summary="My logged-in devices",
    description="Devices whose refresh token is still usable, most recently used first.",
    responses={200: DeviceSerializer(many=True), **_errors(401)},
)

device_revoke = extend_schema(
    tags=TAG,
    summary="Log out one of my devices",
    request=None,
    responses={200: DeviceSerializer, **_errors(401, NotFound("No such device."))},
)
