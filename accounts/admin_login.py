"""The admin's login page, under the same limits as the API login.

Every POST to the admin login counts against the same two buckets as ``POST auth/token/``
(``login_ip`` per client address, ``login_account`` per submitted email, normalised), so
an attacker gets no extra guesses by switching between the API and the admin. Once either
is spent the page answers 429 with ``Retry-After`` and checks no password at all, right
or wrong. The message reads the same whether or not the account exists: the account
bucket counts whatever email was typed.
"""

from __future__ import annotations

import math
from typing import Any

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import LoginView
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _

from accounts.api import throttles

LOCKED_OUT = "Too many login attempts. Try again in {wait} seconds."


class _AdminLoginAccountThrottle(throttles.LoginAccountThrottle):
    """The API's per-account bucket, fed from the admin form's ``username`` field (the
    email): both logins spend the same bucket for the same account."""

    def get_cache_key(self, request: HttpRequest, view: object) -> str | None:
        raw = request.POST.get("username")
        if not isinstance(raw, str) or not raw.strip():
            return None
        # The API throttle reads request.data["email"]; give it the same field.
        return super().get_cache_key(_FieldsOnly({"email": raw}), view)  # type: ignore[arg-type]


class _FieldsOnly:
    def __init__(self, data: dict[str, str]) -> None:
        self.data = data


def _throttle_wait(request: HttpRequest) -> int | None:
    """Seconds to wait when a limit is spent, else None (and the attempt is counted)."""
    waits = [
        throttle.wait() or 1
        for throttle in (throttles.LoginIPThrottle(), _AdminLoginAccountThrottle())
        if not throttle.allow_request(request, None)  # type: ignore[arg-type]  # a Django request
    ]
    return math.ceil(max(waits)) if waits else None


def _locked_out_form(wait: int) -> type[AdminAuthenticationForm]:
    class LockedOutForm(AdminAuthenticationForm):
        def clean(self) -> dict[str, Any]:
            raise ValidationError(LOCKED_OUT.format(wait=wait), code="throttled")

    return LockedOutForm


def admin_login(
    request: HttpRequest, extra_context: dict[str, Any] | None = None
) -> HttpResponseBase:
    """``admin.site.login`` behind the login throttles."""
    wait = _throttle_wait(request) if request.method == "POST" else None
    if wait is None:
        return admin.site.login(request, extra_context)
    context = {
        **admin.site.each_context(request),
        "title": _("Log in"),
        "subtitle": None,
        "app_path": request.get_full_path(),
        "username": request.user.get_username(),
        REDIRECT_FIELD_NAME: request.POST.get(REDIRECT_FIELD_NAME, ""),
        **(extra_context or {}),
    }
    view = LoginView.as_view(
        extra_context=context,
        authentication_form=_locked_out_form(wait),
        template_name=admin.site.login_template or "admin/login.html",
    )
    response = view(request)
    response.status_code = 429
    response["Retry-After"] = str(wait)
    return response
