from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from core.api import schema  # noqa: F401  (registers OpenAPI extensions)
        from core.request_context import clear_log_context

        request_finished.connect(clear_log_context, dispatch_uid="core.clear_log_context")
