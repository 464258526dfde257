"""Domain errors. Every app subclasses :class:`ApplicationError` in its own ``errors.py``.

The API's exception handler renders each one as ``{"code", "detail", "fields"}`` with the
status it carries, so services raise meaningful errors without knowing about HTTP views.
"""

from __future__ import annotations

from http import HTTPStatus


class ApplicationError(Exception):
    status: int = HTTPStatus.BAD_REQUEST
    code: str = "error"
    detail: str = "The request could not be completed."

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.detail = detail or self.detail
        self.code = code or self.code
        self.fields = fields
        self.status = status or self.status
        self.headers = headers or {}
        super().__init__(self.detail)


class InvalidInput(ApplicationError):
    """What every validation error answers (the exception handler renders DRF's as this):
    ``fields`` says which values are wrong."""

    code = "invalid"
    detail = "Some fields are not valid."


class PayloadTooLarge(ApplicationError):
    """A request body over the API's size limit (``core.middleware.BodySizeLimitMiddleware``)."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    detail = "The request body is too large."


class NotFound(ApplicationError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"
    detail = "Not found."


class Conflict(ApplicationError):
    status = HTTPStatus.CONFLICT
    code = "conflict"
    detail = "The request conflicts with the current state of the resource."


class Gone(ApplicationError):
    status = HTTPStatus.GONE
    code = "gone"
    detail = "This is no longer available."


class Forbidden(ApplicationError):
    status = HTTPStatus.FORBIDDEN
    code = "permission_denied"
    detail = "You do not have permission to perform this action."
