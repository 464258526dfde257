"""An error's code is its class's: no app code raises a core error with ``code="…"``.

A code passed as a string at the raise site is retyped wherever it is documented or tested,
so a rename drifts; the class in the app's ``errors.py`` holds it once (CONTRIBUTING.md,
"Errors"). The check reads the source (``ast``) of every local app, migrations aside, and
resolves each called name through the module's imports.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from django.apps import apps
from django.conf import settings

from core.errors import ApplicationError


def _local_app_files() -> list[tuple[str, Path]]:
    base = Path(settings.BASE_DIR).resolve()
    files = []
    for config in apps.get_app_configs():
        root = Path(config.path).resolve()
        if root.parent != base:
            continue  # Django's and third-party apps (also when the venv lives in the checkout)
        for path in sorted(root.rglob("*.py")):
            if "migrations" not in path.relative_to(root).parts:
                module = ".".join(path.relative_to(base).with_suffix("").parts)
                files.append((module.removesuffix(".__init__"), path))
    return files


def _imported_names(tree: ast.Module, module: str) -> dict[str, object]:
    """What each name the module imports (at the top or inside a function) refers to.
    Imports under ``if TYPE_CHECKING:`` name types only (some exist only in stubs) and are
    never raised, so they are left out."""
    package = module.rpartition(".")[0]
    names: dict[str, object] = {}
    typing_only = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and _name_of(node.test) == "TYPE_CHECKING"
        for statement in node.body
        for child in ast.walk(statement)
    }
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            source = importlib.import_module(
                "." * node.level + (node.module or ""), package if node.level else None
            )
            for alias in node.names:
                target = getattr(source, alias.name, None)
                if target is None:  # a submodule: from payments import invoices
                    target = importlib.import_module(f"{source.__name__}.{alias.name}")
                names[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = importlib.import_module(alias.name)
                else:
                    top = alias.name.partition(".")[0]
                    names[top] = importlib.import_module(top)
    return names


def _name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr  # typing.TYPE_CHECKING
    return None


def _resolve(func: ast.expr, names: dict[str, object]) -> object:
    if isinstance(func, ast.Name):
        return names.get(func.id)
    if isinstance(func, ast.Attribute):
        owner = _resolve(func.value, names)
        return getattr(owner, func.attr, None) if owner is not None else None
    return None


def _literal_codes(module: str, path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = _imported_names(tree, module)
    found = []
    for node in sorted(ast.walk(tree), key=lambda node: getattr(node, "lineno", 0)):
        if not isinstance(node, ast.Call):
            continue
        error = _resolve(node.func, names)
        if not (isinstance(error, type) and issubclass(error, ApplicationError)):
            continue
        found.extend(
            f"{path}:{node.lineno} {error.__name__}(code={keyword.value.value!r})"
            for keyword in node.keywords
            if keyword.arg == "code" and isinstance(keyword.value, ast.Constant)
        )
    return found


def test_core_errors_are_raised_by_class_not_with_a_code_string():
    files = _local_app_files()
    assert any(module == "sessions_app.services" for module, _ in files)  # it looks somewhere

    offences = [offence for module, path in files for offence in _literal_codes(module, path)]

    assert offences == [], "give each code its class in the app's errors.py:\n" + "\n".join(
        offences
    )


def test_the_check_finds_a_code_string(tmp_path):
    source = tmp_path / "example.py"
    source.write_text(
        "from core import errors\n"
        "from core.errors import Conflict as Clash\n"
        "def f():\n"
        "    from sessions_app.errors import AnswerRejected\n"
        "    raise AnswerRejected('No.', code='not_current_question')\n"
        "def g():\n"
        "    raise Clash('In use.', code='in_use')\n"
        "def h():\n"
        "    raise errors.Gone(code='gone_away')\n"
        "def i():\n"
        "    from rest_framework.exceptions import NotFound\n"
        "    raise NotFound('Not ours.', code='not_ours')\n",
        encoding="utf-8",
    )

    found = _literal_codes("example", source)

    assert [line.split(" ", 1)[1] for line in found] == [
        "AnswerRejected(code='not_current_question')",
        "Conflict(code='in_use')",
        "Gone(code='gone_away')",
    ]
