"""Calling the AI team's models over HTTP: one JSON POST with a short timeout.

Every remote plug-in (the adaptive estimator and selector, the learning recommender) goes
through :func:`call_model`; on any failure — no URL configured, a timeout, a refused
connection, a non-2xx answer, a body that is not a JSON object — it raises
:class:`RemoteModelError`, and the plug-in answers with its built-in fallback instead. After
a failure the remote is skipped for ``MODELS_REMOTE_COOLDOWN_SECONDS`` in this process (a
circuit breaker), so a down model costs one timeout per worker per cool-down, never one
per learner's answer. The contract is docs/models.md.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import requests
from django.conf import settings

logger = logging.getLogger(__name__)

_session = requests.Session()
_open_until: dict[str, float] = {}
_lock = threading.Lock()


class RemoteModelError(Exception):
    """The remote model could not answer; the caller falls back."""


def reset_breaker() -> None:
    with _lock:
        _open_until.clear()


def call_model(path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST ``payload`` to ``MODELS_REMOTE_URL`` + ``path``; the decoded JSON object."""
    base = settings.MODELS_REMOTE_URL.rstrip("/")
    if not base:
        raise RemoteModelError("MODELS_REMOTE_URL is not set")
    now = time.monotonic()
    with _lock:
        if _open_until.get(path, 0.0) > now:
            raise RemoteModelError("cooling down after a failure")
    headers = {"Accept": "application/json"}
    if settings.MODELS_REMOTE_TOKEN:
        headers["Authorization"] = f"Bearer {settings.MODELS_REMOTE_TOKEN}"
    started = time.monotonic()
    try:
        response = _session.post(
            f"{base}/{path.lstrip('/')}",
            json=payload,
            headers=headers,
            timeout=settings.MODELS_REMOTE_TIMEOUT_SECONDS,
        )
        response.raise_for_status()
        body = response.json()
        if not isinstance(body, dict):
            raise ValueError("the answer is not a JSON object")
    except (requests.RequestException, ValueError) as exc:
        with _lock:
            _open_until[path] = time.monotonic() + settings.MODELS_REMOTE_COOLDOWN_SECONDS
        logger.warning(
            "remote model failed; using the built-in one",
            extra={
                "model_path": path,
                "error": type(exc).__name__,
                "elapsed_ms": round((time.monotonic() - started) * 1000),
            },
        )
        raise RemoteModelError(type(exc).__name__) from exc
    return body
