"""Admin pieces shared by every app's back office."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from core.errors import ApplicationError

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    _AdminBase = ModelAdmin[Any]
else:
    _AdminBase = object


def fields_text(exc: ApplicationError) -> str:
    """A domain error's field messages as one line, for an admin message."""
    parts = []
    for name, texts in (exc.fields or {}).items():
        strings = [str(text) for text in texts if isinstance(text, str)]  # type: ignore[redundant-expr]
        if strings:
            parts.append(f"{name}: {' '.join(strings)}")
    return "; ".join(parts)


class ServiceErrorsMixin(_AdminBase):
    """A domain error raised while saving (a race the form could not foresee, a rule that
    needs the saved rows) rolls the whole save back — the admin saves inside one
    transaction — and comes back as an error message on the same page."""

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApplicationError as exc:
            detail = fields_text(exc)
            self.message_user(
                request,
                f"Nothing was saved. {exc.detail}" + (f" {detail}" if detail else ""),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
