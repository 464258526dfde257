"""What the clock's end costs: the expiry sweep over 10,000 sittings of one mock, in-process.

When a Sunday mock's time runs out, every sitting nobody submitted closes at once, in the
background (``manage.py finalize_expired_sessions``). This script builds N expired open
sittings of the 100-question fixed mock of ``bench-sessions`` (two sections, choices
shuffled, so the papers differ but share a marking key; half the sittings with ~20
answers, half with ~100, 60 % of them right), then closes them:

1. one process running the scheduler's loop (``finalize_expired_sessions(limit=500)``
   until it finds nothing);
2. the same data rebuilt, two processes at once (two schedulers), checking every sitting
   was closed exactly once (the processes' counts add up to N, none is left open, every
   sitting has a score);
3. for comparison, the per-sitting path (``sitting_services._finalize`` in one transaction per
   sitting, as a submit closes one) over ``BENCH_FINALIZE_LEGACY`` sittings (0: skipped).

For each it prints sittings per second (wall) and CPU per sitting of the Python process
and of its PostgreSQL backend (utime + stime from ``/proc``; the server's background
processes — WAL writer, checkpointer, autovacuum — are not counted). It works in its own
database, ``examforge_bench_finalize`` (``BENCH_DATABASE`` to rename), on the server
``DATABASE_URL`` points at; that server must be on this machine for the backend's CPU
(else the column reads n/a).

    make bench-finalize
    BENCH_FINALIZE_SITTINGS=2000 BENCH_FINALIZE_LEGACY=0 make bench-finalize
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

os.environ.setdefault("BENCH_DATABASE", "examforge_bench_finalize")

import bench_sessions as bs  # noqa: E402  (same folder)

SITTINGS = int(os.environ.get("BENCH_FINALIZE_SITTINGS", "10000"))
LEGACY = int(os.environ.get("BENCH_FINALIZE_LEGACY", "300"))
PAPERS = 20  # distinct papers (seeds) the sittings are spread over
ANSWERED = (20, 100)  # about this many answers: half the sittings each
RIGHT_SHARE = 0.6
GROUP = "finalize"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used so far; None if not visible."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICKS


def backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


# --- data ------------------------------------------------------------------------------------


def prepare():
    from django.core.management import call_command

    from testengine.models import Test

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    test = bs.ensure_test()
    if not test.shuffle_choices:
        Test.objects.filter(pk=test.pk).update(shuffle_choices=True)
        test.refresh_from_db()
    users = bs.ensure_learners(GROUP, SITTINGS)
    return test, users


def _answer(question: dict, right: bool, rng: random.Random):
    kind = question["type"]
    if kind in ("single", "multiple", "true_false"):
        correct = sorted(c["id"] for c in question["choices"] if c["is_correct"])
        wrong = [c["id"] for c in question["choices"] if not c["is_correct"]]
        return {"choices": correct if right else [rng.choice(wrong)]}
    if kind == "numeric":
        value = question["numeric_answer"] if right else "-1"
        return {"value": str(value)}
    return {"text": "PostgreSQL" if right else "MySQL"}


def build(test, users) -> int:
    """Drop earlier sittings of the test; create one expired open sitting per learner (the
    papers of ``PAPERS`` seeds, in turn) and their responses. Returns the responses made."""
    from django.db import connection
    from django.utils import timezone

    from sessions_app import marking
    from sessions_app.models import ExamSession
    from testengine.paper import answer_layout, generate_paper

    ExamSession.objects.filter(test=test).delete()
    now = timezone.now()
    started, deadline = now - timedelta(hours=4), now - timedelta(hours=1)
    generated = [generate_paper(test, seed) for seed in range(1, PAPERS + 1)]
    papers = [paper.to_json() for paper in generated]
    templates = []
    for index, paper in enumerate(papers):
        templates.append(
            ExamSession.objects.create(
                user=users[index],
                test=test,
                attempt=1,
                seed=index + 1,
                started_at=started,
                deadline_at=deadline,
                section_started_at=started,
                paper=paper,
                layout=answer_layout(paper),
                marking_key=marking.marking_key(paper),
                question_count=len(generated[index].questions),
                max_score=generated[index].max_score,
            )
        )
    rest = users[PAPERS:]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO sessions_app_examsession
                (id, created_at, updated_at, user_id, test_id, attempt, seed, status,
                 started_at, deadline_at, submit_reason, extra_seconds, section_index,
                 section_started_at, paper, layout, marking_key, question_count, max_score,
                 adaptive)
            SELECT gen_random_uuid(), t.created_at, t.updated_at, v.user_id, t.test_id, 1,
                   t.seed, t.status, t.started_at, t.deadline_at, '', 0, 0,
                   t.section_started_at, t.paper, t.layout, t.marking_key, t.question_count,
                   t.max_score, t.adaptive
            FROM unnest(%s::bigint[], %s::uuid[]) AS v(user_id, template)
            JOIN sessions_app_examsession t ON t.id = v.template
            """,
            [
                [u.pk for u in rest],
                [templates[i % PAPERS].id for i in range(len(rest))],
            ],
        )
        cursor.execute(
            "SELECT id, seed FROM sessions_app_examsession WHERE test_id = %s", [test.pk]
        )
        sittings = cursor.fetchall()
    rng = random.Random(7)  # noqa: S311 - synthetic benchmark data
    made = 0
    raw = connection.connection
    with (
        raw.cursor() as cursor,
        cursor.copy(
            "COPY sessions_app_sessionresponse (session_id, question_id, answer, "
            "marked_for_review, time_spent_ms, seq, saved_at, outcome) FROM STDIN"
        ) as copy,
    ):
        for n, (session_id, seed) in enumerate(sittings):
            questions = [q for s in papers[seed - 1]["sections"] for q in s["questions"]]
            target = ANSWERED[n % 2]
            count = min(len(questions), max(1, target + rng.randint(-5, 5)))
            for seq, question in enumerate(rng.sample(questions, count), 1):
                answer = _answer(question, rng.random() < RIGHT_SHARE, rng)
                copy.write_row(
                    (
                        session_id,
                        question["id"],
                        json.dumps(answer),
                        False,
                        30_000,
                        seq,
                        started,
                        "",
                    )
                )
                made += 1
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE sessions_app_examsession")
        cursor.execute("VACUUM ANALYZE sessions_app_sessionresponse")
    return made


# --- sweeps ----------------------------------------------------------------------------------


def _figures(count: int, backend, start: tuple) -> dict[str, float]:
    """Sittings closed, wall span and the CPU of this process and its PostgreSQL backend
    since ``start`` (``(backend CPU, own CPU, wall)``, read before the run)."""
    db0, app0, wall0 = start
    wall1, app1, db1 = time.time(), cpu_of(os.getpid()), cpu_of(backend)
    return {
        "count": count,
        "start": wall0,
        "end": wall1,
        "app": app1 - app0,
        "db": (db1 - db0) if db0 is not None and db1 is not None else None,
    }


def sweep_loop() -> dict[str, float]:
    """The scheduler's loop in this process: its count, wall time and CPU."""
    from sessions_app import marking, services

    marking.markers.clear()
    backend = backend_pid()
    start = (cpu_of(backend), cpu_of(os.getpid()), time.time())
    total = 0
    while True:
        done = services.finalize_expired_sessions(limit=500)
        total += done
        if done < 500:
            break
    return _figures(total, backend, start)


def legacy_loop(limit: int) -> dict[str, float]:
    """The per-sitting path over ``limit`` sittings: one transaction each, the row claimed
    with SKIP LOCKED, closed by ``sitting_services._finalize`` (what a submit does)."""
    from django.db import transaction
    from django.utils import timezone

    from sessions_app import services
    from sessions_app.models import ExamSession
    from sessions_app.services import sittings as sitting_services

    backend = backend_pid()
    start = (cpu_of(backend), cpu_of(os.getpid()), time.time())
    cutoff = timezone.now() - services.grace()
    total = 0
    while total < limit:
        with transaction.atomic():
            session = (
                ExamSession.objects.select_for_update(skip_locked=True)
                .filter(status=ExamSession.Status.IN_PROGRESS, deadline_at__lt=cutoff)
                .order_by("deadline_at")
                .first()
            )
            if session is None:
                break
            sitting_services._finalize(
                session, at=session.deadline_at, reason=ExamSession.SubmitReason.TIME_UP
            )
        total += 1
    return _figures(total, backend, start)


def check(test, expected: int) -> None:
    from sessions_app.models import ExamSession

    sittings = ExamSession.objects.filter(test=test)
    left = sittings.filter(status=ExamSession.Status.IN_PROGRESS).count()
    unscored = sittings.filter(status=ExamSession.Status.SUBMITTED, score__isnull=True).count()
    scored = sittings.filter(status=ExamSession.Status.SUBMITTED).count()
    if left or unscored or scored != expected:
        sys.exit(f"FAILED: {left} left open, {unscored} unscored, {scored}/{expected} scored")


def row(label: str, runs: list[dict]) -> str:
    count = sum(r["count"] for r in runs)
    wall = max(r["end"] for r in runs) - min(r["start"] for r in runs)
    app = sum(r["app"] for r in runs)
    dbs = [r["db"] for r in runs]
    db = None if None in dbs else sum(dbs)
    per = lambda seconds: f"{seconds / count * 1000:>9.3f}" if count else "      n/a"  # noqa: E731
    return (
        f"{label:<30}{count:>8}{wall:>9.2f}{count / wall:>12.0f}"
        f"{per(app)}{per(db) if db is not None else '      n/a'}"
        f"{per(app + db) if db is not None else '      n/a'}"
    )


def worker(start_at: float) -> int:
    """One of the concurrent sweepers: wait for the common start, sweep, report JSON."""
    bs.setup_django(json.loads(os.environ["BENCH_FINALIZE_ENV"]))
    backend_pid()  # connect before the start
    time.sleep(max(0.0, start_at - time.time()))
    print(json.dumps(sweep_loop()))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--worker", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return worker(args.worker)

    url = bs.prepare_database(os.environ["BENCH_DATABASE"])
    env = bs.bench_environment(url)
    bs.setup_django(env)
    test, users = prepare()
    cpu = platform.processor() or platform.machine()
    print(
        f"finalize benchmark: {SITTINGS} expired sittings of {test.slug}, "
        f"{os.cpu_count()} cores, {cpu} (shared machine: figures are noisy)"
    )
    header = f"{'run':<30}{'sittings':>8}{'wall s':>9}{'sittings/s':>12}"
    header += f"{'app ms':>9}{'PG ms':>9}{'total ms':>9}  (CPU per sitting)"

    made = build(test, users)
    print(f"built {SITTINGS} sittings, {made} responses")
    print(header)
    one = sweep_loop()
    check(test, SITTINGS)
    print(row("sweep, 1 process", [one]), flush=True)

    build(test, users)
    start_at = time.time() + 3
    child_env = {**os.environ, "BENCH_FINALIZE_ENV": json.dumps(env)}
    children = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", str(start_at)],
            stdout=subprocess.PIPE,
            env=child_env,
            text=True,
        )
        for _ in range(2)
    ]
    runs = []
    for child in children:
        out, _ = child.communicate()
        if child.returncode:
            sys.exit(f"a sweeper failed (status {child.returncode})")
        runs.append(json.loads(out.strip().splitlines()[-1]))
    if sum(r["count"] for r in runs) != SITTINGS:
        sys.exit(f"FAILED: the two sweeps closed {[r['count'] for r in runs]} of {SITTINGS}")
    check(test, SITTINGS)
    print(row("sweep, 2 processes at once", runs), flush=True)

    if LEGACY:
        build(test, users)
        print(row(f"per sitting (_finalize) x{LEGACY}", [legacy_loop(LEGACY)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
