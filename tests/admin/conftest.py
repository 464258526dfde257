"""The staff groups come from a data migration (testengine 0002). A transactional test
elsewhere in the same worker flushes every table, migration data included, so recreate the
groups with the migration's own function when they are gone."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection

_MIGRATION = importlib.import_module("testengine.migrations.0002_staff_groups")


@pytest.fixture(autouse=True)
def _staff_groups(db):
    if Group.objects.filter(name__in=[_MIGRATION.CONTENT_EDITORS, _MIGRATION.FINANCE]).count() == 2:
        return
    configs = [apps.get_app_config(label) for label in ("accounts", "testengine")]
    saved = [config.models_module for config in configs]
    try:
        _MIGRATION.create_groups(apps, SimpleNamespace(connection=connection))
    finally:  # the migration toggles models_module on the (here: global) app configs
        for config, module in zip(configs, saved, strict=True):
            config.models_module = module
