"""Demo data registry. Each app may ship a ``demo.py`` whose ``seed(out)`` function adds its
part of the living demo; ``manage.py seed_demo`` runs them in dependency order (the order
of INSTALLED_APPS). Seeders must be idempotent: ``make run`` calls them every time."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TextIO

from django.apps import apps

Seeder = Callable[[TextIO], None]


def seeders() -> list[tuple[str, Seeder]]:
    found = []
    for config in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        found.append((config.label, module.seed))
    return found
