"""Benchmark: import 10,000 questions from CSV into the database at DATABASE_URL.

Creates 20 topics, builds a CSV in memory (single, multiple, true/false, numeric and
short-text questions, each with its own Markdown body, explanation and choices), times a
dry run and then the real import, prints rows, seconds, rows/second and queries, and
finally deletes everything it created. Run with migrations applied:

    python scripts/devdb.py exec -- .venv/bin/python scripts/bench_import.py
"""

from __future__ import annotations

import csv
import io
import os
import secrets
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from testengine.importexport import COLUMNS, join_cell, questions_import  # noqa: E402
from testengine.models import Question, Topic  # noqa: E402

ROWS = 10_000
TOPICS = 20
TYPES = ["single"] * 8 + ["multiple"] * 4 + ["true_false"] * 2 + ["numeric"] * 3 + ["text"] * 3


def build_csv(topic_slugs: list[str], run: str) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for i in range(ROWS):
        kind = TYPES[i % len(TYPES)]
        row = {
            "external_id": f"{run}-{i}",
            "topic": topic_slugs[i % len(topic_slugs)],
            "type": kind,
            "body": (
                f"Question {i}: a train covers **{i % 97 + 3} km** in `{i % 13 + 1}` minutes. "
                f"What is its speed in km/h? (variant {i})"
            ),
            "explanation": f"Speed = distance ÷ time; here *{i % 97 + 3} ÷ {i % 13 + 1}*.",
            "difficulty": ("easy", "medium", "hard")[i % 3],
            "status": ("published", "draft")[i % 2],
            "tags": join_cell(["speed", f"set-{i % 50}"]),
            "marks": "4",
            "negative_marks": "1",
        }
        if kind in ("single", "multiple"):
            row["choices"] = join_cell(f"{i * 4 + k} km/h" for k in range(4))
            row["correct"] = "2" if kind == "single" else "1|3"
        elif kind == "true_false":
            row["choices"] = "True|False"
            row["correct"] = "1"
        elif kind == "numeric":
            row["numeric_answer"] = f"{i}.5"
            row["numeric_tolerance"] = "0.01"
        else:
            row["accepted_answers"] = join_cell([f"answer {i}", f"ans {i}"])
        writer.writerow(row)
    return buffer.getvalue()


def main() -> None:
    run = f"bench-import-{secrets.token_hex(4)}"
    topics = [
        Topic.objects.create(name=f"{run} topic {n}", slug=f"{run}-topic-{n}")
        for n in range(TOPICS)
    ]
    try:
        content = build_csv([topic.slug for topic in topics], run).encode()
        print(f"file: {ROWS} rows, {len(content) / 1_000_000:.1f} MB of CSV")
        for dry_run in (True, False):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                report = questions_import(content=content, fmt="csv", dry_run=dry_run)
                seconds = time.perf_counter() - started
            label = "dry run" if dry_run else "import "
            print(
                f"{label}: {report.created} rows in {seconds:.2f} s "
                f"({report.created / seconds:.0f} rows/s), {len(queries)} queries"
            )
        saved = Question.objects.filter(topic__in=topics).count()
        print(f"saved: {saved} questions")
    finally:
        Question.objects.filter(topic__in=topics).delete()
        Topic.objects.filter(pk__in=[topic.pk for topic in topics]).delete()


if __name__ == "__main__":
    main()
