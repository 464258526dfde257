"""Print (or write into a document) a Mermaid erDiagram of Examforge's models.

    .venv/bin/python scripts/models_diagram.py                 # print the diagram
    .venv/bin/python scripts/models_diagram.py docs/architecture.md
        # replace what lies between the markers in that file:
        #   <!-- models-diagram:start -->  …  <!-- models-diagram:end -->

Reads django.apps.apps.get_models() for our apps only (not Django's or third parties'):
each model with its primary key, foreign keys, unique and key fields (money, status,
times), and one relationship line per ForeignKey / OneToOneField / ManyToManyField between
two of our models. Needs no database (`make models-diagram`).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django  # noqa: E402

django.setup()

from django.apps import apps  # noqa: E402
from django.db import models  # noqa: E402

OUR_APPS = (
    "accounts",
    "testengine",
    "catalogue",
    "sessions_app",
    "payments",
    "programs",
    "learning",
    "core",
)
START, END = "<!-- models-diagram:start -->", "<!-- models-diagram:end -->"
# Fields worth a line besides keys: what identifies a row or drives the domain.
KEY_NAMES = {"slug", "code", "email", "status", "kind", "mode", "type", "state", "title", "name"}
KEY_SUFFIXES = ("_paise", "_at")
SKIP_NAMES = {"created_at", "updated_at"}  # on nearly every model (core's base): noise
MAX_PLAIN_FIELDS = 6


def _type(field: models.Field) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", field.get_internal_type().replace("Field", "")) or "field"


def _entity(model: type[models.Model]) -> str:
    return f"{model._meta.app_label}_{model.__name__}"


def _is_ours(model: type[models.Model]) -> bool:
    return model._meta.app_label in OUR_APPS


def _attributes(model: type[models.Model]) -> list[str]:
    lines, plain = [], 0
    for field in model._meta.concrete_fields:
        if field.primary_key and field.is_relation:
            lines.append(f"{_type(field.target_field)} {field.attname} PK, FK")
        elif field.primary_key:
            lines.append(f"{_type(field)} {field.name} PK")
        elif field.is_relation:
            lines.append(f"{_type(field.target_field)} {field.attname} FK")
        elif field.unique:
            lines.append(f"{_type(field)} {field.name} UK")
        elif field.name in SKIP_NAMES:
            continue
        elif plain < MAX_PLAIN_FIELDS and (
            field.name in KEY_NAMES or field.name.endswith(KEY_SUFFIXES)
        ):
            lines.append(f"{_type(field)} {field.name}")
            plain += 1
    return lines


def _relations(model: type[models.Model]) -> list[str]:
    lines = []
    for field in model._meta.get_fields(include_hidden=False):
        if not field.concrete and not field.many_to_many:
            continue
        if not field.is_relation or field.auto_created or field.related_model is None:
            continue
        target = field.related_model
        if not _is_ours(target):
            continue
        if field.one_to_one:
            shape = "|o--o|" if field.null else "||--o|"
        elif field.many_to_many:
            shape = "}o--o{"
        else:
            shape = "|o--o{" if field.null else "||--o{"
        lines.append(f'    {_entity(target)} {shape} {_entity(model)} : "{field.name}"')
    return lines


def diagram() -> str:
    ours = sorted(
        (m for m in apps.get_models() if _is_ours(m)),
        key=lambda m: (OUR_APPS.index(m._meta.app_label), m.__name__),
    )
    out = ["```mermaid", "erDiagram"]
    for model in ours:
        out.append(f"    {_entity(model)} {{")
        out.extend(f"        {line}" for line in _attributes(model))
        out.append("    }")
    for model in ours:
        out.extend(_relations(model))
    out.append("```")
    return "\n".join(out) + "\n"


def main(argv: list[str]) -> int:
    text = diagram()
    if not argv:
        sys.stdout.write(text)
        return 0
    target = Path(argv[0])
    doc = target.read_text(encoding="utf-8")
    if START not in doc or END not in doc:
        sys.stderr.write(f"{target}: markers {START} / {END} not found\n")
        return 1
    head, rest = doc.split(START, 1)
    _, tail = rest.split(END, 1)
    target.write_text(f"{head}{START}\n{text}{END}{tail}", encoding="utf-8")
    sys.stderr.write(f"{target}: models diagram updated\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
