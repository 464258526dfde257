"""The API's authentication: simplejwt's bearer tokens, with a cheaper user lookup.

Every API request looks its user up, and on the autosave path the ORM's compiling of
``User.objects.get(public_id=…)`` cost five times the query itself (726 µs of CPU against
~150 µs measured on the 2-core reference machine). The same query is written out once here
and prepared per connection (``core.sql``); the checks are simplejwt's (unknown user,
inactive user).
"""

from __future__ import annotations

import functools
import uuid
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from core.request_context import bind_user
from core.sql import prepared_cursor

if TYPE_CHECKING:
    from accounts.models import User


class AuthenticatedRequest(Request):
    """How a view that only signed-in users reach (``IsAuthenticated``) types its
    ``request``: its ``user`` is a ``User``, never ``AnonymousUser``. DRF still builds a
    plain ``Request``; this class only tells the type checker what authentication proved."""

    user: User


class AuthenticatedHttpRequest(HttpRequest):
    """The same for Django views behind a login (the admin's ``admin_view``)."""

    user: User


@functools.cache
def _user_columns(User: type[Model]) -> tuple[list[str], list[str | None]]:
    fields = list(User._meta.concrete_fields)
    return [f.attname for f in fields], [f.column for f in fields]


@functools.cache
def _user_query(User: type[Model]) -> str:
    columns = ", ".join(f'"{column}"' for column in _user_columns(User)[1])
    return f'SELECT {columns} FROM "{User._meta.db_table}" WHERE public_id = %s'  # noqa: S608 - our own names


class BearerAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access token>``; see the module docstring."""

    def get_user(self, validated_token: Token) -> AbstractBaseUser:  # type: ignore[override]
        if api_settings.CHECK_REVOKE_TOKEN or api_settings.USER_ID_FIELD != "public_id":
            return super().get_user(validated_token)  # settings this lookup does not cover
        try:
            public_id = uuid.UUID(str(validated_token[api_settings.USER_ID_CLAIM]))
        except (KeyError, ValueError) as exc:
            raise InvalidToken(_("Token contained no recognizable user identification")) from exc  # type: ignore[arg-type]
        User = get_user_model()
        with prepared_cursor() as cursor:
            cursor.execute(_user_query(User), [public_id])
            row = cursor.fetchone()
        if row is None:
            raise AuthenticationFailed(_("User not found"), code="user_not_found")  # type: ignore[arg-type]
        user = User.from_db(DEFAULT_DB_ALIAS, _user_columns(User)[0], row)
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")  # type: ignore[arg-type]
        bind_user(user.public_id)  # every later log line of this request names the user
        return user


class BearerAuthenticationScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: the same ``jwtAuth`` bearer scheme as simplejwt's."""

    target_class = BearerAuthentication  # type: ignore[assignment]  # a class, as documented
