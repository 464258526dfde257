"""Results, review and leaderboards (included at the /api/v1/ root)."""

from django.urls import path

from sessions_app.api.results import LeaderboardView, SessionResultView, SessionReviewView

urlpatterns = [
    path("sessions/<uuid:pk>/result/", SessionResultView.as_view(), name="session-result"),
    path("sessions/<uuid:pk>/review/", SessionReviewView.as_view(), name="session-review"),
    path("tests/<slug:slug>/leaderboard/", LeaderboardView.as_view(), name="test-leaderboard"),
]
