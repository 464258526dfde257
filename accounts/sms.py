"""Sending text messages. Production plugs in a provider's backend via ``SMS_BACKEND``.

A backend is any class with ``send(to: str, body: str) -> None``. The console backend
prints to standard output (not to the logs: one-time codes never enter log pipelines);
the locmem backend keeps messages in ``outbox`` for tests; the file backend writes them to
files for the end-to-end stack, and the development one (``make run``) to files under
``var/sms/`` with one line in the terminal.
"""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from core import dev_delivery


class SmsBackend(Protocol):
    def send(self, to: str, body: str) -> None: ...


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class ConsoleSmsBackend:
    """Development: prints the message, the way Django's console email backend does."""

    def send(self, to: str, body: str) -> None:
        sys.stdout.write(f"--- SMS to {to} ---\n{body}\n-------------------\n")
        sys.stdout.flush()


class SmsUnavailable(Exception):
    """No SMS provider is configured."""


class DisabledSmsBackend:
    """Production default until a provider is configured: phone OTP is refused up front
    (``sms_enabled()`` is false), so no code is ever generated that cannot be delivered."""

    enabled = False

    def send(self, to: str, body: str) -> None:
        raise SmsUnavailable("SMS_BACKEND is not configured.")


outbox: list[SmsMessage] = []


class LocmemSmsBackend:
    """Tests: collects messages in :data:`outbox`."""

    def send(self, to: str, body: str) -> None:
        outbox.append(SmsMessage(to=to, body=body))


class FileSmsBackend:
    """End-to-end stacks (``config.settings.e2e``): one file per message in
    ``SMS_FILE_PATH``, read by the tests the way they read the file-based mail. Never in
    production: codes would sit on disk."""

    def send(self, to: str, body: str) -> None:
        self.write(to, body)

    def write(self, to: str, body: str) -> Path:
        directory = Path(settings.SMS_FILE_PATH)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.sms"
        path.write_text(f"To: {to}\n\n{body}\n", encoding="utf-8")
        return path


class DevFileSmsBackend(FileSmsBackend):
    """Development (``config.settings.dev``): the file, and one line in the terminal
    naming the masked number and the file (the text itself only under DEBUG)."""

    def send(self, to: str, body: str) -> None:
        path = self.write(to, body)
        dev_delivery.announce(channel="SMS", to=[to], subject="", path=path, text=body)


def get_sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def sms_enabled() -> bool:
    return getattr(import_string(settings.SMS_BACKEND), "enabled", True)


def send_sms(*, to: str, body: str) -> None:
    get_sms_backend().send(to, body)
