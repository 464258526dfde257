from django.apps import AppConfig


class TestengineConfig(AppConfig):
    name = "testengine"
    verbose_name = "Test engine"

    def ready(self) -> None:
        from testengine import receivers  # noqa: F401  (cache invalidation)
