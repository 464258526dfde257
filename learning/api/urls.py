"""The learner's mastery, recommendations and practice, under /api/v1/me/."""

from django.urls import path

from learning.api import views

urlpatterns = [
    path("mastery/", views.MasteryViewSet.as_view({"get": "list"}), name="my-mastery"),
    path("recommendations/", views.RecommendationsView.as_view(), name="my-recommendations"),
    path("practice/", views.PracticeView.as_view(), name="my-practice"),
]
