"""The learner's sitting, at the API root: ``tests/{slug}/sessions/`` and ``sessions/…``."""

from django.urls import path

from sessions_app.api import sitting

sessions = sitting.SessionViewSet

urlpatterns = [
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
]
