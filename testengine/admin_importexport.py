"""Question import and export in the admin: an import page, an export of the changelist's
current filtered list, and an "Export selected as CSV" action. All three go through
``testengine.importexport``, the same service as the API.

``QuestionAdmin`` puts :class:`ImportExportMixin` first among its bases; the mixin works
with any ``admin.ModelAdmin`` of ``Question``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR, IncorrectLookupParameters
from django.contrib.admin.views.main import ERROR_FLAG
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from testengine.errors import ImportRejected
from testengine.importexport import (
    CONTENT_TYPES,
    CSV,
    FORMATS,
    MAX_ROWS,
    export_filename,
    format_from_filename,
    questions_export,
    questions_import,
)

# The query parameter naming the export's format; every other parameter is the
# changelist's own (filters, search, ordering).
EXPORT_FORMAT_VAR = "_format"
MAX_UPLOAD_MB = 50


if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    from accounts.authentication import AuthenticatedHttpRequest
    from testengine.models import Question

    _AdminBase = ModelAdmin[Question]
else:
    _AdminBase = object


class QuestionImportForm(forms.Form):
    file = forms.FileField(
        help_text=f"CSV or JSON, UTF-8, at most {MAX_ROWS} questions and {MAX_UPLOAD_MB} MB."
    )
    format = forms.ChoiceField(
        choices=[("", "From the file name"), ("csv", "CSV"), ("json", "JSON")],
        required=False,
    )
    dry_run = forms.BooleanField(
        required=False,
        label="Dry run",
        help_text="Check every row and report, but save nothing.",
    )

    def clean(self) -> dict[str, Any]:
        """The format is the one chosen, else the file name's extension."""
        cleaned: dict[str, Any] = super().clean()  # type: ignore[assignment]  # never None here
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        if upload.size > MAX_UPLOAD_MB * 1024 * 1024:
            self.add_error("file", f"The file is larger than {MAX_UPLOAD_MB} MB; split it.")
        fmt = cleaned.get("format") or format_from_filename(upload.name or "")
        if fmt is None:
            self.add_error("format", "Choose the format: the file name does not tell.")
        cleaned["format"] = fmt
        return cleaned


class ImportExportMixin(_AdminBase):
    """Import and export for a ``ModelAdmin`` of ``Question``.

    Import needs the add permission, export the view permission, as the admin's own
    views do. Put it before ``admin.ModelAdmin`` among the bases.
    """

    change_list_template = "admin/testengine/question/change_list.html"
    import_template = "admin/testengine/question/import.html"

    # --- URLs and the changelist buttons ---------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="{}_{}_import".format(*info)),
            path("export/", wrap(self.export_view), name="{}_{}_export".format(*info)),
            *super().get_urls(),
        ]

    def _url(self, name: str) -> str:
        info = self.opts.app_label, self.opts.model_name, name
        return reverse("admin:{}_{}_{}".format(*info), current_app=self.admin_site.name)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The export buttons carry the changelist's current filters, search and order.
        query = request.GET.copy()
        query.pop(ERROR_FLAG, None)
        export_urls = {}
        for fmt in FORMATS:
            query[EXPORT_FORMAT_VAR] = fmt
            export_urls[fmt] = f"{self._url('export')}?{query.urlencode()}"
        context = {
            "import_url": self._url("import"),
            "export_urls": export_urls,
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    # --- import ----------------------------------------------------------------------------

    def import_view(self, request: AuthenticatedHttpRequest) -> HttpResponse:
        """The import form; on a clean file, import (or report a dry run); on a bad one,
        list every problem by row on the page. Nothing is saved unless all rows are good."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        report = None
        rejected: ImportRejected | None = None
        if request.method == "POST":
            form = QuestionImportForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    report = questions_import(
                        content=form.cleaned_data["file"].read(),
                        fmt=form.cleaned_data["format"],
                        dry_run=form.cleaned_data["dry_run"],
                        by=request.user,
                    )
                except ImportRejected as exc:
                    rejected = exc
                else:
                    if not report.dry_run:
                        self.message_user(
                            request,
                            f"Imported {report.created} questions.",
                            messages.SUCCESS,
                        )
                        return HttpResponseRedirect(self._url("changelist"))
        else:
            form = QuestionImportForm()
        request.current_app = self.admin_site.name
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Import questions",
            "form": form,
            "report": report,
            "rejected": rejected,
            "rows": (rejected.fields or {}).get("rows", []) if rejected else [],
            "max_rows": MAX_ROWS,
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(request, self.import_template, context)

    # --- export ----------------------------------------------------------------------------

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """Download what the changelist shows with the same query (every page of it)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        query = request.GET.copy()
        fmt = query.pop(EXPORT_FORMAT_VAR, [CSV])[-1]
        if fmt not in FORMATS:
            fmt = CSV
        # The changelist reads its filters from request.GET and refuses unknown names.
        request.GET = query  # type: ignore[assignment]  # a mutable copy, on purpose
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(f"{self._url('changelist')}?{ERROR_FLAG}=1")
        return _download(changelist.get_queryset(request), fmt)

    @admin.action(description="Export selected as CSV")
    def export_selected_csv(
        self, request: HttpRequest, queryset: QuerySet[Question]
    ) -> HttpResponse:
        return _download(queryset, CSV)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if (
            self.actions is not None
            and IS_POPUP_VAR not in request.GET
            and self.has_view_permission(request)
        ):
            action = self.get_action("export_selected_csv")
            actions.setdefault(action[1], action)  # type: ignore[index]  # defined just below
        return actions


def _download(queryset: QuerySet, fmt: str) -> HttpResponse:
    response = HttpResponse(
        questions_export(queryset=queryset, fmt=fmt), content_type=CONTENT_TYPES[fmt]
    )
    response["Content-Disposition"] = f'attachment; filename="{export_filename(fmt)}"'
    return response
