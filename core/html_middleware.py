"""The middleware only HTML pages need, skipped on the JSON API.

Sessions, CSRF, the session user, messages, the Content-Security-Policy and X-Frame-Options
serve pages a browser renders: the admin, the checkout and certificate pages, the API docs.
The JSON API (``JSON_API_PATH_PREFIXES``, ``/api/v1/``) authenticates with bearer tokens
only, so none of them does anything there but cost CPU on every autosave. Each class here
is Django's (or django-csp's) own middleware, subclassed so that Django's system checks
still find it, that steps aside for a JSON API request:

- on the API, the request goes straight to the next middleware, and a JSON response gets
  two fixed headers instead of the computed ones — ``X-Frame-Options: DENY`` and
  ``Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`` (nothing in a JSON
  body may be framed or run, so the strictest policy is the right one);
- an HTML document the API serves (a learner's invoice page) still gets the full
  policy and frame header from the response-side middleware, as every page does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthMiddleware
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponseBase, HttpResponseForbidden
from django.middleware.clickjacking import XFrameOptionsMiddleware as DjangoXFrameMiddleware
from django.middleware.csrf import CsrfViewMiddleware as DjangoCsrfMiddleware

from core import middleware as core_middleware

API_CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"


def is_json_api(request: HttpRequest) -> bool:
    """A request to the bearer-token JSON API, which no HTML-only middleware serves."""
    return request.path_info.startswith(settings.JSON_API_PATH_PREFIXES)


def _is_document(response: HttpResponseBase) -> bool:
    return response.get("Content-Type", "").startswith("text/html")


class _RequestSide:
    """Skips the whole middleware on the JSON API (sessions, CSRF, users, messages)."""

    # Synchronous only: Django's own type also admits an awaitable response.
    get_response: Callable[[HttpRequest], HttpResponseBase]

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_json_api(request):
            return self.get_response(request)
        return super().__call__(request)  # type: ignore[misc, no-any-return]


class SessionMiddleware(_RequestSide, DjangoSessionMiddleware):  # type: ignore[misc]
    pass


class AuthenticationMiddleware(_RequestSide, DjangoAuthMiddleware):  # type: ignore[misc]
    pass


class SessionUserLogMiddleware(_RequestSide, core_middleware.SessionUserLogMiddleware):  # type: ignore[misc]
    pass


class MessageMiddleware(_RequestSide, DjangoMessageMiddleware):  # type: ignore[misc]
    pass


class CsrfViewMiddleware(_RequestSide, DjangoCsrfMiddleware):  # type: ignore[misc]
    """CSRF protects cookie-authenticated forms; the API's views are all CSRF-exempt
    (DRF's), and a bearer token is not sent by a browser on its own."""

    def process_view(
        self,
        request: HttpRequest,
        callback: Callable[..., HttpResponseBase],
        callback_args: tuple[Any, ...],
        callback_kwargs: dict[str, Any],
    ) -> HttpResponseForbidden | None:
        if is_json_api(request):
            return None
        return super().process_view(request, callback, callback_args, callback_kwargs)


class _ResponseSide:
    """On the API, a fixed header (``api_header: api_value``) for JSON; the computed one
    for an HTML document, as on every page."""

    # Synchronous only: Django's own type also admits an awaitable response.
    get_response: Callable[[HttpRequest], HttpResponseBase]
    api_header: str
    api_value: str

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_json_api(request):
            return super().__call__(request)  # type: ignore[misc, no-any-return]
        response = self.get_response(request)
        if _is_document(response):
            return self.process_response(request, response)  # type: ignore[attr-defined, no-any-return]
        if self.api_header not in response:
            response[self.api_header] = self.api_value
        return response


class XFrameOptionsMiddleware(_ResponseSide, DjangoXFrameMiddleware):  # type: ignore[misc]
    api_header, api_value = "X-Frame-Options", "DENY"


class CSPMiddleware(_ResponseSide, DjangoCSPMiddleware):  # type: ignore[misc]
    api_header, api_value = "Content-Security-Policy", API_CONTENT_SECURITY_POLICY
