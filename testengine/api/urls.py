"""The test engine's staff API at ``/api/v1/testengine/``: topics, questions (with their
import and export) and tests."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from testengine.api import views
from testengine.api.importexport import QuestionExportView, QuestionImportView

router = SimpleRouter()
router.register("topics", views.TopicViewSet, basename="topic")
router.register("questions", views.QuestionViewSet, basename="question")
router.register("tests", views.TestViewSet, basename="test")

urlpatterns = [
    # import/ and export/ must come before the router's questions/<pk>/, which would
    # otherwise take these paths.
    path("questions/import/", QuestionImportView.as_view(), name="question-import"),
    path("questions/export/", QuestionExportView.as_view(), name="question-export"),
    *router.urls,
]
