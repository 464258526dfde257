"""Minting and reading our JWTs. Every refresh and access token carries ``device``."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.errors import TokenInvalid

DEVICE_CLAIM = "device"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def new_refresh_token(*, user, device_id: str) -> RefreshToken:
    """A refresh token for ``user`` on one device, not yet recorded anywhere."""
    token = RefreshToken()
    token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
    token[DEVICE_CLAIM] = device_id
    return token


def parse_refresh_token(raw: str) -> RefreshToken:
    """Signature, expiry, type and blacklist checked; any failure is one clear 401."""
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise TokenInvalid() from exc


def token_expiry(token: RefreshToken):
    return datetime_from_epoch(token["exp"])


def pair(token: RefreshToken) -> TokenPair:
    return TokenPair(access=str(token.access_token), refresh=str(token))
