from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    label = "sessions_app"
    verbose_name = "Exam sessions"

    def ready(self) -> None:
        from core.metrics import register_source
        from sessions_app import receivers  # noqa: F401  (sittings follow access)
        from sessions_app.metrics import session_metrics

        register_source("sessions_app", session_metrics)
