"""Users, the devices they are logged in on, and one-time login codes."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from core.models import PublicIdModel, TimeStampedModel


def normalize_email(email: str) -> str:
    """Emails compare case-insensitively everywhere; we store them lower-cased."""
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email=normalize_email(username or ""))

    def _create_user(self, email: str | None, password: str | None, **extra: Any) -> User:
        if not email and not extra.get("phone"):
            raise ValueError("An email address or a phone number is required.")
        user = self.model(email=normalize_email(email) if email else None, **extra)
        user.set_password(password)  # None gives an unusable password (OTP-only account)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_user(self, email: str | None, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A learner or a member of staff. The email is the login; the phone is optional."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Stored lower-cased (exact lookups use this unique index); the Lower() constraint
    # below guarantees case variants never coexist. NULL (not "") for accounts created by
    # phone OTP, so uniqueness ignores them; a check keeps one way to reach every user.
    email = models.EmailField("email address", max_length=254, unique=True, null=True, blank=True)
    phone = models.CharField(  # noqa: DJ001  NULL = no phone; unique only among real numbers
        max_length=16, null=True, blank=True, help_text="E.164, e.g. +919876543210."
    )
    full_name = models.CharField(max_length=150, blank=True)
    email_verified_at = models.DateTimeField(null=True, blank=True)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(
        default=True, help_text="Unset to block the account instead of deleting it."
    )
    is_staff = models.BooleanField(
        default=False, help_text="Can log into the admin and use staff endpoints."
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["-date_joined"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message="An account with this email already exists.",
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(phone__isnull=False),
                name="accounts_user_phone_unique",
                violation_error_message="An account with this phone number already exists.",
            ),
            models.CheckConstraint(
                condition=Q(phone__isnull=True) | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="accounts_user_phone_e164",
            ),
            models.CheckConstraint(
                condition=Q(email__isnull=False) | Q(phone__isnull=False),
                name="accounts_user_email_or_phone",
            ),
        ]

    def __str__(self) -> str:
        return self.email or self.phone or f"user {self.pk}"

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email) if self.email else None
        self.phone = self.phone or None

    def get_full_name(self) -> str:
        return self.full_name or str(self)

    def get_short_name(self) -> str:
        return (self.full_name.split() or [str(self)])[0]


class Device(PublicIdModel):
    """One login of a user on one client: a chain of rotating refresh tokens.

    Every refresh token carries its device's id. Only the newest refresh token of a device
    (``current_jti``) can be exchanged; revoking the device ends the chain.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="devices")
    user_agent = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    login_method = models.CharField(
        max_length=16,
        choices=[("password", "Password"), ("otp", "One-time code"), ("register", "Register")],
    )
    current_jti = models.CharField(max_length=64, unique=True)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_used_at"]
        indexes = [
            models.Index(
                fields=["user", "-last_used_at"],
                condition=Q(revoked_at__isnull=True),
                name="accounts_device_live_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.user_agent[:40] or 'unknown client'}"

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class OTPChallenge(TimeStampedModel):
    """A one-time code sent to an email address or phone number: a login code, or (with
    ``user``) the proof that an account's new email/phone belongs to its holder.

    The code itself is never stored: only an HMAC of it, keyed with a server secret. At
    most one open challenge per destination and purpose (a database constraint): asking
    again closes the previous one.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        SMS = "sms", "SMS"

    destination = models.CharField(max_length=254, help_text="Normalised email or E.164 phone.")
    channel = models.CharField(max_length=8, choices=Channel.choices)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(
        max_length=16,
        blank=True,
        choices=[
            ("verified", "Verified"),
            ("superseded", "Superseded by a newer code"),
            ("exhausted", "Too many wrong attempts"),
        ],
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=(
            "Empty: a login code. Set: a code proving a new email/phone for this account; "
            "only verifying it moves the address onto the profile."
        ),
    )

    class Meta:
        verbose_name = "OTP challenge"
        constraints = [
            models.UniqueConstraint(
                fields=["destination", "user"],
                condition=Q(consumed_at__isnull=True),
                nulls_distinct=False,
                name="accounts_otp_one_open_per_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} challenge #{self.pk}"
