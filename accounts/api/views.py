"""The auth API (docs/architecture.md, "API contract"): validate, call a service, serialize."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, permissions, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api import throttles
from accounts.api.serializers import (
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
from accounts.models import Device
from accounts.tokens import DEVICE_CLAIM
from core.api.client import ClientInfo
from core.api.schema import error_response, errors
from core.api.views import OwnedViewSet

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest

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
_BAD_TOKEN = error_response(
    401, ("token_not_valid", "The token is invalid, expired or revoked. Log in again.")
)
_THROTTLED = error_response(429, description="Too many attempts; see the Retry-After header.")
# A phone number while no SMS provider is configured (SMS_BACKEND unset in production).
_SMS_UNAVAILABLE = error_response(
    503,
    ("sms_unavailable", "Login by phone is not available right now. Use your email address."),
)

_BAD_DESTINATION = error_response(
    400,
    (
        "invalid",
        "Give either an email or a phone number, not both.",
        {"non_field_errors": ["Give either an email or a phone number, not both."]},
    ),
    ("invalid", "Some fields are not valid.", {"phone": ["Enter a valid phone number."]}),
)
_OTP_WRONG = error_response(
    400,
    ("otp_invalid", "The code is not correct. 4 attempts left."),
    ("invalid", "Some fields are not valid.", {"code": ["Enter the 6-digit code."]}),
)
_OTP_CLOSED = error_response(
    410,
    ("otp_expired", "The code has expired or was replaced by a newer one. Request a new code."),
    ("otp_attempts_exceeded", "Too many wrong codes. Request a new code."),
)


def _auth_response(result: services.AuthResult, code: int = status.HTTP_200_OK) -> Response:
    body = {
        "user": UserSerializer(result.user).data,
        "access": result.tokens.access,
        "refresh": result.tokens.refresh,
    }
    return Response(body, status=code)


class PublicAuthView(APIView):
    """Auth endpoints reached without a token: no authentication is even attempted, so
    a stale ``Authorization`` header cannot turn a login into a 401."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]


class RegisterView(PublicAuthView):
    throttle_classes = [throttles.RegisterIPThrottle]

    @extend_schema(
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
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"email": ["An account with this email already exists."]},
                ),
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"password": ["This password is too common."]},
                ),
                ("malformed_request", "JSON parse error - Expecting value: line 1 column 1"),
            ),
            413: error_response(413),
            415: error_response(415),
            429: _THROTTLED,
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
    def post(self, request: Request) -> Response:
        data = _validated(RegisterInputSerializer, request)
        result = services.user_register(
            email=data["email"],
            password=data["password"],
            full_name=data.get("full_name", ""),
            phone=data.get("phone") or None,
            client=ClientInfo.from_request(request),
        )
        return _auth_response(result, status.HTTP_201_CREATED)


class LoginView(PublicAuthView):
    throttle_classes = [throttles.LoginIPThrottle, throttles.LoginAccountThrottle]

    @extend_schema(
        tags=TAG,
        summary="Log in with email and password",
        description="Returns an access/refresh pair for a new device session.",
        request=LoginInputSerializer,
        responses={
            200: TokenPairSerializer,
            400: error_response(
                400,
                ("invalid", "Some fields are not valid.", {"email": ["This field is required."]}),
            ),
            401: error_response(
                401, ("invalid_credentials", "No active account matches this email and password.")
            ),
            429: _THROTTLED,
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
    def post(self, request: Request) -> Response:
        data = _validated(LoginInputSerializer, request)
        result = services.auth_login(
            email=data["email"], password=data["password"], client=ClientInfo.from_request(request)
        )
        return Response(TokenPairSerializer(result.tokens).data)


class RefreshView(PublicAuthView):
    throttle_classes = [throttles.LoginIPThrottle]

    @extend_schema(
        tags=TAG,
        summary="Exchange a refresh token for a new pair",
        description=(
            "Rotation: the refresh token you send stops working and a new one comes back. "
            "Sending an old (rotated) or logged-out refresh token gets 401. A rotated "
            "refresh token sent again is taken as stolen: the whole device session is "
            "revoked, its newest refresh token included."
        ),
        request=RefreshInputSerializer,
        responses={
            200: TokenPairSerializer,
            400: errors(400)[400],
            401: _BAD_TOKEN,
            429: _THROTTLED,
        },
        examples=[
            OpenApiExample("Refresh", value={"refresh": _TOKENS["refresh"]}, request_only=True),
            OpenApiExample("New pair", value=_TOKENS, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        data = _validated(RefreshInputSerializer, request)
        tokens = services.token_refresh(refresh=data["refresh"])
        return Response(TokenPairSerializer(tokens).data)


class LogoutView(PublicAuthView):
    throttle_classes = [throttles.LoginIPThrottle]

    @extend_schema(
        tags=TAG,
        summary="Log out this device",
        description=(
            "Revokes the device the refresh token belongs to: that refresh token (and any "
            "newer one of the same device) is refused from now on. A rotated (older) "
            "refresh token gets 401 and, as at refresh, revokes its device. Access tokens already "
            f"issued expire within {settings.JWT_ACCESS_MINUTES} minutes."
        ),
        request=RefreshInputSerializer,
        responses={204: None, 400: errors(400)[400], 401: _BAD_TOKEN, 429: _THROTTLED},
        examples=[
            OpenApiExample("Logout", value={"refresh": _TOKENS["refresh"]}, request_only=True)
        ],
    )
    def post(self, request: Request) -> Response:
        data = _validated(RefreshInputSerializer, request)
        services.auth_logout(refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(
        tags=TAG,
        summary="Log out every device",
        description="Revokes every device session of the account, this one included.",
        request=None,
        responses={204: None, 401: errors(401)[401]},
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        services.auth_logout_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OTPRequestView(PublicAuthView):
    throttle_classes = [throttles.OTPRequestIPThrottle, throttles.OTPRequestDestinationThrottle]

    @extend_schema(
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
            400: _BAD_DESTINATION,
            429: _THROTTLED,
            503: _SMS_UNAVAILABLE,
        },
        examples=[
            OpenApiExample("By email", value={"email": "asha@example.com"}, request_only=True),
            OpenApiExample("By phone", value={"phone": "+919876543210"}, request_only=True),
            OpenApiExample(
                "Sent",
                value={
                    "detail": "If this address can receive codes, one is on its way.",
                    "expires_in": 300,
                },
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        data = _validated(OTPCodeInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        services.otp_request(destination=destination, client=ClientInfo.from_request(request))
        return Response(
            {
                "detail": "If this address can receive codes, one is on its way.",
                "expires_in": settings.OTP_TTL_SECONDS,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class OTPVerifyView(PublicAuthView):
    throttle_classes = [throttles.OTPVerifyIPThrottle, throttles.OTPVerifyDestinationThrottle]

    @extend_schema(
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
            400: _OTP_WRONG,
            403: error_response(
                403, ("account_disabled", "This account is disabled. Contact support.")
            ),
            410: _OTP_CLOSED,
            429: _THROTTLED,
            503: _SMS_UNAVAILABLE,
        },
        examples=[
            OpenApiExample(
                "Verify", value={"email": "asha@example.com", "code": "042817"}, request_only=True
            ),
            OpenApiExample("Logged in", value={"user": _USER, **_TOKENS}, response_only=True),
        ],
    )
    def post(self, request: Request) -> Response:
        data = _validated(OTPVerifyInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        result = services.otp_verify(
            destination=destination, code=data["code"], client=ClientInfo.from_request(request)
        )
        return _auth_response(result)


class MeView(APIView):
    @extend_schema(
        tags=TAG,
        summary="My profile",
        responses={200: UserSerializer, 401: errors(401)[401]},
        examples=[OpenApiExample("Me", value=_USER, response_only=True)],
    )
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user).data)

    @extend_schema(
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
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"phone": [services.PHONE_CHANGE_HINT]},
                ),
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"email": ["Change the email with POST auth/me/contact/: a code goes to it."]},
                ),
            ),
            401: errors(401)[401],
        },
        examples=[
            OpenApiExample("Rename", value={"full_name": "Asha V."}, request_only=True),
            OpenApiExample("Remove phone", value={"phone": None}, request_only=True),
        ],
    )
    def patch(self, request: AuthenticatedRequest) -> Response:
        data = _validated(ProfileUpdateInputSerializer, request, partial=True)
        user = services.user_update_profile(user=request.user, **data)
        return Response(UserSerializer(user).data)


_CODE_SENT = "If this address can receive codes, one is on its way. Verify it to add it."


class ContactChangeView(APIView):
    throttle_classes = [
        throttles.ContactChangeUserThrottle,
        throttles.OTPRequestIPThrottle,
        throttles.OTPRequestDestinationThrottle,
    ]

    @extend_schema(
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
            400: _BAD_DESTINATION,
            401: errors(401)[401],
            429: _THROTTLED,
            503: _SMS_UNAVAILABLE,
        },
        examples=[
            OpenApiExample("New phone", value={"phone": "+919876543210"}, request_only=True),
            OpenApiExample("New email", value={"email": "asha.v@example.com"}, request_only=True),
            OpenApiExample(
                "Sent",
                value={"detail": _CODE_SENT, "expires_in": 300},
                response_only=True,
                status_codes=["202"],
            ),
        ],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _validated(ContactChangeInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        services.contact_change_request(
            user=request.user, destination=destination, client=ClientInfo.from_request(request)
        )
        return Response(
            {"detail": _CODE_SENT, "expires_in": settings.OTP_TTL_SECONDS},
            status=status.HTTP_202_ACCEPTED,
        )


class ContactVerifyView(APIView):
    throttle_classes = [throttles.OTPVerifyIPThrottle, throttles.OTPVerifyDestinationThrottle]

    @extend_schema(
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
            400: _OTP_WRONG,
            401: errors(401)[401],
            409: error_response(
                409,
                (
                    "contact_in_use",
                    "This address is the login of another account. Log in to that account "
                    "with a one-time code instead.",
                ),
            ),
            410: _OTP_CLOSED,
            429: _THROTTLED,
            503: _SMS_UNAVAILABLE,
        },
        examples=[
            OpenApiExample(
                "Verify", value={"phone": "+919876543210", "code": "042817"}, request_only=True
            ),
            OpenApiExample(
                "Verified",
                value={**_USER, "phone_verified": True},
                response_only=True,
            ),
        ],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _validated(ContactVerifyInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        user = services.contact_change_verify(
            user=request.user, destination=destination, code=data["code"]
        )
        return Response(UserSerializer(user).data)


class PasswordChangeView(APIView):
    throttle_classes = [throttles.PasswordChangeThrottle]

    @extend_schema(
        tags=TAG,
        summary="Change my password",
        description="Every other device is logged out; this one stays logged in.",
        request=PasswordChangeInputSerializer,
        responses={
            204: None,
            400: error_response(
                400,
                (
                    "invalid",
                    "Some fields are not valid.",
                    {"old_password": ["The current password is not correct."]},
                ),
            ),
            401: errors(401)[401],
            409: error_response(
                409,
                (
                    "password_not_set",
                    "This account logs in with one-time codes and has no password to change.",
                ),
            ),
            429: _THROTTLED,
        },
        examples=[
            OpenApiExample(
                "Change",
                value={
                    "old_password": "learner-demo-pass",
                    "new_password": "a-new-long-passphrase",
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: AuthenticatedRequest) -> Response:
        data = _validated(PasswordChangeInputSerializer, request)
        services.user_change_password(
            user=request.user,
            old_password=data["old_password"],
            new_password=data["new_password"],
            keep_device_id=_current_device_id(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceViewSet(mixins.ListModelMixin, OwnedViewSet):
    """The user's live device sessions."""

    serializer_class = DeviceSerializer

    def get_owned_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Device.objects.none()
        return selectors.device_list_live(user=self.request.user)  # type: ignore[arg-type]  # IsAuthenticated

    def get_serializer_context(self) -> dict:
        return {
            **super().get_serializer_context(),
            "current_device_id": _current_device_id(self.request),
        }

    @extend_schema(
        tags=TAG,
        summary="My logged-in devices",
        description="Devices whose refresh token is still usable, most recently used first.",
        responses={200: DeviceSerializer(many=True), 401: errors(401)[401]},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        tags=TAG,
        summary="Log out one of my devices",
        request=None,
        responses={
            200: DeviceSerializer,
            401: errors(401)[401],
            404: error_response(404, ("not_found", "No such device.")),
        },
    )
    @action(detail=True, methods=["post"])
    def revoke(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        device = services.device_revoke(user=request.user, device_id=pk)  # type: ignore[arg-type]  # the URL's
        return Response(self.get_serializer(device).data)


def _validated(
    serializer_class: type[serializers.Serializer], request: Request, **kwargs: Any
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _current_device_id(request: Request) -> str | None:
    token = getattr(request, "auth", None)
    return str(token.get(DEVICE_CLAIM)) if token is not None and token.get(DEVICE_CLAIM) else None
