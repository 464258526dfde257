"""Every write of the accounts domain: registration, logins, tokens, devices, OTP."""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard, TypeVar

import phonenumbers
from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, update_last_login
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import sms
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
from accounts.models import Device, OTPChallenge, User, normalize_email
from accounts.tokens import (
    DEVICE_CLAIM,
    TokenPair,
    new_refresh_token,
    pair,
    parse_refresh_token,
    rotated_refresh_device,
    token_expiry,
)
from core.api.client import ClientInfo
from core.errors import ApplicationError, NotFound
from core.locks import lock_user

logger = logging.getLogger(__name__)
_T = TypeVar("_T")


@dataclass(frozen=True)
class AuthResult:
    user: User
    device: Device
    tokens: TokenPair


class FieldError(ApplicationError):
    code = "invalid"
    detail = "Some fields are not valid."


# --- helpers -----------------------------------------------------------------------------


def normalize_phone(raw: str) -> str:
    """E.164 form of a phone number, or a field error. Local numbers take the default
    region (``PHONE_DEFAULT_REGION``, India unless configured)."""
    try:
        number = phonenumbers.parse(raw, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise FieldError(fields={"phone": ["Enter a valid phone number."]}) from exc
    if not phonenumbers.is_valid_number(number):
        raise FieldError(fields={"phone": ["Enter a valid phone number."]})
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _validate_new_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise FieldError(fields={"password": list(exc.messages)}) from exc


def _user_conflicts(
    *, email: str | None, phone: str | None, exclude_pk: int | None = None
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    others = User.objects.exclude(pk=exclude_pk) if exclude_pk else User.objects.all()
    if email and others.filter(email=normalize_email(email)).exists():
        errors["email"] = ["An account with this email already exists."]
    # An unverified number on someone's profile blocks nobody (see _release_unproved_phone).
    if phone and others.filter(phone=phone).exclude(phone_verified_at__isnull=True).exists():
        errors["phone"] = ["An account with this phone number already exists."]
    return errors


def _release_unproved_phone(phone: str | None) -> None:
    """Take a number off any profile that holds it unverified (and has an email to log in
    with): an unproved claim never keeps the number's owner from it."""
    if phone:
        User.objects.filter(
            phone=phone, phone_verified_at__isnull=True, email__isnull=False
        ).update(phone=None)


def _blacklist_jti(jti: str) -> None:
    outstanding = OutstandingToken.objects.filter(jti=jti).first()
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)


# --- devices and tokens --------------------------------------------------------------------


def device_login(*, user: User, method: str, client: ClientInfo) -> AuthResult:
    """Start a device session for an already-authenticated user and mint its tokens.

    Refuses inactive users here, at the one place tokens are minted, whatever the login
    path was.
    """
    if not user.is_active:
        raise AccountDisabled()
    with transaction.atomic():
        device = Device(user=user, login_method=method, **_client_fields(client))
        refresh = new_refresh_token(user=user, device_id=str(device.id))
        device.current_jti = refresh["jti"]
        device.expires_at = token_expiry(refresh)
        device.save()
        OutstandingToken.objects.create(
            user=user,
            jti=refresh["jti"],
            token=str(refresh),
            created_at=timezone.now(),
            expires_at=device.expires_at,
        )
        update_last_login(None, user)  # type: ignore[arg-type]  # Django's signal receiver
    return AuthResult(user=user, device=device, tokens=pair(refresh))


def _client_fields(client: ClientInfo) -> dict[str, Any]:
    return {"user_agent": client.user_agent, "ip_address": client.ip_address}


def token_refresh(*, refresh: str) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented one stops working.

    Only the newest refresh token of a live device is accepted. The device row is locked,
    so two concurrent refreshes with the same token yield one new pair and one 401.

    A genuine refresh token that was already rotated out coming back means two parties
    hold the device's tokens (one of them stole it): the whole device — every refresh
    token of its lineage, the newest included — is revoked before the 401, so the thief
    and the victim both have to log in again, and only the victim can.
    """
    return _rotate(_parse_or_revoke_on_reuse(refresh))


def _parse_or_revoke_on_reuse(raw: str) -> RefreshToken:
    """The valid refresh token, or a 401; a rotated one also revokes its device (committed
    before the 401, outside any caller's transaction)."""
    try:
        return parse_refresh_token(raw)
    except TokenInvalid:
        _revoke_family_on_reuse(raw)
        raise


def _revoke_family_on_reuse(raw: str) -> None:
    device_id = rotated_refresh_device(raw)
    if not _is_uuid(device_id):
        return
    with transaction.atomic():
        live = Device.objects.select_for_update().filter(pk=device_id, revoked_at__isnull=True)
        if _revoke(live):
            logger.warning(
                "rotated refresh token reused; device revoked", extra={"device": device_id}
            )


@transaction.atomic
def _rotate(token: RefreshToken) -> TokenPair:
    device = (
        Device.objects.select_for_update()
        .select_related("user")
        .filter(pk=token.get(DEVICE_CLAIM))
        .first()
        if _is_uuid(token.get(DEVICE_CLAIM))
        else None
    )
    if device is None or device.revoked_at is not None or device.current_jti != token["jti"]:
        raise TokenInvalid()
    if not device.user.is_active:
        raise AccountDisabled()

    old_jti = token["jti"]
    token.set_jti()
    token.set_exp()
    token.set_iat()
    now = timezone.now()
    OutstandingToken.objects.create(
        user=device.user,
        jti=token["jti"],
        token=str(token),
        created_at=now,
        expires_at=token_expiry(token),
    )
    _blacklist_jti(old_jti)
    Device.objects.filter(pk=device.pk).update(
        current_jti=token["jti"], expires_at=token_expiry(token), last_used_at=now
    )
    return pair(token)


def _is_uuid(value: object) -> TypeGuard[str | uuid.UUID]:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _revoke(devices: Iterable[Device]) -> int:
    """Revoke the given device rows (already locked by the caller)."""
    now = timezone.now()
    count = 0
    for device in devices:
        _blacklist_jti(device.current_jti)
        device.revoked_at = now
        device.save(update_fields=["revoked_at", "updated_at"])
        count += 1
    return count


def auth_logout(*, refresh: str) -> None:
    """Log out one device: its refresh token (and every later one) stops working. A
    rotated refresh token sent here is theft as at refresh: its device is revoked."""
    _logout_device(_parse_or_revoke_on_reuse(refresh))


@transaction.atomic
def _logout_device(token: RefreshToken) -> None:
    device = (
        Device.objects.select_for_update().filter(pk=token.get(DEVICE_CLAIM)).first()
        if _is_uuid(token.get(DEVICE_CLAIM))
        else None
    )
    if device is None or device.revoked_at is not None or device.current_jti != token["jti"]:
        raise TokenInvalid()
    _revoke([device])


@transaction.atomic
def auth_logout_all(*, user: User) -> int:
    """Log out every device of the user. Returns how many were live."""
    live = Device.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
    return _revoke(live.order_by("pk"))


@transaction.atomic
def device_revoke(*, user: User, device_id: uuid.UUID | str) -> Device:
    """Revoke one of the user's own devices. Another user's device is simply not found."""
    device = (
        Device.objects.select_for_update().filter(pk=device_id, user=user).first()
        if _is_uuid(device_id)
        else None
    )
    if device is None:
        raise NotFound("No such device.")
    if device.revoked_at is None:
        _revoke([device])
    return device


# --- registration and login ---------------------------------------------------------------


def user_register(
    *,
    email: str,
    password: str,
    full_name: str = "",
    phone: str | None = None,
    client: ClientInfo,
) -> AuthResult:
    """Create a learner account and log it in on the calling device.

    The email is unique whatever its case; a weak password is refused with the
    validators' reasons. Nothing is written when anything is refused.
    """
    email = normalize_email(email)
    phone = normalize_phone(phone) if phone else None
    user = User(email=email, phone=phone, full_name=full_name.strip())
    _validate_new_password(password, user)
    conflicts = _user_conflicts(email=email, phone=phone)
    if conflicts:
        raise FieldError(fields=conflicts)
    user.set_password(password)
    try:
        with transaction.atomic():
            _release_unproved_phone(phone)
            user.save()
            return device_login(user=user, method="register", client=client)
    except IntegrityError as exc:
        # Lost a race with a concurrent registration of the same email or phone.
        raise FieldError(fields=_user_conflicts(email=email, phone=phone) or None) from exc


def auth_login(*, email: str, password: str, client: ClientInfo) -> AuthResult:
    """Password login. Unknown email, wrong password and a disabled account all get the
    same answer, after the same password-hashing work."""
    user = authenticate(username=normalize_email(email), password=password)
    if user is None:
        raise InvalidCredentials()
    return device_login(user=user, method="password", client=client)


# --- profile --------------------------------------------------------------------------------


PHONE_CHANGE_HINT = "Add or change the phone with POST auth/me/contact/: a code goes to it."


@transaction.atomic
def user_update_profile(*, user: User, **changes: Any) -> User:
    """Change the learner's own name, or remove their phone (when they have an email).

    A new phone (or email) never lands on the profile from here: it goes through
    ``contact_change_request`` / ``contact_change_verify``, so an unproved number can
    neither block its owner nor tell anyone whether it is taken.
    """
    allowed = {"full_name", "phone"}
    unknown = set(changes) - allowed
    if unknown:
        raise FieldError(fields={name: ["This field cannot be changed here."] for name in unknown})
    if changes.get("phone"):
        raise FieldError(fields={"phone": [PHONE_CHANGE_HINT]})
    user = lock_user(user.pk)
    update_fields: list[str] = []
    if "full_name" in changes:
        user.full_name = changes["full_name"].strip()
        update_fields.append("full_name")
    if "phone" in changes and user.phone is not None:
        if not user.email:
            raise FieldError(fields={"phone": ["An account without email needs a phone."]})
        user.phone = None
        user.phone_verified_at = None
        update_fields += ["phone", "phone_verified_at"]
    if update_fields:
        user.save(update_fields=update_fields)
    return user


def contact_change_request(*, user: User, destination: OTPDestination, client: ClientInfo) -> None:
    """Send a code to a new email or phone for ``user``; nothing on the profile changes
    yet. The same whatever the address: free, taken, or already the user's own."""
    otp_request(destination=destination, client=client, user=user)


def contact_change_verify(*, user: User, destination: OTPDestination, code: str) -> User:
    """Check the code sent by ``contact_change_request`` and move the address onto the
    profile, verified.

    Someone else holding the address *unverified* loses it (their claim was never
    proved). A phone that is another account's only login, or an email another account
    holds, is refused with ``contact_in_use`` — told only to whoever just proved they
    hold the address."""

    def move(now: datetime) -> User:
        me: User = lock_user(user.pk)  # core's lock_user cannot name accounts.User
        if destination.channel == OTPChallenge.Channel.EMAIL:
            if User.objects.filter(email=destination.value).exclude(pk=me.pk).exists():
                raise ContactInUse()
            me.email, me.email_verified_at = destination.value, now
            me.save(update_fields=["email", "email_verified_at"])
            return me
        holder = (
            User.objects.select_for_update()
            .filter(phone=destination.value)
            .exclude(pk=me.pk)
            .first()
        )
        if holder is not None:
            if not holder.email:
                raise ContactInUse()
            holder.phone, holder.phone_verified_at = None, None
            holder.save(update_fields=["phone", "phone_verified_at"])
        me.phone, me.phone_verified_at = destination.value, now
        me.save(update_fields=["phone", "phone_verified_at"])
        return me

    return _otp_redeem(destination=destination, code=code, user=user, on_verified=move)


@transaction.atomic
def user_change_password(
    *, user: User, old_password: str, new_password: str, keep_device_id: str | None
) -> int:
    """Change the password and log out every other device. Returns how many were."""
    user = lock_user(user.pk)
    if not user.has_usable_password():
        raise PasswordNotSet()
    if not user.check_password(old_password):
        raise FieldError(fields={"old_password": ["The current password is not correct."]})
    _validate_new_password(new_password, user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    others = Device.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
    if keep_device_id and _is_uuid(keep_device_id):
        others = others.exclude(pk=keep_device_id)
    return _revoke(others.order_by("pk"))


# --- one-time codes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OTPDestination:
    value: str
    channel: str


def otp_destination(*, email: str | None = None, phone: str | None = None) -> OTPDestination:
    if bool(email) == bool(phone):
        raise FieldError(
            "Give either an email or a phone number.",
            fields={"non_field_errors": ["Give either an email or a phone number, not both."]},
        )
    if email:
        return OTPDestination(value=normalize_email(email), channel=OTPChallenge.Channel.EMAIL)
    if not sms.sms_enabled():
        raise SmsLoginUnavailable()
    return OTPDestination(value=normalize_phone(phone or ""), channel=OTPChallenge.Channel.SMS)


def _otp_hash(destination: str, code: str) -> str:
    return salted_hmac("accounts.otp", f"{destination}:{code}", algorithm="sha256").hexdigest()


def _deliver_otp(destination: OTPDestination, code: str, *, for_change: bool = False) -> None:
    minutes = settings.OTP_TTL_SECONDS // 60
    what = "verification code for adding this to your account" if for_change else "login code"
    text = f"{code} is your Examforge {what}. It expires in {minutes} minutes."
    try:
        if destination.channel == OTPChallenge.Channel.EMAIL:
            send_mail(
                subject=f"Your Examforge {'verification' if for_change else 'login'} code",
                message=f"{text}\n\nIf you did not ask for it, ignore this message.",
                from_email=None,
                recipient_list=[destination.value],
            )
        else:
            sms.send_sms(to=destination.value, body=text)
    except Exception:
        # The learner can ask again; the code never goes to the log.
        logger.exception("otp delivery failed", extra={"channel": destination.channel})


def otp_request(
    *, destination: OTPDestination, client: ClientInfo, user: User | None = None
) -> OTPChallenge:
    """Send a fresh 6-digit code; any code still open for the destination (and purpose)
    stops working. Without ``user`` it is a login code; with it, the proof that ``user``
    holds the destination (see ``contact_change_request``).

    Works the same whether or not an account exists (the first verify creates it), so
    the answer says nothing about who has an account.
    """
    code = f"{secrets.randbelow(1_000_000):06d}"
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Serialise requests for one destination without a row to lock.
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"otp:{destination.value}"],
            )
        _open_challenges(destination, user).update(
            consumed_at=now, closed_reason="superseded", updated_at=now
        )
        challenge = OTPChallenge.objects.create(
            destination=destination.value,
            channel=destination.channel,
            code_hash=_otp_hash(destination.value, code),
            expires_at=now + timedelta(seconds=settings.OTP_TTL_SECONDS),
            ip_address=client.ip_address,
            user=user,
        )
        for_change = user is not None
        transaction.on_commit(lambda: _deliver_otp(destination, code, for_change=for_change))
    return challenge


def _open_challenges(destination: OTPDestination, user: User | None) -> QuerySet[OTPChallenge]:
    mine = {"user": user} if user is not None else {"user__isnull": True}
    return OTPChallenge.objects.filter(
        destination=destination.value, consumed_at__isnull=True, **mine
    )


def otp_verify(*, destination: OTPDestination, code: str, client: ClientInfo) -> AuthResult:
    """Check a code and log in, creating the learner's account on first verify."""

    def login(now: datetime) -> AuthResult:
        user = _otp_user(destination, now)
        if not user.is_active:
            raise AccountDisabled()  # the code is closed all the same; nothing minted
        return device_login(user=user, method="otp", client=client)

    return _otp_redeem(destination=destination, code=code, user=None, on_verified=login)


def _otp_redeem(
    *,
    destination: OTPDestination,
    code: str,
    user: User | None,
    on_verified: Callable[[datetime], _T],
) -> _T:
    """Check the open code of (destination, purpose) and, when right, close it and return
    ``on_verified(now)`` in the same transaction.

    Wrong tries are counted in the database under a row lock (and committed even though
    the request fails); the fifth wrong try closes the code. Codes compare in constant
    time. An application error raised by ``on_verified`` is raised after the commit, so
    the code stays closed and what ``on_verified`` wrote before refusing is kept.
    """
    verdict: ApplicationError | None = None
    with transaction.atomic():
        challenge = _open_challenges(destination, user).select_for_update().first()
        now = timezone.now()
        if challenge is None or challenge.expires_at <= now:
            verdict = OTPExpired()
        elif not constant_time_compare(challenge.code_hash, _otp_hash(destination.value, code)):
            challenge.attempts = F("attempts") + 1
            challenge.save(update_fields=["attempts", "updated_at"])
            challenge.refresh_from_db(fields=["attempts"])
            remaining = settings.OTP_MAX_ATTEMPTS - challenge.attempts
            if remaining <= 0:
                challenge.consumed_at = now
                challenge.closed_reason = "exhausted"
                challenge.save(update_fields=["consumed_at", "closed_reason", "updated_at"])
                verdict = OTPExhausted()
            else:
                verdict = OTPInvalid(
                    f"The code is not correct. {remaining} "
                    f"attempt{'s' if remaining != 1 else ''} left."
                )
        else:
            challenge.consumed_at = now
            challenge.closed_reason = "verified"
            challenge.save(update_fields=["consumed_at", "closed_reason", "updated_at"])
            try:
                return on_verified(now)
            except ApplicationError as exc:
                verdict = exc
    # Outside the transaction, so the attempt count above is committed.
    raise verdict


def _otp_user(destination: OTPDestination, now: datetime) -> User:
    """The account the destination belongs to, created (verified) on first use.

    Proving an address that an account holds *unverified* must not log the prover into
    someone else's account: an attacker could register with a victim's email (or put the
    victim's phone on their profile) and wait. So an unverified email's account is taken
    over — its password cleared and its devices logged out — and an unverified phone is
    simply removed from the account that claimed it."""
    if destination.channel == OTPChallenge.Channel.EMAIL:
        user = User.objects.select_for_update().filter(email=destination.value).first()
        if user is not None and user.email_verified_at is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            _revoke(
                Device.objects.select_for_update()
                .filter(user=user, revoked_at__isnull=True)
                .order_by("pk")
            )
        if user is None:
            user = User.objects.create_user(email=destination.value, password=None)
        verified_field = "email_verified_at"
    else:
        holder = User.objects.select_for_update().filter(phone=destination.value).first()
        if holder is not None and holder.phone_verified_at is None and holder.email:
            holder.phone = None
            holder.save(update_fields=["phone"])
            holder = None
        user = holder or User.objects.create_user(
            email=None, phone=destination.value, password=None
        )
        verified_field = "phone_verified_at"
    if getattr(user, verified_field) is None:
        setattr(user, verified_field, now)
        user.save(update_fields=[verified_field])
    return user


# --- staff groups ------------------------------------------------------------------------------

CONTENT_EDITORS = "Content editors"
FINANCE = "Finance"
_EDITED_MODELS = (
    "topic",
    "question",
    "choice",
    "test",
    "section",
    "sectionrule",
    "sectionquestion",
)
# Group → app label → permission codenames. The back office's roles: editors run the
# question bank; finance sees learners and runs orders, refunds, webhooks, coupons, invoices.
STAFF_GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    CONTENT_EDITORS: {
        "testengine": (
            *(
                f"{action}_{model}"
                for model in _EDITED_MODELS
                for action in ("add", "change", "delete", "view")
            ),
            "view_questionstatistics",
        ),
    },
    FINANCE: {
        "accounts": ("view_user",),
        "payments": (
            "view_order",
            "view_payment",
            "view_refund",
            "add_refund",  # the admin's refund action
            "view_webhookevent",
            "change_webhookevent",  # the admin's "reprocess" action
            "add_coupon",
            "change_coupon",
            "delete_coupon",
            "view_coupon",
            "view_couponredemption",
            "view_invoice",
        ),
    },
}


@transaction.atomic
def staff_groups_setup() -> dict[str, Group]:
    """Create the staff groups (``STAFF_GROUPS``) when missing and give them their
    permissions; idempotent, and it never takes a permission away (staff may have added
    some). A database is migrated with the same groups: the data migrations (testengine
    0002, payments 0002) keep their own frozen copy, because a migration never imports app
    code that may change after it; a test holds the two equal."""
    labels = {label for by_app in STAFF_GROUPS.values() for label in by_app}
    # Permissions are made by post_migrate; made here too, so this holds whenever it runs.
    for label in sorted(labels):
        create_permissions(django_apps.get_app_config(label), verbosity=0)
    groups = {}
    for name, by_app in STAFF_GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for label, codenames in by_app.items():
            found = list(
                Permission.objects.filter(content_type__app_label=label, codename__in=codenames)
            )
            missing = set(codenames) - {permission.codename for permission in found}
            if missing:
                raise RuntimeError(f"Permissions missing for {label}: {sorted(missing)}")
            group.permissions.add(*found)
        groups[name] = group
    return groups
