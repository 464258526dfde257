"""The staff groups: ``staff_groups_setup`` makes exactly the groups the data migrations
made (they keep a frozen copy, as migrations never import app code), and running it again
changes nothing."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection

from accounts.services import CONTENT_EDITORS, FINANCE, STAFF_GROUPS, staff_groups_setup

pytestmark = pytest.mark.django_db

NAMES = [CONTENT_EDITORS, FINANCE]


def _snapshot() -> dict[str, set[str]]:
    return {
        group.name: {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}
        for group in Group.objects.filter(name__in=NAMES).prefetch_related(
            "permissions__content_type"
        )
    }


def _run_the_migrations() -> None:
    """testengine 0002 and payments 0002, run against today's models."""
    staff = importlib.import_module("testengine.migrations.0002_staff_groups")
    finance = importlib.import_module("payments.migrations.0002_finance_permissions")
    configs = [apps.get_app_config(label) for label in ("accounts", "testengine", "payments")]
    saved = [config.models_module for config in configs]
    schema_editor = SimpleNamespace(connection=connection)
    try:
        staff.create_groups(apps, schema_editor)
        finance.grant(apps, schema_editor)
    finally:  # the migrations toggle models_module on the (here: global) app configs
        for config, module in zip(configs, saved, strict=True):
            config.models_module = module


def test_the_service_makes_the_groups_the_migrations_made():
    Group.objects.filter(name__in=NAMES).delete()
    _run_the_migrations()
    migrated = _snapshot()
    Group.objects.filter(name__in=NAMES).delete()

    groups = staff_groups_setup()

    assert sorted(groups) == sorted(NAMES)
    assert _snapshot() == migrated
    assert len(migrated[CONTENT_EDITORS]) == 7 * 4 + 1
    assert sum(len(codenames) for codenames in STAFF_GROUPS[FINANCE].values()) == len(
        migrated[FINANCE]
    )


def test_running_it_again_changes_nothing_and_restores_a_removed_permission():
    staff_groups_setup()
    before = _snapshot()
    editors = Group.objects.get(name=CONTENT_EDITORS)
    editors.permissions.remove(Permission.objects.get(codename="add_question"))
    extra = Permission.objects.get(codename="view_user")
    editors.permissions.add(extra)  # added by staff: kept

    staff_groups_setup()
    staff_groups_setup()

    after = _snapshot()
    assert after[CONTENT_EDITORS] == before[CONTENT_EDITORS] | {"accounts.view_user"}
    assert after[FINANCE] == before[FINANCE]
    assert Group.objects.filter(name__in=NAMES).count() == 2
