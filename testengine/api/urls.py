from django.urls import include, path
from rest_framework.routers import SimpleRouter

from testengine.api import views

router = SimpleRouter()
router.register("topics", views.TopicViewSet, basename="topic")
router.register("questions", views.QuestionViewSet, basename="question")
router.register("tests", views.TestViewSet, basename="test")

urlpatterns = [
    # import/ and export/ must come before the router's questions/<pk>/.
    path("", include("testengine.api.urls_importexport")),
    *router.urls,
]
