"""Back office for exam sessions: read-only sittings and per-learner overrides."""

from django.contrib import admin
from django.http import HttpRequest

from sessions_app.models import AttemptOverride, ExamSession, SessionResponse


class SessionResponseInline(admin.TabularInline):
    """The learner's saved answers, kept whatever became of the sitting (a sitting closed by
    a refund or revoke keeps them for staff)."""

    model = SessionResponse
    fields = ("question_id", "answer", "marked_for_review", "time_spent_ms", "outcome", "marks")
    readonly_fields = fields
    ordering = ("question_id",)
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: ExamSession | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExamSession | None = None) -> bool:
        return False


@admin.register(ExamSession)
class ExamSessionAdmin(admin.ModelAdmin):
    """Sittings are written by learners and the clock, never edited by hand."""

    list_display = (
        "id",
        "user",
        "test",
        "attempt",
        "status",
        "started_at",
        "deadline_at",
        "score",
        "max_score",
    )
    list_filter = (
        "status",
        "submit_reason",
        ("access_ended_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("user__email", "test__title", "test__slug")
    list_select_related = ("user", "test")
    ordering = ("-started_at",)
    exclude = ("paper",)
    inlines = [SessionResponseInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ExamSession | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ExamSession | None = None) -> bool:
        return False


@admin.register(AttemptOverride)
class AttemptOverrideAdmin(admin.ModelAdmin):
    """Extra time (e.g. for accessibility) or extra attempts for one learner and test;
    applied when the learner next starts the test."""

    list_display = ("user", "test", "extra_seconds", "extra_attempts", "reason", "updated_at")
    search_fields = ("user__email", "test__title", "test__slug")
    list_select_related = ("user", "test")
    autocomplete_fields = ("user", "test")
    ordering = ("-updated_at",)
