"""OpenAPI helpers: the error component and per-endpoint error responses with examples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import serializers

from core.api.exception_handler import MALFORMED_VALUE


class AutoSchema(SpectacularAutoSchema):
    """Every operation states its ``security``, as the view authenticates:

    - no authenticator (logout, token refresh, the webhook) → ``security: []``, public;
    - a token optional (``AllowAny`` with the bearer authenticator: a product page shows
      ownership to a logged-in learner) → ``[{"jwtAuth": []}, {}]``;
    - otherwise → ``[{"jwtAuth": []}]``.

    drf-spectacular writes ``[{}]`` for the first case and nothing for ``auth=[]``: both
    read to generators (openapi-python-client) as "needs a token" or "inherits".
    """

    def get_auth(self) -> list[dict[str, list[str]]]:
        auth = super().get_auth()
        return [] if all(requirement == {} for requirement in auth) else auth

    def _get_serializer_name(self, serializer: Any, direction: str, *args: Any, **kw: Any) -> str:
        # Request bodies are named for what they carry: the body of LoginInputSerializer
        # is "LoginRequest", not "LoginInputRequest".
        name = super()._get_serializer_name(serializer, direction, *args, **kw)
        if direction == "request" and name.endswith("InputRequest"):
            name = name[: -len("InputRequest")] + "Request"
        return name

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None or "security" in operation:
            return operation
        ordered: dict[str, Any] = {}
        for key, value in operation.items():
            if key == "responses":
                ordered["security"] = []
            ordered[key] = value
        return ordered


class ErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    code = serializers.CharField(help_text="Stable machine-readable error code.")
    detail = serializers.CharField(help_text="Message for a person.")
    fields = serializers.DictField(  # type: ignore[assignment]  # the error body's "fields"
        child=serializers.JSONField(),
        required=False,
        help_text=(
            "Per-field messages, present only on validation errors: a list of strings per "
            "field; for a list of items (a batch of answers) an object of the failing items' "
            'positions, each with its own fields (`{"responses": {"0": {"seq": [...]}}}`); '
            "bulk imports list row objects `{row, field, message}` under `rows`."
        ),
    )

    class Meta:
        ref_name = "Error"


_DEFAULTS: dict[int, tuple[str, str, str]] = {
    400: ("Invalid input", "invalid", "Some fields are not valid."),
    401: (
        "Not authenticated",
        "not_authenticated",
        "Authentication credentials were not provided.",
    ),
    402: ("Payment required", "payment_required", "This plan is paid: buy it through orders."),
    403: ("Forbidden", "permission_denied", "You do not have permission to perform this action."),
    404: ("Not found", "not_found", "Not found."),
    409: ("Conflict", "conflict", "The request conflicts with the current state."),
    410: ("Gone", "gone", "This is no longer available."),
    413: ("Too large", "payload_too_large", "The request body is too large."),
    415: ("Wrong media type", "unsupported_media_type", 'Unsupported media type "text/plain".'),
    429: ("Throttled", "throttled", "Request was throttled. Expected available in 42 seconds."),
    502: ("Gateway failure", "gateway_error", "The payment gateway did not answer."),
    503: ("Unavailable", "unavailable", "This service is temporarily unavailable."),
}


def error_response(
    status: int, *examples: tuple[str, str] | tuple[str, str, dict[str, Any]], description: str = ""
) -> OpenApiResponse:
    """An error response documented with one example per ``(code, detail[, fields])``."""
    title, default_code, default_detail = _DEFAULTS[status]
    cases = examples or ((default_code, default_detail),)
    built = []
    for index, case in enumerate(cases, start=1):
        code, detail = case[0], case[1]
        value: dict[str, Any] = {"code": code, "detail": detail}
        if len(case) == 3:
            value["fields"] = case[2]
        name = f"{status} {code}" + (f" ({index})" if len(cases) > 1 else "")
        built.append(OpenApiExample(name, value=value, response_only=True))
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description or title,
        examples=built,
    )


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """Default-documented error responses for the given statuses."""
    return {status: error_response(status) for status in statuses}


def uuid_id_parameter(description: str) -> OpenApiParameter:
    """The ``{id}`` path parameter of an object with a public UUID id (sessions, orders,
    devices): ``format: uuid`` like the object's own ``id`` field, so a client passes the
    one to the other as it is."""
    return OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH, description=description)


MESSAGE_SERIALIZER = inline_serializer(name="Message", fields={"detail": serializers.CharField()})


def _error_content(name: str, code: str, detail: str) -> dict[str, Any]:
    return {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/Error"},
            "examples": {name: {"value": {"code": code, "detail": detail}, "summary": f"{code}"}},
        }
    }


def _operations(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            if isinstance(operation, dict):
                yield operation


def document_invalid_pages(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every paginated list (it has a ``page`` query
    parameter) also answers 404 ``not_found`` "Invalid page." for a page past the last one
    or not a positive number — DRF's behaviour, documented where it happens."""
    for operation in _operations(result):
        parameters = operation.get("parameters", [])
        if not any(p.get("in") == "query" and p.get("name") == "page" for p in parameters):
            continue
        response = {
            "content": _error_content("InvalidPage", "not_found", "Invalid page."),
            "description": "Invalid page: past the last one, or not a positive number.",
        }
        operation.setdefault("responses", {}).setdefault("404", response)
    return result


def document_malformed_queries(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation with query parameters answers
    400 ``invalid_value`` when a value cannot be stored or compared at all (a NUL byte, a
    number past its column's range) — the exception handler's answer to a value the database
    refuses. Added beside the operation's own 400 examples when it has some."""
    for operation in _operations(result):
        if not any(p.get("in") == "query" for p in operation.get("parameters", [])):
            continue
        responses = operation.setdefault("responses", {})
        content = _error_content("InvalidValue", *MALFORMED_VALUE)
        existing = responses.get("400")
        if existing is None:
            responses["400"] = {
                "content": content,
                "description": "A query value is malformed (a NUL byte) or out of range.",
            }
            continue
        json_body = existing.setdefault("content", {}).setdefault("application/json", {})
        json_body.setdefault("schema", {"$ref": "#/components/schemas/Error"})
        json_body.setdefault("examples", {}).update(content["application/json"]["examples"])
    return result
