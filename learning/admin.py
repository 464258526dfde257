"""Back office: learners' topic mastery, read-only (it is recomputed, never edited)."""

from django.contrib import admin
from django.http import HttpRequest

from learning.models import TopicMastery


@admin.register(TopicMastery)
class TopicMasteryAdmin(admin.ModelAdmin):
    list_display = ("user", "topic", "mastery", "confidence", "theta", "se", "responses")
    list_select_related = ("user", "topic")
    search_fields = ("user__email", "topic__name")
    readonly_fields = ("user", "topic", "theta", "se", "responses", "correct", "updated_at")
    ordering = ("user_id", "theta")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: TopicMastery | None = None) -> bool:
        return False
