"""The current request's log context, readable from anywhere in the same thread or task.

``RequestIdMiddleware`` starts a fresh context for every request, cleared when the request
has finished;
authentication adds the user, and views add the ids of the records they act on
(``bind_log_context(order_id=…)``), so every later log line of that request carries them.
"""

from __future__ import annotations

from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
user_id_var: ContextVar[str] = ContextVar("user_id", default="-")
_extra_var: ContextVar[MappingProxyType[str, str]] = ContextVar(
    "log_context", default=MappingProxyType({})
)


def bind_log_context(**ids: Any) -> None:
    """Adds ids (public ids only: never an email, a token or a code) to this request's log
    lines."""
    _extra_var.set(MappingProxyType({**_extra_var.get(), **{k: str(v) for k, v in ids.items()}}))


def log_context() -> MappingProxyType[str, str]:
    return _extra_var.get()


def bind_user(public_id: Any) -> None:
    user_id_var.set(str(public_id))


def start_log_context(request_id: str) -> None:
    """A request begins: its id, no user, no ids yet (nothing left from the thread's last
    request)."""
    request_id_var.set(request_id)
    user_id_var.set("-")
    _extra_var.set(MappingProxyType({}))


def clear_log_context(**_signal_kwargs: Any) -> None:
    """A request ended (``request_finished``, connected in ``CoreConfig.ready``).

    Not at the end of the middleware: Django logs 4xx answers ("Not Found: …") after the
    middleware chain returns, and those lines must still name the request and the user.
    """
    request_id_var.set("-")
    user_id_var.set("-")
    _extra_var.set(MappingProxyType({}))
