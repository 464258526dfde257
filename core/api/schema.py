"""OpenAPI helpers: the error component and per-endpoint error responses with examples.

An endpoint's error responses are declared with the errors themselves — domain error
classes (``SessionExpired``), instances where the example needs its own detail or fields
(``AnswerRejected(fields={...})``), DRF exceptions (``ValidationError({...})``) — and each
example is what the one exception handler answers for that error, so a renamed code or
status cannot drift from the schema. Each app's ``api/schema.py`` holds its endpoints'
documentation; the views apply it with one decorator line.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from http import HTTPStatus
from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    inline_serializer,
)
from rest_framework import exceptions, serializers

from core.api.exception_handler import MALFORMED_VALUE, exception_handler
from core.errors import Conflict, Gone, InvalidInput, PayloadTooLarge


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


# The description of an error response, by status, unless the operation gives its own.
_TITLES = {
    400: "Invalid input",
    401: "Not authenticated",
    402: "Payment required",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Too large",
    415: "Wrong media type",
    429: "Throttled",
    502: "Gateway failure",
    503: "Unavailable",
}

# What an operation answers, by status, for the errors every view can meet whatever it
# does (authentication, permission, throttling, body limits): a bare status documents it.
_GENERIC: dict[int, Exception] = {
    400: InvalidInput(),
    401: exceptions.NotAuthenticated(),
    403: exceptions.PermissionDenied(),
    404: exceptions.NotFound(),
    409: Conflict(),
    410: Gone(),
    413: PayloadTooLarge("The request body is 2097152 bytes; the limit is 1048576 bytes."),
    415: exceptions.UnsupportedMediaType("text/plain"),
    429: exceptions.Throttled(wait=42),
}

# What an error response is declared with: an error class or instance (ours or DRF's),
# or a bare status for its generic answer (_GENERIC).
ErrorCase = type[Exception] | Exception | int


def error_example(case: ErrorCase) -> tuple[int, dict[str, Any]]:
    """The status and body the API answers for ``case``, as the exception handler renders
    it when a view raises that error (a class is raised with its own detail; a bare status
    stands for its generic error)."""
    error = _GENERIC[case] if isinstance(case, int) else case
    if isinstance(error, type):
        error = error()
    response = exception_handler(error, {})
    return int(response.status_code), dict(response.data)


def error_responses(
    *cases: ErrorCase, descriptions: Mapping[int, str] | None = None
) -> dict[int, OpenApiResponse]:
    """The error responses of an operation, one per status the ``cases`` answer with, each
    with one example per case (in order): ``responses={200: X, **error_responses(401,
    SessionNotFound, SessionClosed)}``. ``descriptions`` overrides a status's title."""
    grouped: dict[int, list[dict[str, Any]]] = {}
    for case in cases:
        status, body = error_example(case)
        grouped.setdefault(status, []).append(body)
    descriptions = descriptions or {}
    return {
        status: _documented(status, bodies, descriptions.get(status, ""))
        for status, bodies in grouped.items()
    }


def _documented(status: int, bodies: list[dict[str, Any]], description: str) -> OpenApiResponse:
    examples = [
        OpenApiExample(
            f"{status} {body['code']}" + (f" ({index})" if len(bodies) > 1 else ""),
            value=body,
            response_only=True,
        )
        for index, body in enumerate(bodies, start=1)
    ]
    return OpenApiResponse(
        response=ErrorSerializer,
        description=description or _TITLES.get(status) or HTTPStatus(status).phrase,
        examples=examples,
    )


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
