"""The current request's id, readable from anywhere in the same thread or task."""

from contextvars import ContextVar

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
