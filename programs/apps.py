from django.apps import AppConfig


class ProgramsConfig(AppConfig):
    name = "programs"
    verbose_name = "Programs"

    def ready(self) -> None:
        from programs import receivers  # noqa: F401  (progress when a sitting is scored)
