"""Question import and export; included by ``testengine.api.urls`` ahead of the router,
whose ``questions/<pk>/`` would otherwise take these paths."""

from django.urls import path

from testengine.api.importexport import QuestionExportView, QuestionImportView

urlpatterns = [
    path("questions/import/", QuestionImportView.as_view(), name="question-import"),
    path("questions/export/", QuestionExportView.as_view(), name="question-export"),
]
