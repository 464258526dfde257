"""Minting and reading our JWTs. Every refresh and access token carries ``device``."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.errors import TokenInvalid

DEVICE_CLAIM = "device"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def new_refresh_token(*, user: AbstractBaseUser, device_id: str) -> RefreshToken:
    """A refresh token for ``user`` on one device, not yet recorded anywhere."""
    token = RefreshToken()
    token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
    token[DEVICE_CLAIM] = device_id
    return token


def parse_refresh_token(raw: str) -> RefreshToken:
    """Signature, expiry, type and blacklist checked; any failure is one clear 401."""
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]  # simplejwt takes the string
    except TokenError as exc:
        raise TokenInvalid() from exc


def rotated_refresh_device(raw: str) -> str | None:
    """The device claim of a genuine, unexpired refresh token that was already rotated
    out (its jti is blacklisted), else None. Signature and expiry are checked, so a forged
    token can never revoke anybody's device."""
    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]  # likewise
    except TokenBackendError:
        return None
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != RefreshToken.token_type:
        return None
    jti = payload.get(api_settings.JTI_CLAIM)
    if not jti or not BlacklistedToken.objects.filter(token__jti=jti).exists():
        return None
    device = payload.get(DEVICE_CLAIM)
    return str(device) if device else None


def token_expiry(token: RefreshToken):
    return datetime_from_epoch(token["exp"])


def pair(token: RefreshToken) -> TokenPair:
    return TokenPair(access=str(token.access_token), refresh=str(token))
