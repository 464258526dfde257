"""The project's URLs plus an admin site whose Question admin is a plain ``ModelAdmin``
with ``ImportExportMixin`` (so the mixin is tested on its own, whatever
``testengine/admin.py`` adds)."""

from django.contrib import admin
from django.urls import path

from config.urls import urlpatterns as base
from testengine.admin_importexport import ImportExportMixin
from testengine.models import Question

site = admin.AdminSite(name="importexport_admin")


@admin.register(Question, site=site)
class QuestionAdmin(ImportExportMixin, admin.ModelAdmin):
    list_display = ["id", "type", "status", "difficulty"]
    list_filter = ["status", "difficulty"]
    search_fields = ["body_md"]


urlpatterns = [path("ie-admin/", site.urls), *base]
