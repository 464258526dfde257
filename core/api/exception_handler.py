"""The one error shape: ``{"code": str, "detail": str, "fields": {name: [str]}}``.

Every error the API returns goes through here: DRF's own exceptions (validation, auth,
permission, 404, 405, 415, throttling), Django's ``Http404``/``PermissionDenied``, our
domain ``ApplicationError``, a database that cannot be reached (503
``database_unavailable``, ``core.database``) and anything unexpected (logged with its
traceback, answered with a bare 500 that carries no internals).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core import database
from core.database import is_database_unavailable
from core.errors import ApplicationError, InvalidInput

# What a value the database refuses (a NUL byte, a number past its column) is answered with.
MALFORMED_VALUE = ("invalid_value", "A value in the request is out of range or malformed.")
logger = logging.getLogger("core.api")

# DRF's default codes, renamed where a client deserves a clearer one.
_CODE_OVERRIDES = {
    "parse_error": "malformed_request",
    "not_authenticated": "not_authenticated",
    "authentication_failed": "authentication_failed",
    "throttled": "throttled",
}


def error_body(code: str, detail: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "detail": detail}
    if fields:
        body["fields"] = fields
    return body


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {msg}" for key, value in detail.items() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, Any]:
    """Field errors as ``{field: [messages]}``; nested serializers keep their nesting."""
    if isinstance(detail, dict):
        return {
            key: (_fields(value) if isinstance(value, dict) else _flatten(value))
            for key, value in detail.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: _flatten(detail)}


def _validation_response(detail: Any) -> Response:
    fields = _fields(detail)
    non_field = fields.get(api_settings.NON_FIELD_ERRORS_KEY)
    message = non_field[0] if non_field and len(fields) == 1 else InvalidInput.detail
    return Response(error_body(InvalidInput.code, message, fields), status=InvalidInput.status)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(exc.code, str(exc.detail), exc.fields),
            status=exc.status,
            headers=exc.headers,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )

    if isinstance(exc, exceptions.ValidationError):
        return _validation_response(exc.detail)

    if isinstance(exc, exceptions.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        detail = exc.detail
        code = exc.default_code
        message: str
        if isinstance(detail, dict):
            # simplejwt puts {"detail", "code", "messages"} here.
            message = str(detail.get("detail", exc.default_detail))
            code = str(detail.get("code", code))
        elif isinstance(detail, list):
            message = " ".join(_flatten(detail))
        else:
            message = str(detail)
            code = getattr(detail, "code", None) or code
        if isinstance(exc, exceptions.Throttled):
            code = "throttled"
        return Response(
            error_body(_CODE_OVERRIDES.get(code, code), message),
            status=exc.status_code,
            headers=headers,
        )

    request = context.get("request")
    if is_database_unavailable(exc):
        logger.warning(
            "database unavailable in %s %s: %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
            exc,
        )
        return Response(
            error_body(database.CODE, database.DETAIL),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": str(database.RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, DataError):
        # PostgreSQL refused a value (a number out of its column's range, a NUL byte):
        # bad input that slipped past a serializer bound, not a server fault.
        logger.warning(
            "database refused a value in %s %s",
            getattr(request, "method", "?"),
            getattr(request, "path", "?"),
        )
        return Response(
            error_body(*MALFORMED_VALUE),
            status=status.HTTP_400_BAD_REQUEST,
        )
    logger.exception(
        "unhandled error in %s %s",
        getattr(request, "method", "?"),
        getattr(request, "path", "?"),
    )
    return Response(
        error_body("server_error", "Something went wrong on our side. It has been logged."),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
