"""Results, review, leaderboards and the learner's test list (at the /api/v1/ root)."""

from django.urls import path

from sessions_app.api import schema
from sessions_app.api.learner_tests import LearnerTestViewSet
from sessions_app.api.results import LeaderboardView, SessionResultView, SessionReviewView

schema.document_results_and_tests()

urlpatterns = [
    path("sessions/<uuid:pk>/result/", SessionResultView.as_view(), name="session-result"),
    path("sessions/<uuid:pk>/review/", SessionReviewView.as_view(), name="session-review"),
    path("tests/", LearnerTestViewSet.as_view({"get": "list"}), name="learner-test-list"),
    path(
        "tests/<slug:slug>/",
        LearnerTestViewSet.as_view({"get": "retrieve"}),
        name="learner-test-detail",
    ),
    path("tests/<slug:slug>/leaderboard/", LeaderboardView.as_view(), name="test-leaderboard"),
]
