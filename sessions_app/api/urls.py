"""The sessions API, at the /api/v1/ root: the learner's sitting (``tests/{slug}/sessions/``
and ``sessions/…``), results, review, leaderboards and the learner's test list."""

from django.urls import path

from sessions_app.api import schema, sitting
from sessions_app.api.learner_tests import LearnerTestViewSet
from sessions_app.api.results import LeaderboardView, SessionResultView, SessionReviewView

schema.document_results_and_tests()

sessions = sitting.SessionViewSet

urlpatterns = [
    # The sitting.
    path("tests/<slug:slug>/sessions/", sitting.SessionStartView.as_view(), name="session-start"),
    path("sessions/", sessions.as_view({"get": "list"}), name="session-list"),
    path("sessions/<uuid:pk>/", sessions.as_view({"get": "retrieve"}), name="session-detail"),
    path(
        "sessions/<uuid:pk>/questions/",
        sessions.as_view({"get": "questions"}),
        name="session-questions",
    ),
    path(
        "sessions/<uuid:pk>/responses/",
        sessions.as_view({"post": "responses"}),
        name="session-responses",
    ),
    path(
        "sessions/<uuid:pk>/responses/<int:question_id>/",
        sessions.as_view({"put": "save_response"}),
        name="session-response",
    ),
    path(
        "sessions/<uuid:pk>/sections/next/",
        sessions.as_view({"post": "next_section"}),
        name="session-next-section",
    ),
    path("sessions/<uuid:pk>/submit/", sessions.as_view({"post": "submit"}), name="session-submit"),
    # Results, review, the learner's test list and leaderboards.
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
