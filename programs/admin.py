"""The programs back office: curricula (phases, milestones and their tests, tracks per
plan), the review queue of project submissions, and certificates (search, revoke)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypedDict

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, ForeignKey, QuerySet
from django.forms import ModelChoiceField
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from core.admin import fields_text
from core.errors import ApplicationError
from programs import services
from programs.models import (
    Certificate,
    Milestone,
    MilestoneTest,
    Phase,
    Program,
    ProjectSubmission,
    Track,
    TrackMilestone,
)

if TYPE_CHECKING:
    from django.contrib.admin.filters import _ListFilterChoices
    from django.contrib.admin.views.main import ChangeList
    from django_stubs_ext import WithAnnotations

    from accounts.authentication import AuthenticatedHttpRequest

    class _ProgramCounts(TypedDict):
        n_phases: int
        n_tracks: int

    class _TrackCounts(TypedDict):
        n_milestones: int


EMPTY = "—"


# --- curriculum ----------------------------------------------------------------------------------


class PhaseInline(admin.TabularInline):
    model = Phase
    extra = 0
    fields = ("order", "title", "description")
    ordering = ("order", "id")


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    fields = ("plan", "milestone_count")
    readonly_fields = ("milestone_count",)
    show_change_link = True

    @admin.display(description="Milestones")
    def milestone_count(self, obj: Track) -> int:
        return obj.entries.count() if obj.pk else 0

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "plan":
            program = getattr(request, "_program", None)
            if program is not None:
                kwargs["queryset"] = program.product.plans.all()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("product", "unlock_in_order", "phase_count", "track_count")
    list_select_related = ("product",)
    search_fields = ("product__title", "product__slug")
    autocomplete_fields = ("product",)
    inlines = [PhaseInline, TrackInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Program]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                n_phases=Count("phases", distinct=True), n_tracks=Count("tracks", distinct=True)
            )
        )

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Program | None:
        program = super().get_object(request, object_id, from_field)
        request._program = program  # type: ignore[attr-defined]  # the track inline offers only this product's plans
        return program

    @admin.display(description="Phases", ordering="n_phases")
    def phase_count(self, obj: WithAnnotations[Program, _ProgramCounts]) -> int:
        return obj.n_phases

    @admin.display(description="Tracks", ordering="n_tracks")
    def track_count(self, obj: WithAnnotations[Program, _ProgramCounts]) -> int:
        return obj.n_tracks


class MilestoneTestInline(admin.TabularInline):
    model = MilestoneTest
    extra = 0
    fields = ("order", "test")
    autocomplete_fields = ("test",)


class MilestoneForm(forms.ModelForm):
    class Meta:
        model = Milestone
        fields = (
            "phase",
            "order",
            "title",
            "description_md",
            "target_week",
            "requires_review",
            "is_required",
        )


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    form = MilestoneForm
    list_display = (
        "title",
        "phase",
        "program",
        "order",
        "target_week",
        "requires_review",
        "is_required",
    )
    list_editable = ("order", "target_week")
    list_filter = ("phase__program", "requires_review", "is_required")
    list_select_related = ("phase__program__product",)
    search_fields = ("title",)
    ordering = ("phase__program", "phase__order", "order", "id")
    inlines = [MilestoneTestInline]

    @admin.display(description="Program", ordering="phase__program")
    def program(self, obj: Milestone) -> str:
        return str(obj.phase.program)

    def save_model(
        self, request: HttpRequest, obj: Milestone, form: forms.ModelForm[Milestone], change: bool
    ) -> None:
        services.milestone_save(milestone=obj)


class TrackMilestoneInline(admin.TabularInline):
    model = TrackMilestone
    extra = 0
    fields = ("milestone", "target_week")
    verbose_name = "milestone of this track"
    verbose_name_plural = "milestones of this track (shared with other tracks, never copied)"

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField | None:
        if db_field.name == "milestone":
            track = getattr(request, "_track", None)
            if track is not None:
                kwargs["queryset"] = Milestone.objects.filter(
                    phase__program=track.program
                ).select_related("phase")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Track)
class TrackAdmin(admin.ModelAdmin):
    list_display = ("__str__", "program", "plan", "milestone_count")
    list_filter = ("program",)
    list_select_related = ("program__product", "plan")
    inlines = [TrackMilestoneInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Track]:
        return super().get_queryset(request).annotate(n_milestones=Count("entries"))

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Track | None:
        track = super().get_object(request, object_id, from_field)
        request._track = track  # type: ignore[attr-defined]  # the inline offers only this program's milestones
        return track

    @admin.display(description="Milestones", ordering="n_milestones")
    def milestone_count(self, obj: WithAnnotations[Track, _TrackCounts]) -> int:
        return obj.n_milestones


# --- one form page for the two staff decisions ---------------------------------------------------


def _decision_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    *,
    obj: Any,
    title: str,
    rows: list[tuple[str, Any]],
    form: forms.Form,
    buttons: list[tuple[str, str]],
    note: str,
    change_url: str,
    open_: bool,
    closed_note: str,
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "original": obj,
        "rows": rows,
        "form": form,
        "buttons": buttons,
        "note": note,
        "change_url": change_url,
        "open": open_,
        "closed_note": closed_note,
        "has_view_permission": True,
    }
    return TemplateResponse(request, "admin/programs/decision.html", context)


def _fail(model_admin: admin.ModelAdmin, request: HttpRequest, exc: ApplicationError) -> None:
    detail = fields_text(exc)
    model_admin.message_user(
        request,
        f"Nothing was changed. {exc.detail}" + (f" {detail}" if detail else ""),
        messages.ERROR,
    )


# --- the review queue ----------------------------------------------------------------------------


class ReviewForm(forms.Form):
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5, "cols": 80}),
        required=False,
        max_length=4000,
        help_text="Shown to the learner. Required when asking for changes.",
    )


class WaitingFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "queue"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> list[tuple[str, str]]:
        return [("waiting", "Waiting for review"), ("reviewed", "Reviewed"), ("all", "All")]

    def choices(self, changelist: ChangeList) -> Iterator[_ListFilterChoices]:
        value = self.value() or "waiting"
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(
        self, request: HttpRequest, queryset: QuerySet[ProjectSubmission]
    ) -> QuerySet[ProjectSubmission]:
        value = self.value() or "waiting"
        if value == "waiting":
            return queryset.filter(status=ProjectSubmission.Status.SUBMITTED).order_by("created_at")
        if value == "reviewed":
            return queryset.exclude(status=ProjectSubmission.Status.SUBMITTED)
        return queryset


@admin.register(ProjectSubmission)
class ProjectSubmissionAdmin(admin.ModelAdmin):
    """The review queue: oldest waiting submission first."""

    list_display = ("created_at", "learner", "milestone", "program", "status", "link", "review")
    list_filter = (WaitingFilter, "milestone__phase__program", "milestone")
    list_select_related = ("user", "milestone__phase__program__product")
    search_fields = ("user__email", "user__full_name", "url", "milestone__title")
    readonly_fields = (
        "user",
        "milestone",
        "url",
        "note",
        "status",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "review_comment",
    )
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ProjectSubmission | None = None
    ) -> bool:
        return False

    def has_review_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_projectsubmission")

    @admin.display(description="Learner", ordering="user__email")
    def learner(self, obj: ProjectSubmission) -> str:
        return obj.user.full_name or obj.user.email or str(obj.user)

    @admin.display(description="Program")
    def program(self, obj: ProjectSubmission) -> str:
        return str(obj.milestone.phase.program)

    @admin.display(description="Link")
    def link(self, obj: ProjectSubmission) -> SafeString:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', obj.url, obj.url[:60]
        )

    @admin.display(description="Review")
    def review(self, obj: ProjectSubmission) -> SafeString | str:
        if obj.status != ProjectSubmission.Status.SUBMITTED:
            return EMPTY
        url = reverse("admin:programs_projectsubmission_review", args=[obj.pk])
        return format_html('<a class="button" href="{}">Review…</a>', url)

    def get_urls(self):
        review = path(
            "<path:object_id>/review/",
            self.admin_site.admin_view(self.review_view),
            name="programs_projectsubmission_review",
        )
        return [review, *super().get_urls()]

    def review_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        submission = self.get_object(request, unquote(object_id))
        if submission is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_review_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:programs_projectsubmission_change", args=[submission.pk])
        form = ReviewForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            accept = "accept" in request.POST
            try:
                services.submission_review(
                    submission_id=submission.pk,
                    accept=accept,
                    comment=form.cleaned_data["comment"],
                    by=request.user,
                )
            except ApplicationError as exc:
                _fail(self, request, exc)
            else:
                done = "accepted" if accept else "sent back for changes"
                self.message_user(request, f"The submission was {done}.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:programs_projectsubmission_changelist"))
        return _decision_page(
            self,
            request,
            obj=submission,
            title=f"Review: {submission.milestone}",
            rows=[
                ("Learner", f"{submission.user.full_name} <{submission.user.email}>"),
                (
                    "Program · milestone",
                    f"{submission.milestone.phase.program} · {submission.milestone}",
                ),
                (
                    "Link",
                    format_html(
                        '<a href="{0}" target="_blank" rel="noopener noreferrer">{0}</a>',
                        submission.url,
                    ),
                ),
                ("Note", submission.note or EMPTY),
                ("Submitted", submission.created_at),
            ],
            form=form,
            buttons=[("accept", "Accept"), ("changes", "Request changes")],
            note="Accepting completes the milestone (and issues the certificate when it was "
            "the last one).",
            change_url=change_url,
            open_=submission.status == ProjectSubmission.Status.SUBMITTED,
            closed_note="This submission was already reviewed: "
            f"{submission.get_status_display().lower()}.",
        )


# --- certificates --------------------------------------------------------------------------------


class RevokeForm(forms.Form):
    reason = forms.CharField(max_length=300, help_text="Shown on the public verification page.")


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "learner_name",
        "program_title",
        "track_name",
        "completed_at",
        "status",
        "page",
    )
    list_filter = ("track__program", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("code", "learner_name", "user__email")
    list_select_related = ("user",)
    readonly_fields = (
        "code",
        "user",
        "track",
        "learner_name",
        "program_title",
        "track_name",
        "completed_at",
        "created_at",
        "revoked_at",
        "revoke_reason",
        "revoked_by",
        "page",
    )
    fields = readonly_fields
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Certificate | None = None) -> bool:
        return False

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.change_certificate")

    @admin.display(description="Status", ordering="revoked_at")
    def status(self, obj: Certificate) -> str:
        return "revoked" if obj.is_revoked else "valid"

    @admin.display(description="Public page")
    def page(self, obj: Certificate) -> SafeString:
        return format_html(
            '<a href="{}" target="_blank">view</a>', reverse("certificate-page", args=[obj.code])
        )

    def get_urls(self):
        revoke = path(
            "<path:object_id>/revoke/",
            self.admin_site.admin_view(self.revoke_view),
            name="programs_certificate_revoke",
        )
        return [revoke, *super().get_urls()]

    @admin.action(description="Revoke the selected certificate…", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> HttpResponse | None:
        certificates = list(queryset[:2])
        if len(certificates) != 1:
            self.message_user(
                request, "Select exactly one certificate to revoke.", messages.WARNING
            )
            return None
        return HttpResponseRedirect(
            reverse("admin:programs_certificate_revoke", args=[certificates[0].pk])
        )

    def revoke_view(self, request: AuthenticatedHttpRequest, object_id: str) -> HttpResponse:
        certificate = self.get_object(request, unquote(object_id))
        if certificate is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        change_url = reverse("admin:programs_certificate_change", args=[certificate.pk])
        form = RevokeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.certificate_revoke(
                    certificate_id=certificate.pk,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                )
            except ApplicationError as exc:
                _fail(self, request, exc)
            else:
                self.message_user(
                    request, f"Certificate {certificate.code} is revoked.", messages.SUCCESS
                )
                return HttpResponseRedirect(change_url)
        return _decision_page(
            self,
            request,
            obj=certificate,
            title=f"Revoke certificate {certificate.code}",
            rows=[
                ("Learner", certificate.learner_name),
                ("Program · track", f"{certificate.program_title} · {certificate.track_name}"),
                ("Completed", certificate.completed_at),
            ],
            form=form,
            buttons=[("revoke", "Yes, revoke")],
            note="Verification will say the certificate is revoked, and why. This cannot be "
            "undone.",
            change_url=change_url,
            open_=not certificate.is_revoked,
            closed_note=f"Already revoked: {certificate.revoke_reason}",
        )
