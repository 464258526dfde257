"""Request-scoped middleware: request ids and log context, the body size limit, metrics."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.http.response import HttpResponseRedirectBase
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.http import escape_leading_slashes

from core import database
from core.api.exception_handler import error_body
from core.errors import PayloadTooLarge
from core.request_context import bind_user, start_log_context

logger = logging.getLogger(__name__)

# A client-supplied id is kept only if it is short and harmless in logs.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestIdMiddleware:
    """Accepts ``X-Request-ID`` (or makes one), puts it in every log line, echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        start_log_context(request_id)  # cleared on request_finished (core.apps)
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class SessionUserLogMiddleware:
    """Puts the admin's (session-authenticated) user into the log context; API requests
    get theirs from ``BearerAuthentication``, which runs later, inside the view."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only with a session cookie: otherwise request.user is anonymous anyway, and
        # touching it would cost nothing but also tell nothing.
        if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
            bind_user(request.user.public_id)
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """Refuses API bodies over ``API_MAX_BODY_BYTES`` with 413, before anything reads them.

    DRF's JSON parser reads the request stream directly, so Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` alone does not protect API endpoints.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            limit = settings.API_MAX_BODY_BYTES
            if any(re.match(pattern, request.path) for pattern in settings.API_LARGE_BODY_PATHS):
                limit = settings.API_MAX_UPLOAD_BYTES
            if length > limit:
                return JsonResponse(
                    error_body(
                        PayloadTooLarge.code,
                        f"The request body is {length} bytes; the limit is {limit} bytes.",
                    ),
                    status=PayloadTooLarge.status,
                )
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Views outside the API (admin, checkout and certificate pages) answer 503 with
    ``Retry-After`` while the database cannot be reached, as the API does, instead of 500.
    API views never get here: DRF's exception handler answers for them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database.is_database_unavailable(exception):
            return None
        logger.warning("database unavailable in %s %s: %s", request.method, request.path, exception)
        if request.path.startswith("/api/") or "application/json" in request.headers.get(
            "Accept", ""
        ):
            response: HttpResponse = JsonResponse(
                error_body(database.CODE, database.DETAIL), status=503
            )
        else:
            response = HttpResponse(database.DETAIL, status=503, content_type="text/plain")
        response["Retry-After"] = str(database.RETRY_AFTER_SECONDS)
        return response


class HttpResponsePermanentRedirectKeepMethod(HttpResponseRedirectBase):
    status_code = 308


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that a missing trailing slash on an API URL answers 308, which
    clients follow with the same method and body (Django's 301 turns a POST into a GET,
    and under DEBUG it raises instead), and an unknown API URL answers the JSON error shape
    in every setting (under DEBUG, Django answers a URL no route matches with its HTML
    debug page, not with ``handler404``)."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.status_code == 404 and request.path.startswith("/api/"):
            if self.should_redirect_with_slash(request):
                path = escape_leading_slashes(request.get_full_path(force_append_slash=True))
                return HttpResponsePermanentRedirectKeepMethod(path)
            if response.get("Content-Type", "").startswith("text/html"):
                response = JsonResponse(error_body("not_found", "Not found."), status=404)
        return super().process_response(request, response)
