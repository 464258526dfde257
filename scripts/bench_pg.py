"""PostgreSQL's own ceiling for the autosave: pgbench running the statements the app sends.

``make bench-pg``. The mock's steady state is autosaves: per save, the bearer user lookup,
the sitting's lock (``FOR NO KEY UPDATE``) and the answer's upsert, in one transaction. This
takes those statements from the code itself (``accounts.authentication``,
``sessions_app.services``), so the measured text is the text in production, and runs them
with pgbench (C, its own CPU measured) against real sittings of a 100-question test:

- ``prepared``: ``-M prepared``, as the app sends them (``DB_PREPARED_STATEMENTS``, on);
- ``simple``: ``-M simple``, the statement text parsed and planned every time (the app
  behind a PgBouncer that cannot keep prepared statements: ``DB_PREPARED_STATEMENTS=false``);
- ``pick only``: the row pgbench reads to choose a sitting (``\\gset``), alone, so it can
  be taken out of the two figures above.

It prints transactions/s, PostgreSQL CPU per transaction (its backends' ``/proc`` times)
and pgbench's own CPU. Knobs: ``BENCH_PG_SITTINGS`` (1,000), ``BENCH_PG_CLIENTS`` (8),
``BENCH_PG_SECONDS`` (20).
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_sessions as bs

DB = "examforge_bench_pg"
SITTINGS = int(os.environ.get("BENCH_PG_SITTINGS", "1000"))
CLIENTS = int(os.environ.get("BENCH_PG_CLIENTS", "8"))
SECONDS = int(os.environ.get("BENCH_PG_SECONDS", "20"))


# pgbench picks a sitting and the values of one save; now() and a microsecond clock give
# the save a seq above the stored one, as a client's counter would. In simple mode pgbench
# pastes values into the text as they are, so text values come quoted.
def pick(mode: str) -> str:
    answer = "'[1]'"

    def text(expression: str) -> str:
        return f"quote_literal({expression})" if mode == "simple" else expression

    return (
        f"SELECT {text('session_id::text')} AS session_id, user_id,"
        f" {text('public_id::text')} AS public_id, qids[1 + (:q % cardinality(qids))] AS qid,"
        f" {text(answer)} AS answer, 'false' AS marked, 1500 AS spent,"
        " (extract(epoch FROM clock_timestamp()) * 1000000)::bigint AS seq,"
        f" {text('clock_timestamp()::text')} AS now"
        " FROM bench_pg_sitting WHERE i = :i \\gset"
    )


def _numbered(sql: str, names: list[str]) -> str:
    """Django's ``%s`` placeholders → pgbench's ``:name`` variables, in order."""
    parts = sql.strip().split("%s")
    if len(parts) != len(names) + 1:
        raise SystemExit(f"expected {len(names)} placeholders in {sql[:60]!r}")
    text = parts[0] + "".join(f":{name}{part}" for name, part in zip(names, parts[1:], strict=True))
    return re.sub(r"\s+", " ", text)


def script(mode: str) -> str:
    from django.contrib.auth import get_user_model

    from accounts.authentication import _user_query
    from sessions_app.services import sittings as sitting_services

    user = _numbered(_user_query(get_user_model()), ["public_id"])
    lock = _numbered(sitting_services._LOCK_FOR_SAVE, ["session_id", "user_id"])
    upsert = _numbered(
        sitting_services._UPSERT, ["session_id", "qid", "answer", "marked", "spent", "seq", "now"]
    )
    return "\n".join(
        [
            f"\\set i random(1, {SITTINGS})",
            "\\set q random(0, 99)",
            pick(mode),
            "BEGIN;",
            user + ";",
            lock + ";",
            upsert + ";",
            "COMMIT;",
            "",
        ]
    )


def prepare(url: str) -> None:
    """A 100-question test and SITTINGS open sittings of it, one per learner."""
    from django.core.management import call_command
    from django.db import connection

    from sessions_app import services
    from sessions_app.models import ExamSession

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    test = bs.ensure_test()
    users = bs.ensure_learners("pg", SITTINGS)
    have = ExamSession.objects.filter(test=test, status="in_progress").count()
    if have != SITTINGS:
        bs.reset(test, users)
        print(f"starting {SITTINGS} sittings …", flush=True)
        for user in users:
            services.session_start(user=user, test_slug=test.slug)
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_pg_sitting")
        cursor.execute(
            """
            CREATE TABLE bench_pg_sitting AS
            SELECT row_number() OVER (ORDER BY s.id) AS i, s.id AS session_id,
                   s.user_id, u.public_id,
                   ARRAY(SELECT (q ->> 'id')::int FROM jsonb_array_elements(
                         s.paper -> 'sections') sec,
                         jsonb_array_elements(sec -> 'questions') q) AS qids
            FROM sessions_app_examsession s JOIN accounts_user u ON u.id = s.user_id
            WHERE s.test_id = %s AND s.status = 'in_progress'
            """,
            [test.pk],
        )
        cursor.execute("ALTER TABLE bench_pg_sitting ADD PRIMARY KEY (i)")
        cursor.execute("ANALYZE")


def _backends() -> dict[int, float]:
    found = {}
    for pid in bs._pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres:") and f" {DB} ".encode() in title:
            found[pid] = bs._cpu(pid)
    return found


def run(url: str, name: str, text: str, mode: str) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    (folder / "save.sql").write_text(text)
    before_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine0 = bs._machine()
    before = set(_backends())
    process = subprocess.Popen(
        [
            shutil.which("pgbench") or "pgbench",
            "-n",
            "-M",
            mode,
            "-c",
            str(CLIENTS),
            "-j",
            "2",
            "-T",
            str(SECONDS),
            "-f",
            str(folder / "save.sql"),
            url,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # PostgreSQL CPU from its backends' /proc times, sampled while pgbench runs (they exit
    # with it): cores used over the sampled window, a second after the connections open.
    # Backends that were there before (this process's own connection) are not pgbench's.
    time.sleep(1.0)
    first = {p: t for p, t in _backends().items() if p not in before}
    first_at = last_at = time.monotonic()
    latest = dict(first)
    while process.poll() is None:
        time.sleep(0.25)
        sample = {p: t for p, t in _backends().items() if p in first}
        if sample:
            latest.update(sample)
            last_at = time.monotonic()
    out = process.stdout.read()
    machine1 = bs._machine()
    after_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        raise SystemExit(f"pgbench failed:\n{out}")
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", out)
    pg_cores = sum(latest[p] - first[p] for p in first) / max(1e-9, last_at - first_at)
    bench_cpu = (after_children.ru_utime + after_children.ru_stime) - (
        before_children.ru_utime + before_children.ru_stime
    )
    busy = (machine1[0] - machine0[0]) / max(1e-9, machine1[1] - machine0[1])
    return {
        "name": name,
        "tps": tps,
        "failed": int(failed.group(1)) if failed else 0,
        "pg_ms": 1000 * pg_cores / max(1.0, tps),
        "pg_cores": pg_cores,
        "pgbench_cores": bench_cpu / (SECONDS + 1),
        "machine_busy": busy,
    }


def main() -> int:
    url = bs.prepare_database(DB)
    bs.setup_django(bs.bench_environment(url))
    print(bs.machine_line(url))
    prepare(url)
    save = script("prepared")
    print("the transaction pgbench runs (the app's statements):\n" + save)
    pick_only = "\n".join(save.splitlines()[:3]) + "\n"
    results = [
        run(url, "prepared", save, "prepared"),
        run(url, "simple", script("simple"), "simple"),
        run(url, "pick only", pick_only, "prepared"),
    ]
    print(
        f"\n{CLIENTS} clients, {SECONDS} s each, {SITTINGS} sittings; CPU per transaction"
        " is PostgreSQL's backends (from /proc) over the transactions of the run"
    )
    print(f"{'run':10} {'tx/s':>8} {'failed':>6} {'PG ms/tx':>9} {'PG cores':>9} {'pgbench':>8}")
    for r in results:
        print(
            f"{r['name']:10} {r['tps']:8.0f} {r['failed']:6d} {r['pg_ms']:9.3f}"
            f" {r['pg_cores']:9.2f} {r['pgbench_cores']:8.2f}"
            f"   (machine busy {r['machine_busy']:.0%})"
        )
    pick = results[2]["pg_ms"]
    for r in results[:2]:
        print(
            f"{r['name']}: a save's statements alone ≈ {r['pg_ms'] - pick:.3f} ms of PostgreSQL CPU"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
