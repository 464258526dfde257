"""Back office for exam sessions: read-only sittings and per-learner overrides."""

from django.contrib import admin

from sessions_app.models import AttemptOverride, ExamSession


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
    list_filter = ("status", "submit_reason")
    search_fields = ("user__email", "test__title", "test__slug")
    list_select_related = ("user", "test")
    ordering = ("-started_at",)
    exclude = ("paper",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
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
