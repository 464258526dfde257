"""The boundary rules a linter cannot hold on its own (CONTRIBUTING.md, "Apps depend one
way"). The app graph and "no app imports another app's api or admin" are import-linter
contracts (pyproject.toml, ``lint-imports`` in ``make lint``); these tests hold the rest:
no import cycles between modules, within an app too (import-linter's layers see only
edges between apps), counting imports written inside functions; and no app importing
another app's private (``_``-prefixed) names."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "core",
    "accounts",
    "testengine",
    "catalogue",
    "sessions_app",
    "payments",
    "programs",
    "learning",
]
PACKAGES = ["config", *APPS]


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=False)


def test_no_module_imports_itself_back_through_others(graph):
    # grimp counts imports inside functions as well, so a cycle hidden in a function body
    # is found here: every direct import a → b with a chain b → … → a is a cycle.
    cycles = sorted(
        f"{importer} -> {imported}"
        for importer in graph.modules
        for imported in graph.find_modules_directly_imported_by(importer)
        if graph.chain_exists(importer=imported, imported=importer)
    )
    assert cycles == []


def _app_files():
    for app in PACKAGES:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield app, path


def _private_imports(app: str, path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            target = node.module.split(".")
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            target, names = None, [alias.name for alias in node.names]
        else:
            continue
        modules = [".".join(target)] if target else names
        for module in modules:
            parts = module.split(".")
            if parts[0] not in PACKAGES or parts[0] == app:
                continue
            private = [part for part in parts if part.startswith("_") and part != "__init__"]
            if target:
                private += [name for name in names if name.startswith("_")]
            if private:
                where = f"{path.name}:{node.lineno}"
                found.append(f"{where} imports {', '.join(private)} from {module}")
    return found


def test_no_app_imports_another_apps_private_names():
    found = [line for app, path in _app_files() for line in _private_imports(app, path)]
    assert found == []


def test_the_private_name_check_sees_both_import_forms(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "from sessions_app.demo import _answers\n"
        "import testengine._internal\n"
        "from learning.services import _own_app_is_fine\n"
        "from catalogue.services import category_delete\n"
    )
    assert [line.split(" imports ")[1] for line in _private_imports("learning", source)] == [
        "_answers from sessions_app.demo",
        "_internal from testengine._internal",
    ]
