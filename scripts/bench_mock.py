"""The Sunday mock on one box: N learners start, sit and are finalized, against gunicorn.

    make bench-mock                                   # 10,000 learners, 10-minute window
    make bench-mock STACK=2                           # two instances behind HAProxy + PgBouncer
    BENCH_MOCK_LEARNERS=2000 BENCH_MOCK_WINDOW=120 make bench-mock

One run, on its own database ``examforge_bench_mock`` next to ``DATABASE_URL`` and the
Redis at ``REDIS_URL`` (the production cache path; a fresh key prefix per run):

1. ceilings, each measured by wrk for ``--ceiling-seconds``: bare Django ``/ok`` (no
   middleware, no database: ``scripts/bare_django.py`` under the same gunicorn config),
   ``/bench/hello`` (the full middleware), the cached anonymous catalogue list and product
   detail, and autosave back to back (the sittings of the storm below, seq numbers of
   their own) — req/s and CPU per request (gunicorn + PostgreSQL backends, from /proc);
2. the storm: every learner starts the 100-question mock, arrivals spread evenly over
   ``--storm`` seconds (default 60);
3. the sitting: every learner saves an answer every ``--interval`` seconds (30) for
   ``--window`` seconds (600), each save on its schedule;
4. the end: a share of learners (``--submit-share``, 30 %; a tenth of them twice at once)
   submit in the last seconds; the test's window closes, and once the grace has passed
   ``manage.py finalize_expired_sessions`` (two at once, as two schedulers would) must
   finalize every other sitting within 60 s.

The task worker (``manage.py db_worker``) runs throughout, as in production, and its CPU
is counted. The run passes with: every start and save answered 2xx, start p99 < 500 ms,
save p99 < 200 ms (wrk's latency, from each request's own send), no scheduled request
sent > 100 ms late by the client (else the client, not the server, was the limit), zero
lost acknowledged answers (the highest acknowledged seq of every answer is what the
database holds), exactly one scored result per learner, finalization ≤ 60 s, peak
resident memory ≤ 150 MB per gunicorn worker and PostgreSQL connections within the
budget. When a count fails, the search goes on at 0.7× (a storm that fails ends that
attempt at once) and the largest passing count is printed beside the bare-Django ceiling.

``STACK=2`` (``--stack 2``): two gunicorn instances behind HAProxy and PgBouncer
(transaction pooling, ``DB_PREPARED_STATEMENTS=false``: PgBouncer 1.18 cannot keep
prepared statements per client), all on loopback; one instance gets ``kill -9`` halfway
through the window. The clients retry 502/503/504 as the API guide says; the run shows
what they saw and must lose no acknowledged answer. Needs Debian's ``wrk``, ``haproxy``,
``pgbouncer``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_sessions as bs  # noqa: E402  (same folder)

MOCK_DB = "examforge_bench_mock"
bs.BENCH_DB = MOCK_DB  # whose PostgreSQL backends the CPU meter counts
LUA = ROOT / "scripts" / "bench_mock.lua"
START_P99_MS, SAVE_P99_MS, FINALIZE_SECONDS, WORKER_RSS_MB = 500.0, 200.0, 60.0, 150.0
SEARCH_FACTOR = 0.7
WRK_THREADS = 2
SATURATION_SEQ, WINDOW_SEQ = 1_000_000, 2_000_000


def parse_args() -> argparse.Namespace:
    env = bs._env_number
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--learners", type=int, default=int(env("BENCH_MOCK_LEARNERS", 10_000)))
    add("--window", type=float, default=env("BENCH_MOCK_WINDOW", 600))
    add("--storm", type=float, default=env("BENCH_MOCK_STORM", 60))
    add("--interval", type=float, default=env("BENCH_MOCK_INTERVAL", 30))
    add("--submit-share", type=float, default=env("BENCH_MOCK_SUBMIT_SHARE", 0.3))
    add("--ceiling-seconds", type=float, default=env("BENCH_MOCK_CEILING_SECONDS", 10))
    add("--connections", type=int, default=int(env("BENCH_MOCK_CONNECTIONS", 256)))
    add("--min-learners", type=int, default=int(env("BENCH_MOCK_MIN_LEARNERS", 500)))
    add("--no-search", action="store_true", default=os.environ.get("BENCH_MOCK_SEARCH") == "0")
    add("--stack", type=int, choices=(1, 2), default=int(env("STACK", 1)))
    return parser.parse_args()


# --- processes -------------------------------------------------------------------------------


def _rss_peak_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Watch:
    """Polls, every second, each gunicorn worker's peak resident memory (workers are
    recycled by max_requests: every one seen counts) and the benchmark database's
    connections."""

    servers: list
    url: str
    worker_peak_mb: float = 0.0
    connections_peak: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        with psycopg.connect(bs._with_database(self.url, "postgres"), autocommit=True) as conn:
            while not self._stop.wait(1.0):
                for server in self.servers:
                    for pid in server.workers():
                        self.worker_peak_mb = max(self.worker_peak_mb, _rss_peak_mb(pid))
                count = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [MOCK_DB]
                ).fetchone()[0]
                self.connections_peak = max(self.connections_peak, count)


class Meter:
    """CPU seconds of the web instances, the database's backends and the task worker over
    a phase; the load generator's comes from its own rusage."""

    def __init__(self, servers: list, others: list[subprocess.Popen]):
        self.servers, self.others = servers, others
        self.last: dict[int, float] = {}  # a killed instance keeps the CPU it had used

    def read(self) -> tuple[float, float, float, float]:
        for n, server in enumerate(self.servers):
            if server.process.poll() is None:
                self.last[n] = server.cpu_seconds()
        web = sum(self.last.values())
        db = sum(bs._database_backends().values())
        other = sum(bs._cpu(p.pid, children=True) for p in self.others if p.poll() is None)
        return web, db, other, time.monotonic()


@dataclass
class Phase:
    label: str
    wrk: dict
    wall: float
    web: float
    db: float
    worker: float
    wrk_cpu: float
    requests: int

    @property
    def per_request_ms(self) -> float:
        return (self.web + self.db) * 1000 / self.requests if self.requests else 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.wall if self.wall else 0.0

    def line(self) -> str:
        lat = self.wrk.get("latency_us", {})
        return (
            f"{self.label:<34} {self.requests:>8,} {self.rate:>8,.0f}/s "
            f"{self.per_request_ms:>7.2f} ms ({self.web * 1000 / max(self.requests, 1):.2f} + "
            f"{self.db * 1000 / max(self.requests, 1):.2f})  p50 {lat.get('p50', 0) / 1000:.1f} "
            f"p99 {lat.get('p99', 0) / 1000:.1f} max {lat.get('max', 0) / 1000:.0f} ms  "
            f"wrk {self.wrk_cpu / self.wall:.2f} core"
        )


def run_wrk(
    base: str,
    path: str,
    meter: Meter,
    label: str,
    args: list[str],
    *,
    seconds: float,
    connections: int,
    dir: Path,
    mode: str,
    until_done: bool = False,
    during=None,
) -> Phase:
    """wrk with the Lua script; ``until_done``: stop once every thread wrote its done
    marker (wrk has no "stop after N requests"), else after ``seconds``."""
    for marker in dir.glob(f"{mode}-*.done"):
        marker.unlink()
    command = [
        "wrk",
        f"-t{WRK_THREADS}",
        f"-c{connections}",
        f"-d{int(seconds)}s",
        "--timeout",
        "30s",
        "-s",
        str(LUA),
        base + path,
        "--",
        mode,
        str(dir),
        str(WRK_THREADS),
        *args,
    ]
    web0, db0, other0, t0 = meter.read()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if during is not None:
        during(process)
    if until_done:
        while process.poll() is None:
            if len(list(dir.glob(f"{mode}-*.done"))) >= WRK_THREADS:
                process.send_signal(signal.SIGINT)
                break
            time.sleep(0.2)
    _, status, usage = os.wait4(process.pid, 0)
    web1, db1, other1, t1 = meter.read()
    output = process.stdout.read()
    found = [line for line in output.splitlines() if line.startswith("BENCHMOCK ")]
    if not found:
        sys.exit(f"wrk ({label}) printed no summary (status {status}):\n{output[-2000:]}")
    summary = json.loads(found[-1].split(" ", 1)[1])
    requests = summary["answered"] if mode != "ceiling" else summary["requests"]
    return Phase(
        label=label,
        wrk=summary,
        wall=t1 - t0,
        web=web1 - web0,
        db=db1 - db0,
        worker=other1 - other0,
        wrk_cpu=usage.ru_utime + usage.ru_stime,
        requests=requests,
    )


def paced_connections(rate: float, cap: int) -> int:
    """Connections for an open-loop phase of ``rate`` requests/s: enough that one is free
    whenever a request is due (a request every ~2 s each), few enough that none idles past
    gunicorn's 5-second keep-alive (a load balancer's pool keeps its connections busy)."""
    return max(16, min(cap, int(rate * 2) + 1))


def ceiling(base: str, path: str, meter: Meter, label: str, seconds: float, dir: Path) -> Phase:
    """Closed loop, 64 connections, after a 2-second warm-up (every worker booted and
    warm)."""
    warm = ["wrk", "-t2", "-c64", "-d2s", base + path]
    subprocess.run(warm, capture_output=True, check=False)
    return run_wrk(
        base, path, meter, label, [], seconds=seconds, connections=64, dir=dir, mode="ceiling"
    )


# --- data ------------------------------------------------------------------------------------


def prepare_test(*, available_until):
    """The benchmark's 100-question fixed mock (bench_sessions' test, free product): one
    attempt, a 3-hour duration, its window closing at ``available_until`` — so every
    sitting ends then, as a scheduled mock's do."""
    from testengine.models import Test

    test = bs.ensure_test()
    Test.objects.filter(pk=test.pk).update(
        available_from=None, available_until=available_until, max_attempts=1
    )
    test.refresh_from_db()
    return test


def prepare_papers(test, count: int, env: dict[str, str]) -> None:
    """Top the test's pool of prepared papers up to ``count`` (docs/testengine.md,
    "Prepared papers"), as staff do before a scheduled window opens: off the clock, two
    ``prepare_papers`` processes at once. Printed, not counted in any phase."""
    from testengine.pool import fresh_count

    have = fresh_count(test.pk)
    began = time.monotonic()
    if have < count:
        command = [sys.executable, str(ROOT / "manage.py"), "prepare_papers", test.slug]
        workers = [
            subprocess.Popen(
                [*command, "--count", str(count)],
                env={**os.environ, **env},
                stdout=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        if any(worker.wait() != 0 for worker in workers):
            sys.exit("prepare_papers failed")
    print(
        f"  papers prepared before the window: {fresh_count(test.pk):,} fresh "
        f"({have:,} were left; {time.monotonic() - began:.0f} s, off the clock)"
    )


def prepare_learners(count: int) -> list:
    return bs.ensure_learners("mock", count)


def devices_for(users: list) -> list[str]:
    """One device session per learner, bulk-inserted (as ``device_login`` records it);
    returns their ids. Access tokens are minted per phase (they live 15 minutes)."""
    from django.utils import timezone

    from accounts.models import Device

    now = timezone.now()
    devices = [
        Device(
            user=u,
            login_method="password",
            user_agent="examforge-bench-mock/1",
            current_jti=f"bench-mock-{u.pk}-{now.timestamp()}",
            expires_at=now + timedelta(days=1),
        )
        for u in users
    ]
    Device.objects.bulk_create(devices, batch_size=2000)
    return [str(d.id) for d in devices]


def access_tokens(users: list, devices: list[str]) -> list[str]:
    from accounts.tokens import new_refresh_token

    return [
        str(new_refresh_token(user=u, device_id=d).access_token)
        for u, d in zip(users, devices, strict=True)
    ]


def reset(url: str) -> None:
    """Empty the sittings, devices and queued tasks of earlier runs (this database only)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "TRUNCATE sessions_app_sessionresponse, sessions_app_examsession, accounts_device, "
            "django_tasks_database_dbtaskresult CASCADE"
        )


def answer_for(kind: str, ids: list[str], seq: int):
    """The answer the Lua script sends with this seq (its answer_json), as stored."""
    n = len(ids)
    if kind in ("single", "true_false"):
        return {"choices": [int(ids[seq % n])]}
    if kind == "multiple":
        return {"choices": sorted({int(ids[seq % n]), int(ids[(seq + 1) % n])})}
    if kind == "numeric":
        return {"value": str(Decimal(seq))}
    return {"text": f"answer-{seq}"}


def write_questions(url: str, dir: Path) -> dict[str, tuple[str, list[str]]]:
    with psycopg.connect(url) as conn:
        layout = conn.execute("SELECT layout FROM sessions_app_examsession LIMIT 1").fetchone()[0]
    questions = {
        str(q["id"]): (q["type"], [str(c) for c in q["choices"]])
        for section in layout["sections"]
        for q in section["questions"]
    }
    with (dir / "questions.txt").open("w") as out:
        for qid, (kind, ids) in questions.items():
            out.write(f"{qid} {kind} {','.join(ids) or '-'}\n")
    return questions


def read_rows(dir: Path, pattern: str) -> list[list[str]]:
    rows = []
    for path in sorted(dir.glob(pattern)):
        rows += [line.split() for line in path.read_text().splitlines() if line.strip()]
    return rows


def lost_answers(url: str, dir: Path, questions: dict) -> tuple[int, int, list[str]]:
    """(answers checked, lost, examples): per learner and question, the highest
    acknowledged seq must be stored with its answer (or a higher seq whose reply was lost
    on the way: its answer is then the one the client sent for that seq)."""
    sittings = {row[0]: row[2] for row in read_rows(dir, "storm-*.txt") if row[1] in ("200", "201")}
    best: dict[tuple[str, str], int] = {}
    for idx, qid, seq, _applied in read_rows(dir, "save-*.txt"):
        key = (idx, qid)
        best[key] = max(best.get(key, 0), int(seq))
    with psycopg.connect(url) as conn:
        stored = {
            (str(session), str(qid)): (answer, seq)
            for session, qid, answer, seq in conn.execute(
                "SELECT session_id, question_id, answer, seq FROM sessions_app_sessionresponse"
            )
        }
    lost, examples = 0, []
    for (idx, qid), seq in best.items():
        answer, stored_seq = stored.get((sittings[idx], qid), (None, -1))
        kind, ids = questions[qid]
        if stored_seq >= seq and answer == answer_for(kind, ids, stored_seq):
            continue
        lost += 1
        if len(examples) < 5:
            examples.append(f"learner {idx} q{qid}: acknowledged seq {seq}, stored {stored_seq}")
    return len(best), lost, examples


def results(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT user_id), "
            "count(*) FILTER (WHERE status = 'submitted' AND score IS NOT NULL), "
            "count(*) FILTER (WHERE status = 'in_progress'), "
            "count(*) FILTER (WHERE submit_reason = 'learner'), "
            "count(*) FILTER (WHERE submit_reason = 'time_up') FROM sessions_app_examsession"
        ).fetchone()
    keys = ("sittings", "learners", "scored", "open", "by_learner", "by_clock")
    return dict(zip(keys, row, strict=True))


# --- the stack -------------------------------------------------------------------------------


@dataclass
class Stack:
    servers: list
    base: str  # what the clients talk to
    helpers: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for server in self.servers:
            bs.stop_gunicorn(server)
        for process in self.helpers:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()


def _pgbouncer(url: str, dir: Path) -> tuple[subprocess.Popen, str]:
    """PgBouncer in transaction mode in front of the benchmark database."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = bs.free_port()
    # PgBouncer refuses to run as root: as root it runs as postgres, in a folder it can read
    dir = Path(tempfile.mkdtemp(prefix="bench-mock-pgbouncer-", dir=dir.parent))
    dir.chmod(0o777)
    user = parts.username or "postgres"
    (dir / "userlist.txt").write_text(f'"{user}" ""\n')
    (dir / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"{MOCK_DB} = host={parts.hostname or '127.0.0.1'} port={parts.port or 5432} "
        f"dbname={MOCK_DB}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nauth_type = trust\n"
        f"auth_file = {dir / 'userlist.txt'}\npool_mode = transaction\n"
        "default_pool_size = 40\nmax_client_conn = 1000\nignore_startup_parameters = options\n"
        f"logfile = {dir / 'pgbouncer.log'}\nunix_socket_dir =\n"
    )
    command = ["pgbouncer", str(dir / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    log = (dir / "pgbouncer.out").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"pgbouncer exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
            break
        time.sleep(0.2)
    password = f":{parts.password}" if parts.password else ""
    return process, f"postgres://{user}{password}@127.0.0.1:{port}/{MOCK_DB}"


def _haproxy(backends: list[str], dir: Path) -> tuple[subprocess.Popen, str]:
    port = bs.free_port()
    servers = "\n".join(
        f"    server web{n} {b.removeprefix('http://')} check inter 500 fall 2 rise 2"
        for n, b in enumerate(backends)
    )
    (dir / "haproxy.cfg").write_text(
        "global\n    maxconn 4096\n"
        "defaults\n    mode http\n    timeout connect 2s\n    timeout client 60s\n"
        "    timeout server 60s\n    option http-keep-alive\n    retries 2\n"
        "    option redispatch\n"
        f"frontend mock\n    bind 127.0.0.1:{port}\n"
        "    http-request set-var(txn.rid) req.hdr(X-Request-ID)\n"
        "    http-after-response set-header X-Request-ID %[var(txn.rid)]"
        " if { var(txn.rid) -m found }\n"
        "    default_backend web\n"
        "backend web\n    balance roundrobin\n    option httpchk GET /healthz\n"
        "    http-check send hdr Host 127.0.0.1 hdr X-Forwarded-Proto https\n"
        f"{servers}\n"
    )
    log = (dir / "haproxy.out").open("wb")
    command = ["haproxy", "-f", str(dir / "haproxy.cfg")]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    time.sleep(1)
    return process, f"http://127.0.0.1:{port}"


def start_stack(env: dict[str, str], dir: Path, instances: int) -> Stack:
    web_env = dict(env)
    helpers: list[subprocess.Popen] = []
    if instances > 1:
        bouncer, bouncer_url = _pgbouncer(env["DATABASE_URL"], dir)
        helpers.append(bouncer)
        web_env |= {"DATABASE_URL": bouncer_url, "DB_PREPARED_STATEMENTS": "false"}
    servers = [bs.start_gunicorn(web_env, dir / f"gunicorn-{n}.log") for n in range(instances)]
    worker_log = (dir / "db_worker.log").open("wb")
    helpers.append(
        subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "db_worker"],
            cwd=ROOT,
            env={**os.environ, **web_env},
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
    )
    if instances == 1:
        return Stack(servers=servers, base=servers[0].base, helpers=helpers)
    balancer, base = _haproxy([s.base for s in servers], dir)
    helpers.append(balancer)
    return Stack(servers=servers, base=base, helpers=helpers)


def kill_instance(server) -> int:
    """``kill -9`` one gunicorn instance: its master and every worker at once."""
    pids = [server.process.pid, *server.workers()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.process.wait()
    return len(pids)


# --- one attempt -----------------------------------------------------------------------------


@dataclass
class Attempt:
    learners: int
    phases: dict[str, Phase] = field(default_factory=dict)
    checks: list[tuple[str, bool, str]] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def check(self, name: str, ok: bool, detail: str) -> None:
        self.checks.append((name, ok, detail))
        print(f"  {'ok  ' if ok else 'FAIL'} {name}: {detail}")

    @property
    def passed(self) -> bool:
        return all(ok for _, ok, _ in self.checks)


def _status_counts(phase: Phase) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in sorted(phase.wrk.get("statuses", {}).items()))


def attempt(count: int, args, env, url: str, stack: Stack, meter: Meter, dir: Path) -> Attempt:
    import django.db
    from django.utils import timezone

    result = Attempt(learners=count)
    print(
        f"\n== {count:,} learners: storm {args.storm:g} s, window {args.window:g} s, a save "
        f"every {args.interval:g} s =="
    )
    reset(url)
    for old in dir.glob("*-*.txt"):
        old.unlink()
    users = prepare_learners(count)
    devices = devices_for(users)
    prepare_papers(bs.ensure_test(), count, env)  # before the clock: the storm's times
    storm_start = timezone.now() + timedelta(seconds=5)
    window_close = storm_start + timedelta(seconds=args.storm + args.window + 20)
    test = prepare_test(available_until=window_close)
    tokens = access_tokens(users, devices)
    django.db.connection.close()
    with (dir / "learners.txt").open("w") as out:
        out.writelines(f"{n} {t}\n" for n, t in enumerate(tokens))

    storm = run_wrk(
        stack.base,
        "/healthz",
        meter,
        "start (storm)",
        [test.slug, str(int(args.storm * 1000))],
        seconds=args.storm + 120,
        connections=paced_connections(count / args.storm, args.connections),
        dir=dir,
        mode="storm",
        until_done=True,
    )
    result.phases["storm"] = storm
    print(storm.line())
    started = read_rows(dir, "storm-*.txt")
    ok = [row for row in started if row[1] in ("200", "201")]
    p99 = storm.wrk["latency_us"]["p99"] / 1000
    result.check(
        "every learner started",
        len(ok) == count,
        f"{len(ok):,} of {count:,} ({_status_counts(storm)})",
    )
    result.check("start p99", p99 < START_P99_MS, f"{p99:.0f} ms (goal < {START_P99_MS:.0f})")
    spread = storm.wall
    result.check(
        "starts within the storm",
        storm.wrk["late"] == 0 and spread <= args.storm + 15,
        f"{spread:.1f} s wall, {storm.wrk['late']} sent > 100 ms late "
        f"(max {storm.wrk['late_max_ms']:.0f} ms)",
    )
    if not result.passed:
        return result

    questions = write_questions(url, dir)
    sittings = {row[0]: row[2] for row in ok}
    with (dir / "sittings.txt").open("w") as out:
        out.writelines(f"{n} {tokens[n]} {sittings[str(n)]}\n" for n in range(count))
    hello = result.figures.get("hello")
    saturation = run_wrk(
        stack.base,
        "/healthz",
        meter,
        "autosave, back to back",
        ["0", str(SATURATION_SEQ)],
        seconds=args.ceiling_seconds,
        connections=64,
        dir=dir,
        mode="save",
    )
    result.phases["saturation"] = saturation
    print(saturation.line())
    del hello

    kill = {}

    def kill_halfway(process) -> None:
        if args.stack < 2:
            return

        def later() -> None:
            time.sleep(args.window / 2)
            kill["pids"] = kill_instance(stack.servers[0])
            kill["at"] = time.monotonic()
            print(f"  kill -9 of web instance 0 ({kill['pids']} processes) halfway through")

        threading.Thread(target=later, daemon=True).start()

    window = run_wrk(
        stack.base,
        "/healthz",
        meter,
        f"autosave, every {args.interval:g} s",
        [str(int(args.interval * 1000)), str(WINDOW_SEQ)],
        seconds=args.window,
        connections=paced_connections(count / args.interval, args.connections),
        dir=dir,
        mode="save",
        during=kill_halfway,
    )
    result.phases["window"] = window
    print(window.line())
    save_p99 = window.wrk["latency_us"]["p99"] / 1000
    errors = sum(v for k, v in window.wrk["statuses"].items() if not k.startswith("2"))
    errors += sum(window.wrk["errors"].values())
    result.figures["window_errors"] = dict(window.wrk["errors"], statuses=window.wrk["statuses"])
    if args.stack < 2:
        result.check(
            "saves answered 2xx",
            errors == 0,
            f"{_status_counts(window)}; socket errors {window.wrk['errors']}",
        )
    else:
        print(
            f"  what the clients saw: {_status_counts(window)}; socket errors "
            f"{window.wrk['errors']}; retried {window.wrk['retried']}"
        )
    result.check(
        "save p99", save_p99 < SAVE_P99_MS, f"{save_p99:.0f} ms (goal < {SAVE_P99_MS:.0f})"
    )
    result.check(
        "saves on schedule",
        window.wrk["late"] == 0,
        f"{window.wrk['late']} sent > 100 ms late (max {window.wrk['late_max_ms']:.0f} ms)",
    )

    # The end: a share submits (a tenth of them twice at once), the rest wait for the clock.
    submitting = list(range(0, count, max(1, round(1 / args.submit_share))))
    twice = set(submitting[::10])
    with (dir / "submits.txt").open("w") as out:
        for n in submitting:
            for _ in range(2 if n in twice else 1):
                out.write(f"{n} {tokens[n]} {sittings[str(n)]}\n")
    submits = run_wrk(
        stack.base,
        "/healthz",
        meter,
        "submit (explicit)",
        [],
        seconds=120,
        connections=64,
        dir=dir,
        mode="submit",
        until_done=True,
    )
    result.phases["submit"] = submits
    print(submits.line())
    answers = read_rows(dir, "submit-*.txt")
    bad = [row for row in answers if row[2] != "200" or row[3] != "submitted"]
    by_learner: dict[str, set] = {}
    for row in answers:
        by_learner.setdefault(row[1], set()).add((row[4], row[5]))
    result.check(
        "explicit submits",
        not bad and all(len(v) == 1 for v in by_learner.values()),
        f"{len(answers):,} answers for {len(by_learner):,} learners, {len(bad)} not 200/"
        f"submitted, {sum(len(v) > 1 for v in by_learner.values())} disagreeing twins",
    )

    wait = (window_close - timezone.now()).total_seconds() + env_grace() + 1
    if wait > 0:
        time.sleep(wait)
    _, db0, _, t0 = meter.read()
    sweeps = [
        subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "finalize_expired_sessions"],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    sweep_cpu = 0.0
    for sweep in sweeps:
        _, _, usage = os.wait4(sweep.pid, 0)
        sweep_cpu += usage.ru_utime + usage.ru_stime
    _, db1, _, t1 = meter.read()
    finalized = [s.stdout.read().strip() for s in sweeps]
    seconds = t1 - t0
    done = results(url)
    result.figures["finalize"] = {
        "seconds": seconds,
        "sweep_cpu": sweep_cpu,
        "db_cpu": db1 - db0,
        "by_clock": done["by_clock"],
    }
    rate = done["by_clock"] / seconds if seconds else 0
    print(
        f"  finalization: {'; '.join(finalized)} in {seconds:.1f} s ({rate:,.0f} sittings/s; "
        f"sweeps {sweep_cpu:.1f} s CPU, PostgreSQL {db1 - db0:.1f} s)"
    )
    result.check(
        "finalized within 60 s",
        seconds <= FINALIZE_SECONDS and done["open"] == 0,
        f"{seconds:.1f} s, {done['open']} still open",
    )
    result.check(
        "exactly one result per learner",
        done["sittings"] == count and done["learners"] == count and done["scored"] == count,
        f"{done['sittings']:,} sittings of {done['learners']:,} learners, "
        f"{done['scored']:,} scored ({done['by_learner']:,} submitted, "
        f"{done['by_clock']:,} by the clock)",
    )
    checked, lost, examples = lost_answers(url, dir, questions)
    result.check(
        "no acknowledged answer lost",
        lost == 0,
        f"{checked:,} answers checked, {lost} lost {examples}",
    )
    return result


def env_grace() -> float:
    from django.conf import settings

    return float(settings.SESSION_SAVE_GRACE_SECONDS)


def main() -> int:
    args = parse_args()
    for tool in ("wrk", *(("haproxy", "pgbouncer") if args.stack > 1 else ())):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is not installed: apt-get install {tool}")
    url = bs.prepare_database(MOCK_DB)
    env = bs.bench_environment(url)
    env["CACHE_KEY_PREFIX"] = f"bench-mock-{os.getpid()}-{int(time.time())}"
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    bs.setup_django(env)
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    bs.ensure_test()
    import django.db

    django.db.connection.close()
    print(bs.machine_line(url))
    print(f"background CPU before start: {bs.background_load():.0%} of the machine")
    conf: dict = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), conf)  # noqa: S102 - our own file
    cache = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    print(
        f"server: {args.stack} × gunicorn {conf['worker_class']} {conf['workers']} workers × "
        f"{conf['threads']} threads, {settings.SETTINGS_MODULE}, DB pool max "
        f"{os.environ.get('DB_POOL_MAX_SIZE', '8')}/worker, cache {cache}"
        + (", HAProxy + PgBouncer (transaction mode)" if args.stack > 1 else "")
    )
    print(f"client: wrk {WRK_THREADS} threads, {args.connections} connections, Lua {LUA.name}")
    dir = Path(tempfile.mkdtemp(prefix="bench-mock-"))
    print(f"files: {dir}")

    bare = bs.start_gunicorn(env, dir / "bare.log", app="bare_django:application", ready_path="/ok")
    try:
        bare_phase = ceiling(
            bare.base, "/ok", Meter([bare], []), "bare Django /ok", args.ceiling_seconds, dir
        )
    finally:
        bs.stop_gunicorn(bare)
    print(bare_phase.line())

    stack = start_stack(env, dir, args.stack)
    watch = Watch(servers=stack.servers, url=url)
    watch.start()
    meter = Meter(
        stack.servers, [p for p in stack.helpers if "db_worker" in " ".join(map(str, p.args))]
    )
    passed: Attempt | None = None
    tried: list[Attempt] = []
    try:
        base = stack.servers[0].base
        for path, label in (
            ("/bench/hello", "/bench/hello"),
            ("/api/v1/catalogue/products/", "catalogue list (cached)"),
            (f"/api/v1/catalogue/products/{bs.PRODUCT_SLUG}/", "product detail (cached)"),
        ):
            phase = ceiling(
                base, path, Meter(stack.servers[:1], []), label, args.ceiling_seconds, dir
            )
            print(phase.line())
            tried_ceiling = phase
            if label == "/bench/hello":
                hello = tried_ceiling
            elif label.startswith("catalogue"):
                catalogue = tried_ceiling
            else:
                detail = tried_ceiling
        count = args.learners
        while True:
            outcome = attempt(count, args, env, url, stack, meter, dir)
            tried.append(outcome)
            if outcome.passed or args.no_search or args.stack > 1:
                passed = outcome if outcome.passed else None
                break
            count = int(count * SEARCH_FACTOR)
            if count < args.min_learners:
                break
    finally:
        watch.stop()
        stack.stop()

    budget = args.stack * conf["workers"] * int(os.environ.get("DB_POOL_MAX_SIZE", "8")) + 6
    print("\n== summary ==")
    print(bare_phase.line())
    for phase in (hello, catalogue, detail):
        print(
            f"{phase.line()}  ({phase.per_request_ms / bare_phase.per_request_ms:.2f}× bare, "
            f"{phase.per_request_ms / hello.per_request_ms:.2f}× hello)"
        )
    last = tried[-1]
    for key in ("storm", "saturation", "window", "submit"):
        if key in last.phases:
            print(last.phases[key].line())
    if "saturation" in last.phases:
        sat = last.phases["saturation"]
        print(f"autosave back to back: {sat.rate / bare_phase.rate:.0%} of bare Django's req/s")
    print(
        f"peak resident memory per gunicorn worker: {watch.worker_peak_mb:.0f} MB "
        f"(goal ≤ {WORKER_RSS_MB:.0f}); PostgreSQL connections peak {watch.connections_peak} "
        f"(budget {budget})"
    )
    memory_ok = watch.worker_peak_mb <= WORKER_RSS_MB and watch.connections_peak <= budget
    for outcome in tried:
        verdict = "PASS" if outcome.passed else "FAIL"
        failed = [name for name, ok, _ in outcome.checks if not ok]
        print(
            f"{outcome.learners:>7,} learners: {verdict}"
            + (f" ({', '.join(failed)})" if failed else "")
        )
    if passed is not None and memory_ok:
        print(
            f"BENCH-MOCK PASS: {passed.learners:,} learners (bare Django ceiling "
            f"{bare_phase.rate:,.0f} req/s in the same run)"
        )
        return 0
    largest = passed.learners if passed else 0
    print(
        f"BENCH-MOCK FAIL: largest passing count {largest:,} (bare Django ceiling "
        f"{bare_phase.rate:,.0f} req/s in the same run)"
        + ("" if memory_ok else "; memory/connections over")
    )
    return 1


if __name__ == "__main__":
    sys.exit(main())
