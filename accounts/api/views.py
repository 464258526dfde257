"""The auth API (docs/architecture.md, "API contract"): validate, call a service, serialize."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework import mixins, permissions, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.api import schema, throttles
from accounts.api.serializers import (
    CODE_SENT,
    OTP_SENT,
    ContactChangeInputSerializer,
    ContactVerifyInputSerializer,
    DeviceSerializer,
    LoginInputSerializer,
    OTPCodeInputSerializer,
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
from core.api.serializers import validated_input
from core.api.views import OwnedViewSet

if TYPE_CHECKING:
    from accounts.authentication import AuthenticatedRequest


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

    @schema.register
    def post(self, request: Request) -> Response:
        data = validated_input(RegisterInputSerializer, request)
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

    @schema.login
    def post(self, request: Request) -> Response:
        data = validated_input(LoginInputSerializer, request)
        result = services.auth_login(
            email=data["email"], password=data["password"], client=ClientInfo.from_request(request)
        )
        return Response(TokenPairSerializer(result.tokens).data)


class RefreshView(PublicAuthView):
    throttle_classes = [throttles.LoginIPThrottle]

    @schema.refresh
    def post(self, request: Request) -> Response:
        data = validated_input(RefreshInputSerializer, request)
        tokens = services.token_refresh(refresh=data["refresh"])
        return Response(TokenPairSerializer(tokens).data)


class LogoutView(PublicAuthView):
    throttle_classes = [throttles.LoginIPThrottle]

    @schema.logout
    def post(self, request: Request) -> Response:
        data = validated_input(RefreshInputSerializer, request)
        services.auth_logout(refresh=data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @schema.logout_all
    def post(self, request: AuthenticatedRequest) -> Response:
        services.auth_logout_all(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OTPRequestView(PublicAuthView):
    throttle_classes = [throttles.OTPRequestIPThrottle, throttles.OTPRequestDestinationThrottle]

    @schema.otp_request
    def post(self, request: Request) -> Response:
        data = validated_input(OTPCodeInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        services.otp_request(destination=destination, client=ClientInfo.from_request(request))
        return Response(
            {
                "detail": OTP_SENT,
                "expires_in": settings.OTP_TTL_SECONDS,
            },
            status=status.HTTP_202_ACCEPTED,
        )


class OTPVerifyView(PublicAuthView):
    throttle_classes = [throttles.OTPVerifyIPThrottle, throttles.OTPVerifyDestinationThrottle]

    @schema.otp_verify
    def post(self, request: Request) -> Response:
        data = validated_input(OTPVerifyInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        result = services.otp_verify(
            destination=destination, code=data["code"], client=ClientInfo.from_request(request)
        )
        return _auth_response(result)


class MeView(APIView):
    @schema.me
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(UserSerializer(request.user).data)

    @schema.me_update
    def patch(self, request: AuthenticatedRequest) -> Response:
        data = validated_input(ProfileUpdateInputSerializer, request, partial=True)
        user = services.user_update_profile(user=request.user, **data)
        return Response(UserSerializer(user).data)


class ContactChangeView(APIView):
    throttle_classes = [
        throttles.ContactChangeUserThrottle,
        throttles.OTPRequestIPThrottle,
        throttles.OTPRequestDestinationThrottle,
    ]

    @schema.contact_change
    def post(self, request: AuthenticatedRequest) -> Response:
        data = validated_input(ContactChangeInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        services.contact_change_request(
            user=request.user, destination=destination, client=ClientInfo.from_request(request)
        )
        return Response(
            {"detail": CODE_SENT, "expires_in": settings.OTP_TTL_SECONDS},
            status=status.HTTP_202_ACCEPTED,
        )


class ContactVerifyView(APIView):
    throttle_classes = [throttles.OTPVerifyIPThrottle, throttles.OTPVerifyDestinationThrottle]

    @schema.contact_verify
    def post(self, request: AuthenticatedRequest) -> Response:
        data = validated_input(ContactVerifyInputSerializer, request)
        destination = services.otp_destination(email=data.get("email"), phone=data.get("phone"))
        user = services.contact_change_verify(
            user=request.user, destination=destination, code=data["code"]
        )
        return Response(UserSerializer(user).data)


class PasswordChangeView(APIView):
    throttle_classes = [throttles.PasswordChangeThrottle]

    @schema.password_change
    def post(self, request: AuthenticatedRequest) -> Response:
        data = validated_input(PasswordChangeInputSerializer, request)
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
    request: AuthenticatedRequest  # IsAuthenticated

    def get_owned_queryset(self) -> QuerySet[Device]:
        if getattr(self, "swagger_fake_view", False):
            return Device.objects.none()
        return selectors.device_list_live(user=self.request.user)

    def get_serializer_context(self) -> dict[str, Any]:
        return {
            **super().get_serializer_context(),
            "current_device_id": _current_device_id(self.request),
        }

    @schema.device_list
    def list(self, request: Request, *args, **kwargs) -> Response:
        return super().list(request, *args, **kwargs)

    @schema.device_revoke
    @action(detail=True, methods=["post"])
    def revoke(self, request: AuthenticatedRequest, pk: str) -> Response:
        device = services.device_revoke(user=request.user, device_id=pk)
        return Response(self.get_serializer(device).data)


def _current_device_id(request: Request) -> str | None:
    token = getattr(request, "auth", None)
    return str(token.get(DEVICE_CLAIM)) if token is not None and token.get(DEVICE_CLAIM) else None
