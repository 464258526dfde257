"""Mail and text messages on a developer's machine (``config.settings.dev``).

Each message is written whole to a file (mail under ``EMAIL_FILE_PATH``, text messages
under ``SMS_FILE_PATH``, both in the git-ignored ``var/``), and the terminal running
``make run`` gets one line naming the masked recipient and the file, instead of the whole
MIME text of an invoice. Under ``DEBUG`` a second line shows the message's first line of
text: a one-time code is readable right there, on the developer's own demo. The lines go
to standard output, never to the logs, and production refuses these backends.
"""

from __future__ import annotations

import sys
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.filebased import EmailBackend as FileEmailBackend
from django.core.mail.message import EmailMessage

PREVIEW_CHARS = 100


def mask_destination(value: str) -> str:
    """``learner@examforge.local`` → ``l•••@examforge.local``; ``+919800000001`` →
    ``+91•••••••0001``: enough to tell demo accounts apart, not to copy an address."""
    local, at, domain = value.partition("@")
    if at:
        return f"{local[:1]}•••@{domain}"
    keep = 3 if value.startswith("+") else 0
    if len(value) - keep < 8:  # too short to show four digits and hide the rest
        return "•" * len(value)
    return value[:keep] + "•" * (len(value) - keep - 4) + value[-4:]


def display_path(path: str | Path) -> str:
    """A path inside the checkout relative to it (``var/mail/…``), any other absolute."""
    path = Path(path).resolve()
    try:
        return str(path.relative_to(settings.BASE_DIR))
    except ValueError:
        return str(path)


def announce(*, channel: str, to: list[str], subject: str, path: str | Path, text: str) -> None:
    """The terminal line for one delivered message (and its first line under DEBUG)."""
    recipients = ", ".join(mask_destination(address) for address in to) or "nobody"
    about = f' "{subject}"' if subject else ""
    lines = [f"{channel} to {recipients}{about} written to {display_path(path)}"]
    first_line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if settings.DEBUG and first_line:
        if len(first_line) > PREVIEW_CHARS:
            first_line = first_line[: PREVIEW_CHARS - 1] + "…"
        lines.append(f"  {first_line}")
    sys.stdout.write("".join(f"{line}\n" for line in lines))
    sys.stdout.flush()


class DevFileEmailBackend(FileEmailBackend):
    """Django's file-based backend (one file per connection, usually one per message),
    announcing each message in the terminal."""

    def write_message(self, message: EmailMessage) -> None:
        super().write_message(message)
        announce(
            channel="mail",
            to=list(message.recipients()),
            subject=str(message.subject),
            path=self._fname,  # type: ignore[attr-defined]  # set by write_message
            text=str(message.body),
        )
