from django.apps import AppConfig


class TestengineConfig(AppConfig):
    name = "testengine"
    verbose_name = "Test engine"
