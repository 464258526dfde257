"""Input and output shapes of the auth API. Writes go through ``accounts.services``."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from accounts.models import Device, User
from core.api.serializers import StrictInputSerializer

# --- output -------------------------------------------------------------------------------


class UserSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_id", read_only=True)
    email_verified = serializers.SerializerMethodField()
    phone_verified = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "phone",
            "full_name",
            "email_verified",
            "phone_verified",
            "is_staff",
            "date_joined",
        ]
        read_only_fields = fields

    def get_email_verified(self, user: User) -> bool:
        return user.email_verified_at is not None

    def get_phone_verified(self, user: User) -> bool:
        return user.phone_verified_at is not None


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Bearer token for API calls; lives a few minutes.")
    refresh = serializers.CharField(
        help_text="Exchange at auth/token/refresh/ for a new pair. Single use: it rotates."
    )


class AuthResponseSerializer(TokenPairSerializer):
    user = UserSerializer()


class DeviceSerializer(serializers.ModelSerializer):
    current = serializers.SerializerMethodField(
        help_text="True for the device this request's access token belongs to."
    )

    class Meta:
        model = Device
        fields = [
            "id",
            "user_agent",
            "ip_address",
            "login_method",
            "created_at",
            "last_used_at",
            "expires_at",
            "current",
        ]
        read_only_fields = fields

    def get_current(self, device: Device) -> bool:
        return str(device.id) == self.context.get("current_device_id")


# The detail of a code request's 202: the same whether or not the address has an account.
OTP_SENT = "If this address can receive codes, one is on its way."
CODE_SENT = "If this address can receive codes, one is on its way. Verify it to add it."


class OTPRequestedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid.")


# --- input --------------------------------------------------------------------------------


class RegisterInputSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)


class LoginInputSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class RefreshInputSerializer(StrictInputSerializer):
    refresh = serializers.CharField(max_length=2048)


class OTPCodeInputSerializer(StrictInputSerializer):
    email = serializers.EmailField(max_length=254, required=False)
    phone = serializers.CharField(max_length=32, required=False)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("email")) == bool(attrs.get("phone")):
            raise serializers.ValidationError("Give either an email or a phone number, not both.")
        return attrs


class OTPVerifyInputSerializer(OTPCodeInputSerializer):
    code = serializers.RegexField(
        r"^[0-9]{6}$", error_messages={"invalid": "Enter the 6-digit code."}
    )


class ProfileUpdateInputSerializer(StrictInputSerializer):
    full_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    phone = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        allow_null=True,
        help_text="Only null or empty (remove the phone). Add or change it at auth/me/contact/.",
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and "email" in data:
            raise serializers.ValidationError(
                {"email": ["Change the email with POST auth/me/contact/: a code goes to it."]}
            )
        return super().to_internal_value(data)


class PasswordChangeInputSerializer(StrictInputSerializer):
    old_password = serializers.CharField(max_length=128, trim_whitespace=False)
    new_password = serializers.CharField(max_length=128, trim_whitespace=False)


class ContactChangeInputSerializer(OTPCodeInputSerializer):
    """The new email or the new phone (one of them)."""


class ContactVerifyInputSerializer(OTPVerifyInputSerializer):
    """The new email or phone again, and the code sent to it."""
