"""Print figures on the shape of the code: how much of the HTTP layer is schema documentation,
the largest modules, and the function arguments left without a type annotation.

    .venv/bin/python scripts/code_figures.py            # the tree this script is in
    .venv/bin/python scripts/code_figures.py --top 15   # more rows

Reads the files as source (``ast``); imports nothing of the project and needs no database.

Schema documentation in an ``api/`` module is counted by line, each line once:

- the lines of every ``@extend_schema…`` / ``@extend_schema_view`` decorator (and any
  ``extend_schema…(...)`` call), and of the one-line decorators taken from a schema module
  (``@schema.register_view``);
- the lines of every ``OpenApiExample`` / ``OpenApiResponse`` / ``OpenApiParameter``
  construction;
- module-level constants used only by the lines above (examples, tag lists, prebuilt
  error responses), found to a fixed point.

An argument without an annotation is any parameter of a function or method (``*args`` and
``**kwargs`` included) with none, leaving out a method's own ``self``/``cls``.

An app's ``api/schema.py`` is documentation as a whole and counted apart, as a
"schema module"; so is ``core/api/schema.py``, the helpers every app shares.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = (
    "accounts",
    "catalogue",
    "config",
    "core",
    "learning",
    "payments",
    "programs",
    "sessions_app",
    "testengine",
)
CONSTRUCTORS = {"OpenApiExample", "OpenApiResponse", "OpenApiParameter"}
SCHEMA_MODULE_NAMES = {"schema"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Call):
        return _name(node.func)
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_schema_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    if _name(target).startswith("extend_schema"):
        return True
    # @schema.something — a decorator defined in the app's api/schema.py
    return (
        isinstance(target, ast.Attribute)
        and isinstance(target.value, ast.Name)
        and target.value.id in SCHEMA_MODULE_NAMES
    )


def _span(node: ast.expr | ast.stmt) -> set[int]:
    return set(range(node.lineno, (node.end_lineno or node.lineno) + 1))


@dataclass
class Module:
    path: Path
    lines: int
    schema: int


def schema_lines(source: str) -> tuple[int, int]:
    """(lines of the module, lines of schema documentation in it)."""
    tree = ast.parse(source)
    marked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            for decorator in node.decorator_list:
                if _is_schema_decorator(decorator):
                    marked |= _span(decorator)
                    # the "@" sits on the line before a decorator's expression
                    marked.add(decorator.lineno)
        elif isinstance(node, ast.Call) and (
            _name(node) in CONSTRUCTORS or _name(node).startswith("extend_schema")
        ):
            marked |= _span(node)

    # Module-level constants read only from documentation lines (or other such constants).
    assignments: dict[str, ast.stmt] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    assignments[target.id] = statement
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name):
            assignments[statement.target.id] = statement
    uses: dict[str, list[int]] = {name: [] for name in assignments}
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in uses:
            uses[node.id].append(node.lineno)
    exported = _exported(tree)
    documentation: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, statement in assignments.items():
            if name in documentation or name in exported or name == "__all__":
                continue
            lines = uses[name]
            if lines and all(line in marked for line in lines):
                documentation.add(name)
                marked |= _span(statement)
                changed = True
    return len(source.splitlines()), len(marked)


def _exported(tree: ast.Module) -> set[str]:
    """Names a module puts in ``__all__``: read from elsewhere, never documentation only."""
    for statement in tree.body:
        if (
            isinstance(statement, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__all__" for t in statement.targets)
            and isinstance(statement.value, ast.List | ast.Tuple)
        ):
            return {
                e.value
                for e in statement.value.elts
                if isinstance(e, ast.Constant) and isinstance(e.value, str)
            }
    return set()


def _python_files(root: Path):
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            yield path


def _line_count(path: Path) -> int:
    return len(path.read_text().splitlines())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--top", type=int, default=8, help="rows in each table")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()

    views: list[Module] = []
    schema_modules: list[Module] = []
    for path in _python_files(root):
        if "api" not in path.relative_to(root).parts:
            continue
        if path.stem in SCHEMA_MODULE_NAMES:
            lines = _line_count(path)
            schema_modules.append(Module(path, lines, lines))
            continue
        lines, schema = schema_lines(path.read_text())
        views.append(Module(path, lines, schema))

    api_total = sum(m.lines for m in views) + sum(m.lines for m in schema_modules)
    inline = sum(m.schema for m in views)
    modules = sum(m.lines for m in schema_modules)
    out = sys.stdout.write
    out("Schema documentation under */api/\n")
    out(f"  api lines, all modules:              {api_total:6d}\n")
    out(f"  inline in HTTP modules:              {inline:6d}  {_pct(inline, api_total)}\n")
    out(f"  in schema modules (api/schema.py):   {modules:6d}  {_pct(modules, api_total)}\n")
    out(
        f"  together:                            {inline + modules:6d}  "
        f"{_pct(inline + modules, api_total)}\n"
    )
    http_lines = sum(m.lines for m in views)
    out(f"  HTTP modules: {http_lines} lines, {_pct(inline, http_lines)} of them schema\n\n")

    out(f"HTTP modules by schema lines (top {args.top})\n")
    out(f"  {'module':44s} {'lines':>6s} {'schema':>7s} {'share':>6s}\n")
    for m in sorted(views, key=lambda m: (-m.schema, str(m.path)))[: args.top]:
        rel = str(m.path.relative_to(root))
        out(f"  {rel:44s} {m.lines:6d} {m.schema:7d} {_pct(m.schema, m.lines)}\n")
    out("\nSchema modules\n")
    for m in sorted(schema_modules, key=lambda m: -m.lines):
        out(f"  {m.path.relative_to(root)!s:44s} {m.lines:6d}\n")

    everything = [(path, _line_count(path)) for path in _python_files(root)]
    out(f"\nLargest modules in app code (top {args.top}; migrations excluded)\n")
    for path, lines in sorted(everything, key=lambda item: -item[1])[: args.top]:
        out(f"  {path.relative_to(root)!s:44s} {lines:6d}\n")

    bare: dict[str, int] = {}
    for path in _python_files(root):
        app = path.relative_to(root).parts[0]
        bare[app] = bare.get(app, 0) + unannotated_arguments(path.read_text())
    out(f"\nArguments without an annotation: {sum(bare.values())}\n")
    for app, count in sorted(bare.items()):
        if count:
            out(f"  {app:44s} {count:6d}\n")
    return 0


def unannotated_arguments(source: str) -> int:
    """How many parameters in ``source`` have no annotation (a method's self/cls aside)."""
    tree = ast.parse(source)
    methods = {
        id(child)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for child in node.body
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
        and not any(_name(d) == "staticmethod" for d in child.decorator_list)
    }
    count = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        spec = node.args
        params = [*spec.posonlyargs, *spec.args]
        if id(node) in methods and params and params[0].arg in {"self", "cls"}:
            params = params[1:]
        params += [*spec.kwonlyargs, *(a for a in (spec.vararg, spec.kwarg) if a)]
        count += sum(1 for param in params if param.annotation is None)
    return count


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    - "


if __name__ == "__main__":
    raise SystemExit(main())
