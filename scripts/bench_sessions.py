"""Load benchmark: exam-session autosave against gunicorn, with a "hello" ceiling.

Targets (issue "Scale", on the 2-core reference machine, 100 concurrent learners):
autosave throughput at saturation ≥ 40 % of the hello ceiling; autosave p99 < 100 ms at a
realistic pace; zero errors; zero lost answers. The script exits with status 1 on any
error or lost answer; a missed throughput or latency goal prints MISSED (status 0).

It starts gunicorn on a free 127.0.0.1 port with the project's ``gunicorn.conf.py``
(gthread; workers and threads as production picks them, overridable with the usual
``WEB_CONCURRENCY`` / ``GUNICORN_THREADS``) and ``config.settings.bench`` (production
settings plus ``/bench/hello``), on its own database ``examforge_bench_sessions`` on the
server ``DATABASE_URL`` points at. One asyncio process with an ``httpx`` client per
learner (one keep-alive connection each, ``X-Forwarded-Proto: https`` as a load balancer
sends) drives three phases:

1. ceiling — N clients, closed loop, ``GET /bench/hello`` (Django + middleware, no DB);
2. saturation — N learners start the 100-question test, fetch the paper, then each saves
   answers back to back (``PUT /api/v1/sessions/{id}/responses/{question}/``);
3. realistic — N other learners join over the first 30 s (``BENCH_ARRIVAL_SECONDS``: a
   cohort logging in around 10:00; the all-at-once burst is phase 2's start), start, fetch
   the paper, autosave one answer every ~3 s (±50 % jitter, on a fixed schedule) for the
   phase's 60 s, and submit. Every save of the phase counts, those during arrivals too.

Every acknowledged save is remembered (canonical answer, mark, seq); at the end every
session is submitted and each remembered answer is compared with
``sessions_app_sessionresponse``, read with plain SQL.

    .venv/bin/python scripts/devdb.py exec -- .venv/bin/python scripts/bench_sessions.py
    make bench-sessions                      # the same
    BENCH_LEARNERS=50 BENCH_REALISTIC_SECONDS=30 make bench-sessions
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_engine import _with_database, percentile  # noqa: E402  (same folder)

BENCH_DB = "examforge_bench_sessions"
TEST_SLUG = "bench-sessions-100q"
PRODUCT_SLUG = "bench-sessions-free"
TOPIC_SLUG = "bench-sessions"
EMAIL = "bench-{group}-{n:04d}@examforge.local"
QUESTIONS = 100
# 100 questions: 70 single choice, 10 multiple, 8 true/false, 6 numeric, 6 short text
TYPES = ("single",) * 70 + ("multiple",) * 10 + ("true_false",) * 8 + ("numeric",) * 6
TYPES += ("text",) * 6
CLEAR_SHARE, MARK_SHARE, REVISIT_SHARE = 0.05, 0.1, 0.2
RATIO_GOAL, P99_GOAL_MS = 0.40, 100.0
CLIENT_BOUND = 0.8  # cores: above this the single client process limits the ceiling
NOISE = 0.15  # cores used by others during a phase (column "other") above which to warn
BACKGROUND_LIMIT = 0.10  # above this share of busy CPU before the run, warn
HEADERS = {"X-Forwarded-Proto": "https", "User-Agent": "examforge-bench/1"}
TICK = os.sysconf("SC_CLK_TCK")


def _env_number(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--learners", type=int, default=int(_env_number("BENCH_LEARNERS", 100)))
    add("--ceiling-seconds", type=float, default=_env_number("BENCH_CEILING_SECONDS", 15))
    add("--saturation-seconds", type=float, default=_env_number("BENCH_SATURATION_SECONDS", 15))
    add("--realistic-seconds", type=float, default=_env_number("BENCH_REALISTIC_SECONDS", 60))
    add("--interval", type=float, default=_env_number("BENCH_SAVE_INTERVAL", 3.0))
    add("--arrival", type=float, default=_env_number("BENCH_ARRIVAL_SECONDS", 30.0))
    add("--warmup", type=float, default=_env_number("BENCH_WARMUP_SECONDS", 3))
    add(
        "--quiet-wait",
        type=float,
        default=_env_number("BENCH_QUIET_WAIT_SECONDS", 0),
        help="wait up to this long for other processes to go quiet before starting",
    )
    args = parser.parse_args()
    if args.arrival + args.realistic_seconds + args.interval * 2 > 12 * 60:
        parser.error("the realistic phase must end within the 15-minute access-token lifetime")
    return args


# --- environment, database, data -----------------------------------------------------------------


def bench_environment(url: str) -> dict[str, str]:
    """What both this process and gunicorn run with: production-like, fresh secrets."""
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.bench",
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
        "JWT_ACCESS_MINUTES": "15",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "EMAIL_URL": "smtp://127.0.0.1:1",  # never used: nothing here sends mail
        "PAYMENTS_ALLOW_SIMULATED": "true",  # nothing here pays: no Razorpay keys needed
        "SIMULATED_GATEWAY_SECRET": secrets.token_urlsafe(40),
        "RAZORPAY_WEBHOOK_SECRET": secrets.token_urlsafe(40),
        "DEBUG": "false",
    }


def prepare_database(name: str = BENCH_DB) -> str:
    """Create database ``name`` next to the configured one (if missing); return its URL."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("DATABASE_URL is not set: run through `scripts/devdb.py exec --`.")
    with psycopg.connect(_with_database(url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")
    return _with_database(url, name)


def setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DB_POOL"] = "false"  # this process: one plain connection (gunicorn: the pool)
    import django

    django.setup()


def ensure_test():
    """A published fixed test of 100 questions in two sections, in a free product."""
    from catalogue import services as catalogue_services
    from catalogue.models import Product
    from testengine import services
    from testengine.models import Question, Test, Topic

    test = Test.objects.filter(slug=TEST_SLUG, is_published=True).first()
    if test is None:
        topic, _ = Topic.objects.get_or_create(
            slug=TOPIC_SLUG, defaults={"name": "Benchmark: sessions"}
        )
        rng = random.Random(5)  # noqa: S311 - synthetic benchmark data
        questions = []
        for n, kind in enumerate(rng.sample(TYPES, len(TYPES)), 1):
            extra: dict[str, Any] = {}
            if kind in ("single", "multiple"):
                right = {0, 1} if kind == "multiple" else {0}
                choices = [(f"Option {c + 1}", c in right) for c in range(4)]
            elif kind == "true_false":
                choices = [("True", True), ("False", False)]
            else:
                choices = []
                if kind == "numeric":
                    extra["numeric_answer"] = Decimal(n)
                else:
                    extra["accepted_answers"] = ("PostgreSQL",)
            data = services.QuestionData(
                type=kind,
                topic=topic,
                body_md=f"Benchmark question {n}: which option is *right*?",
                status=Question.Status.PUBLISHED,
                choices=tuple(services.ChoiceData(body_md=t, is_correct=ok) for t, ok in choices),
                **extra,
            )
            questions.append(services.question_create(data=data))
        half = len(questions) // 2
        test = Test.objects.filter(slug=TEST_SLUG).first()
        values = {
            "title": "Benchmark: 100-question mock test",
            "slug": TEST_SLUG,
            "mode": Test.Mode.FIXED,
            "duration_seconds": 3 * 60 * 60,
        }
        sections = [
            {"title": title, "questions": [{"question": q} for q in part]}
            for title, part in (("Part A", questions[:half]), ("Part B", questions[half:]))
        ]
        if test is None:
            test = services.test_create(values=values, sections=sections)
        else:
            test = services.test_update(test=test, values=values, sections=sections)
        test = services.test_publish(test=test)
        print(f"created test {TEST_SLUG} ({len(questions)} questions)")
    product = Product.objects.filter(slug=PRODUCT_SLUG).first()
    if product is None:
        product = catalogue_services.product_create(
            values={"kind": Product.Kind.TEST_SERIES, "title": "Benchmark (free)"},
            plans=[{"name": "Free", "price_paise": 0, "is_lifetime": True}],
            tests=[{"test": test}],
        )
        product.slug = PRODUCT_SLUG
        product.save(update_fields=["slug"])
    if not product.is_published:
        catalogue_services.product_publish(product=product)
        catalogue_services.product_sync_derived(product_ids=[product.pk])
    return test


def ensure_learners(group: str, count: int) -> list:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    emails = [EMAIL.format(group=group, n=n) for n in range(count)]
    found = {u.email: u for u in User.objects.filter(email__in=emails)}
    missing = [User(email=e, full_name=f"Bench {e[:-19]}") for e in emails if e not in found]
    for user in missing:
        user.set_unusable_password()  # no hashing: tokens are minted directly
    User.objects.bulk_create(missing)
    found |= {u.email: u for u in User.objects.filter(email__in=[u.email for u in missing])}
    return [found[e] for e in emails]


def mint_tokens(users: list) -> list[str]:
    """An access token per learner, from a device session as a real login makes one."""
    from accounts.services import device_login
    from core.api.client import ClientInfo

    client = ClientInfo(ip_address="127.0.0.1", user_agent=HEADERS["User-Agent"])
    return [device_login(user=u, method="password", client=client).tokens.access for u in users]


def reset(test, users: list) -> None:
    """Drop earlier runs' sessions and device sessions of the benchmark learners."""
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.models import Device
    from sessions_app.models import ExamSession

    ExamSession.objects.filter(test=test).delete()
    Device.objects.filter(user__in=users).delete()
    OutstandingToken.objects.filter(user__in=users).delete()


def queries_per_save(test, user) -> tuple[int, list[str]]:
    """One save through the whole stack in-process, counting SQL statements."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from sessions_app import services

    session, _ = services.session_start(user=user, test_slug=test.slug)
    question = session.paper["sections"][0]["questions"][0]
    bearer = f"Bearer {mint_tokens([user])[0]}"
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    url = f"/api/v1/sessions/{session.pk}/responses/{question['id']}/"
    body = {"answer": {"choices": [question["choices"][0]["id"]]}, "seq": 1}
    client.put(url, body, content_type="application/json", HTTP_AUTHORIZATION=bearer)  # warm
    body["seq"] = 2
    with CaptureQueriesContext(connection) as captured:
        response = client.put(url, body, content_type="application/json", HTTP_AUTHORIZATION=bearer)
    if response.status_code != 200:
        sys.exit(f"in-process save answered {response.status_code}: {response.content[:300]!r}")
    services.session_submit(user=user, session_id=session.pk)
    return len(captured), [q["sql"][:90] for q in captured.captured_queries]


# --- gunicorn ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    log: Path

    def worker_boots(self) -> int:
        return self.log.read_text(errors="replace").count("Booting worker")

    def workers(self) -> list[int]:
        return [pid for pid in _pids() if _ppid(pid) == self.process.pid]

    def cpu_seconds(self) -> float:
        """The master's own and reaped children's time, plus live workers'."""
        return _cpu(self.process.pid, children=True) + sum(_cpu(p) for p in self.workers())


def start_gunicorn(
    env: dict[str, str], log: Path, *, app: str | None = None, ready_path: str = "/readyz"
) -> Server:
    """gunicorn with the project's ``gunicorn.conf.py`` on a free port, once ``ready_path``
    answers 200; ``app`` (``module:callable``, importable from the project root or
    ``scripts/``) replaces the config's ``wsgi_app``."""
    port = free_port()
    server_env = {**os.environ, **env, "PORT": str(port)}
    server_env.pop("DB_POOL", None)  # the server runs with the production default (pool)
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--config",
            str(ROOT / "gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            *(["--pythonpath", str(ROOT / "scripts"), app] if app else []),
        ],
        cwd=ROOT,
        env=server_env,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )
    server = Server(process=process, base=f"http://127.0.0.1:{port}", log=log)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(server.base + ready_path, headers=HEADERS, timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_gunicorn(server)
    sys.exit(f"gunicorn did not become ready:\n{log.read_text()[-3000:]}")


def stop_gunicorn(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


# --- CPU accounting (/proc) ----------------------------------------------------------------------


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _stat(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return raw[raw.rfind(")") + 2 :].split()


def _ppid(pid: int) -> int:
    fields = _stat(pid)
    return int(fields[1]) if fields else -1


def _cpu(pid: int, *, children: bool = False) -> float:
    fields = _stat(pid)
    if not fields:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    if children:
        ticks += int(fields[13]) + int(fields[14])  # cutime, cstime
    return ticks / TICK


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


def background_load(seconds: float = 2.0) -> float:
    """Share of the machine's CPU busy while the benchmark does nothing."""
    busy0, total0 = _machine()
    time.sleep(seconds)
    busy1, total1 = _machine()
    return (busy1 - busy0) / (total1 - total0) if total1 > total0 else 0.0


def _client_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _database_backends() -> dict[int, float]:
    """CPU seconds of the PostgreSQL backends serving the benchmark's database."""
    found = {}
    for pid in _pids():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if title.startswith(b"postgres:") and f" {BENCH_DB} ".encode() in title:
            found[pid] = _cpu(pid)
    return found


@dataclass
class CpuMeter:
    """Cores used during a phase by: this client, gunicorn, the benchmark database's
    PostgreSQL backends, and everything else (other processes, PostgreSQL's own)."""

    server: Server
    marks: tuple = ()

    def start(self) -> None:
        self.marks = (
            _machine(),
            _client_cpu(),
            self.server.cpu_seconds(),
            _database_backends(),
            time.monotonic(),
        )

    def stop(self) -> dict[str, float]:
        (busy0, total0), client0, server0, db0, t0 = self.marks
        (busy1, total1), wall = _machine(), time.monotonic() - t0
        client, server = _client_cpu() - client0, self.server.cpu_seconds() - server0
        db = sum(cpu - db0.get(pid, 0.0) for pid, cpu in _database_backends().items())
        busy = busy1 - busy0
        return {
            "busy": busy / (total1 - total0) if total1 > total0 else 0.0,
            "client": client / wall,
            "server": server / wall,
            "db": db / wall,
            "other": max(0.0, busy - client - server - db) / wall,
        }


# --- the client ----------------------------------------------------------------------------------


@dataclass
class Stats:
    label: str
    latencies: list[float] = field(default_factory=list)  # ms, successful requests
    sent_at: list[float] = field(default_factory=list)  # perf_counter at each one's start
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    last: float = 0.0  # when the last request finished (perf_counter), where recorded
    cpu: dict[str, float] = field(default_factory=dict)
    boots: int = 0

    def record(self, started: float) -> None:
        self.latencies.append((time.perf_counter() - started) * 1000)
        self.sent_at.append(started)

    def after(self, moment: float) -> list[float]:
        return [ms for ms, t in zip(self.latencies, self.sent_at, strict=True) if t >= moment]

    def fail(self, what: str) -> None:
        self.errors.append(what)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def new_client(base: str, token: str | None = None):
    import httpx

    headers = dict(HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        base_url=base,
        headers=headers,
        timeout=30,
        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
    )


async def timed(client, stats: Stats | None, method: str, url: str, body=None, expect=(200,)):
    """One request; returns the decoded JSON on an expected status, else None (an error)."""
    started = time.perf_counter()
    try:
        response = await client.request(method, url, json=body)
    except Exception as exc:
        if stats is not None:
            stats.fail(f"{method} {type(exc).__name__}: {exc}"[:200])
        return None
    if response.status_code not in expect:
        if stats is not None:
            stats.fail(f"{method} {response.status_code} {response.text[:150]}")
        return None
    if stats is not None:
        stats.record(started)
    return response.json()


def canonical(answer: dict | None):
    """What the server stores for ``answer`` (testengine.scoring.validate_answer)."""
    if answer is None:
        return None
    if "choices" in answer:
        return {"choices": sorted(answer["choices"])} if answer["choices"] else None
    if "value" in answer:
        return {"value": str(Decimal(str(answer["value"])))}
    return {"text": answer["text"]} if answer["text"].strip() else None


WORDS = ("PostgreSQL", "postgres", "MVCC", "vacuum", "B-tree", "select_related", "WAL")


@dataclass
class Learner:
    """One simulated learner: its token, session, paper and what the server acknowledged."""

    token: str
    rng: random.Random
    session: str = ""
    questions: list[dict] = field(default_factory=list)
    seq: int = 0
    next_index: int = 0
    spent: dict[int, int] = field(default_factory=dict)
    acked: dict[int, tuple[Any, bool, int]] = field(default_factory=dict)  # q → state
    unacked: dict[int, dict[int, tuple[Any, bool]]] = field(default_factory=dict)
    submitted: bool = False

    def answer_for(self, question: dict):
        rng, kind = self.rng, question["type"]
        if rng.random() < CLEAR_SHARE:
            return None
        ids = [choice["id"] for choice in question["choices"]]
        if kind == "multiple":
            return {"choices": rng.sample(ids, rng.randint(1, len(ids)))}
        if ids:
            return {"choices": [rng.choice(ids)]}
        if kind == "numeric":
            return {"value": rng.choice((rng.randint(0, 500), round(rng.uniform(-50, 50), 2)))}
        return {"text": rng.choice(WORDS)}

    def pick(self, *, in_order: bool) -> dict:
        if in_order and self.next_index < len(self.questions):
            if self.next_index == 0 or self.rng.random() >= REVISIT_SHARE:
                self.next_index += 1
                return self.questions[self.next_index - 1]
            return self.rng.choice(self.questions[: self.next_index])
        return self.rng.choice(self.questions)

    async def start(self, client, starts: Stats, papers: Stats, slug: str) -> bool:
        detail = await timed(
            client, starts, "POST", f"/api/v1/tests/{slug}/sessions/", None, (201,)
        )
        if detail is None:
            return False
        self.session = detail["id"]
        paper = await timed(client, papers, "GET", f"/api/v1/sessions/{self.session}/questions/")
        if paper is None:
            return False
        self.questions = paper["questions"]
        if len(self.questions) != QUESTIONS:
            papers.fail(f"paper has {len(self.questions)} questions, not {QUESTIONS}")
            return False
        return True

    async def save(self, client, stats: Stats | None, question: dict) -> None:
        qid = question["id"]
        answer = self.answer_for(question)
        marked = self.rng.random() < MARK_SHARE
        self.seq += 1
        self.spent[qid] = self.spent.get(qid, 0) + self.rng.randint(2_000, 60_000)
        body = {
            "answer": answer,
            "marked_for_review": marked,
            "time_spent_ms": self.spent[qid],
            "seq": self.seq,
        }
        expected = canonical(answer)
        self.unacked.setdefault(qid, {})[self.seq] = (expected, marked)
        url = f"/api/v1/sessions/{self.session}/responses/{qid}/"
        saved = await timed(client, stats, "PUT", url, body)
        if saved is None:
            return
        echo = (saved["answer"], saved["marked_for_review"], saved["seq"], saved["applied"])
        if echo != (expected, marked, self.seq, True):
            if stats is not None:
                stats.fail(f"PUT echoed {echo}, expected {(expected, marked, self.seq, True)}")
            return
        del self.unacked[qid][self.seq]
        self.acked[qid] = (expected, marked, self.seq)

    async def submit(self, client, stats: Stats | None) -> None:
        result = await timed(client, stats, "POST", f"/api/v1/sessions/{self.session}/submit/")
        if result is not None:
            if result["status"] == "submitted":
                self.submitted = True
            elif stats is not None:
                stats.fail(f"submit answered status {result['status']}")


# --- phases --------------------------------------------------------------------------------------


async def closed_loop(label, clients, one_request, seconds, warmup, server) -> Stats:
    """Every client sends its next request as soon as the previous answers; requests
    finished during the first ``warmup`` seconds are not counted."""
    stats, sink = Stats(label), Stats(label + " (warm-up)")
    meter = CpuMeter(server)
    loop_start = time.perf_counter()
    measure_from, end = loop_start + warmup, loop_start + warmup + seconds
    boots = 0

    async def run(index: int) -> None:
        while time.perf_counter() < end:
            await one_request(index, stats if time.perf_counter() >= measure_from else sink)

    async def mark_start() -> None:
        nonlocal boots
        await asyncio.sleep(warmup)
        meter.start()
        boots = server.worker_boots()

    await asyncio.gather(mark_start(), *(run(i) for i in range(len(clients))))
    stats.seconds = time.perf_counter() - measure_from
    stats.cpu = meter.stop()
    stats.boots = server.worker_boots() - boots
    stats.errors += sink.errors
    return stats


async def phase_ceiling(server: Server, args) -> Stats:
    clients = [new_client(server.base) for _ in range(args.learners)]
    try:

        async def hello(index: int, stats: Stats) -> None:
            body = await timed(clients[index], stats, "GET", "/bench/hello")
            if body is not None and body != {"ok": True}:
                stats.fail(f"hello answered {body!r}")

        return await closed_loop(
            "hello (ceiling)", clients, hello, args.ceiling_seconds, args.warmup, server
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def phase_saturation(server: Server, args, learners: list[Learner], slug: str):
    clients = [new_client(server.base, learner.token) for learner in learners]
    starts, papers = Stats("start (burst)"), Stats("paper")
    try:
        started = await asyncio.gather(
            *(lr.start(c, starts, papers, slug) for lr, c in zip(learners, clients, strict=True))
        )
        if not all(started):
            return None, starts, papers

        async def save(index: int, stats: Stats) -> None:
            learner = learners[index]
            await learner.save(clients[index], stats, learner.pick(in_order=False))

        saves = await closed_loop(
            "save (saturation)", clients, save, args.saturation_seconds, args.warmup, server
        )
        return saves, starts, papers
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))


async def phase_realistic(server: Server, args, learners: list[Learner], slug: str):
    clients = [new_client(server.base, learner.token) for learner in learners]
    saves, starts, papers = Stats("save (realistic)"), Stats("start"), Stats("paper")
    submits = Stats("submit")
    meter = CpuMeter(server)
    boots = server.worker_boots()
    t0 = time.perf_counter()
    end = t0 + args.arrival + args.realistic_seconds

    async def sit(learner: Learner, client) -> None:
        await asyncio.sleep(learner.rng.uniform(0, args.arrival))  # arrivals spread out
        if not await learner.start(client, starts, papers, slug):
            return
        due = time.perf_counter()
        while True:
            due += args.interval * learner.rng.uniform(0.5, 1.5)
            if due >= end:
                break
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            await learner.save(client, saves, learner.pick(in_order=True))
        await learner.submit(client, submits)  # when the next save would be past the end

    meter.start()
    try:
        await asyncio.gather(*(sit(lr, c) for lr, c in zip(learners, clients, strict=True)))
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    saves.seconds = time.perf_counter() - t0
    saves.cpu = meter.stop()
    finished = [t + ms / 1000 for ms, t in zip(papers.latencies, papers.sent_at, strict=True)]
    papers.last = max(finished, default=0.0)
    saves.boots = server.worker_boots() - boots
    for stats in (starts, papers, submits):
        stats.seconds = saves.seconds
    return saves, starts, papers, submits


async def submit_all(server: Server, learners: list[Learner]) -> Stats:
    stats = Stats("submit (saturation learners)")
    clients = [new_client(server.base, learner.token) for learner in learners]
    try:
        await asyncio.gather(
            *(lr.submit(c, stats) for lr, c in zip(learners, clients, strict=True) if lr.session)
        )
    finally:
        await asyncio.gather(*(c.aclose() for c in clients))
    return stats


# --- verification --------------------------------------------------------------------------------


def verify(url: str, learners: list[Learner]) -> tuple[int, int, list[str]]:
    """(answers checked, lost, examples): every acknowledged save must be what the database
    holds (or a later save of the same learner that failed in transit but was applied)."""
    sessions = [lr.session for lr in learners if lr.session]
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT session_id::text, question_id, answer, marked_for_review, seq "
            "FROM sessions_app_sessionresponse WHERE session_id = ANY(%s::uuid[])",
            [sessions],
        ).fetchall()
        statuses = dict(
            conn.execute(
                "SELECT id::text, status FROM sessions_app_examsession WHERE id = ANY(%s::uuid[])",
                [sessions],
            ).fetchall()
        )
    stored = {(session, qid): (answer, marked, seq) for session, qid, answer, marked, seq in rows}
    checked, lost, examples = 0, 0, []
    for learner in learners:
        if learner.session and statuses.get(learner.session) != "submitted":
            lost += 1
            if len(examples) < 5:
                examples.append(f"session {learner.session} is {statuses.get(learner.session)}")
        for qid, state in learner.acked.items():
            checked += 1
            row = stored.get((learner.session, qid))
            if row == state:
                continue
            late = learner.unacked.get(qid, {})
            if row is not None and row[2] > state[2] and late.get(row[2]) == row[:2]:
                continue  # a later save whose answer was lost on the way back: applied
            lost += 1
            if len(examples) < 5:
                examples.append(f"session {learner.session} q{qid}: saved {state}, stored {row}")
    return checked, lost, examples


# --- report --------------------------------------------------------------------------------------


def machine_line(url: str) -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(url) as conn:
        server = conn.execute("SHOW server_version").fetchone()[0]
        max_conn = conn.execute("SHOW max_connections").fetchone()[0]
    return (
        f"machine: {model}, {os.cpu_count()} CPUs ({len(os.sched_getaffinity(0))} usable), "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"PostgreSQL {server} (max_connections {max_conn}), "
        f"load average {os.getloadavg()[0]:.2f} at start"
    )


def row(stats: Stats, *, rate: bool = True) -> str:
    lat = stats.latencies
    if not lat:
        return f"{stats.label:<28} {0:>8} {len(stats.errors):>6}"
    cpu = stats.cpu
    cpu_text = (
        f"  {cpu['busy']:>4.0%}  {cpu['client']:.2f}   {cpu['server']:.2f}   {cpu['db']:.2f} "
        f"  {cpu['other']:.2f}"
        if cpu
        else ""
    )
    return (
        f"{stats.label:<28} {len(lat):>8,} {len(stats.errors):>6} "
        f"{(f'{stats.rate:,.0f}' if rate else '-'):>7} "
        f"{percentile(lat, 0.50):>7.1f} {percentile(lat, 0.95):>7.1f} "
        f"{percentile(lat, 0.99):>7.1f} {max(lat):>7.1f}"
        + (f" {stats.boots:>5}" if cpu else "")
        + cpu_text
    )


def main() -> int:
    args = parse_args()
    url = prepare_database()
    env = bench_environment(url)
    setup_django(env)

    import httpx
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    test = ensure_test()
    saturation_users = ensure_learners("sat", args.learners)
    realistic_users = ensure_learners("real", args.learners)
    probe = ensure_learners("probe", 1)
    reset(test, saturation_users + realistic_users + probe)
    query_count, query_list = queries_per_save(test, probe[0])
    rng = random.Random(2026)  # noqa: S311 - reproducible load, not security
    saturation = [
        Learner(token=t, rng=random.Random(rng.random()))  # noqa: S311
        for t in mint_tokens(saturation_users)
    ]
    connection.close()

    print(machine_line(url))
    background = background_load()
    waited = 0.0
    while background > BACKGROUND_LIMIT and waited < args.quiet_wait:
        print(f"background CPU {background:.0%}: waiting for a quiet machine")
        time.sleep(8)
        waited += 10
        background = background_load()
    print(f"background CPU before start: {background:.0%} of the machine")
    if background > BACKGROUND_LIMIT:
        print("WARNING: other processes are busy; these figures are not comparable")
    gunicorn_conf: dict[str, Any] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), gunicorn_conf)  # noqa: S102 - our own file
    pool = settings.DATABASES["default"]["OPTIONS"].get("pool")
    print(
        f"server: gunicorn {gunicorn_conf['worker_class']}, {gunicorn_conf['workers']} workers x "
        f"{gunicorn_conf['threads']} threads, max_requests {gunicorn_conf['max_requests']} "
        f"(+{gunicorn_conf['max_requests_jitter']} jitter), access log on; "
        f"{settings.SETTINGS_MODULE}, DB pool max {os.environ.get('DB_POOL_MAX_SIZE', '8')} "
        f"per worker{' (pool off in this process)' if not pool else ''}; cache "
        f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}"
        + (
            f"; GUNICORN_CMD_ARGS={os.environ['GUNICORN_CMD_ARGS']!r} overrides"
            if os.environ.get("GUNICORN_CMD_ARGS")
            else ""
        )
    )
    print(
        f"client: one asyncio process, httpx {httpx.__version__}, {args.learners} learners "
        f"with a keep-alive connection each; warm-up {args.warmup:g} s per closed-loop phase"
    )
    print(f"SQL per save (in-process, after warm-up): {query_count}")
    for sql in query_list:
        print(f"    {sql}")

    log = Path(tempfile.mkdtemp(prefix="bench-sessions-")) / "gunicorn.log"
    server = start_gunicorn(env, log)
    try:
        print(f"gunicorn on {server.base}, log {log}")
        ceiling = asyncio.run(phase_ceiling(server, args))
        print(f"phase 1 done: {ceiling.rate:,.0f} hello/s")
        saves, starts, papers = asyncio.run(phase_saturation(server, args, saturation, TEST_SLUG))
        if saves is None:
            print("\n".join(starts.errors[:5] + papers.errors[:5]))
            return 1
        print(f"phase 2 done: {saves.rate:,.0f} saves/s")
        realistic = [
            Learner(token=t, rng=random.Random(rng.random()))  # noqa: S311
            for t in mint_tokens(realistic_users)
        ]
        connection.close()
        real_saves, real_starts, real_papers, submits = asyncio.run(
            phase_realistic(server, args, realistic, TEST_SLUG)
        )
        print(f"phase 3 done: {len(real_saves.latencies):,} saves")
        late_submits = asyncio.run(submit_all(server, saturation))
    finally:
        stop_gunicorn(server)

    checked, lost, examples = verify(url, saturation + realistic)
    every = [ceiling, saves, starts, papers, real_saves, real_starts, real_papers, submits]
    every.append(late_submits)
    errors = sum(len(s.errors) for s in every)

    header = (
        f"{'':<28} {'requests':>8} {'errors':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} "
        f"{'p99 ms':>7} {'max ms':>7} {'boots':>5}  CPU: busy client server  db  other"
    )
    print()
    print(header)
    print("-" * len(header))
    print(row(ceiling))
    print(row(saves))
    print(row(real_saves))
    for stats in (starts, papers, real_starts, real_papers, submits, late_submits):
        print(row(stats, rate=False))
    print("-" * len(header))

    ratio = saves.rate / ceiling.rate if ceiling.rate else 0.0
    p99 = percentile(real_saves.latencies, 0.99) if real_saves.latencies else float("inf")
    saturation_p99 = percentile(saves.latencies, 0.99) if saves.latencies else float("inf")

    def verdict(ok: bool, hard: bool) -> str:
        return "PASS" if ok else ("FAIL" if hard else "MISSED")

    print(
        f"{verdict(ratio >= RATIO_GOAL, False)}: autosave throughput {saves.rate:,.0f}/s = "
        f"{ratio:.0%} of the hello ceiling {ceiling.rate:,.0f}/s (goal ≥ {RATIO_GOAL:.0%})"
    )
    print(
        f"{verdict(p99 < P99_GOAL_MS, False)}: autosave p99 {p99:.1f} ms with {args.learners} "
        f"learners joining over {args.arrival:g} s, saving every ~{args.interval:g} s "
        f"(goal < {P99_GOAL_MS:.0f} ms; "
        f"at saturation {saturation_p99:.1f} ms)"
    )
    for stats in (ceiling, saves):
        if stats.rate and stats.cpu:
            print(
                f"cost of one {stats.label.split()[0]} at saturation: gunicorn "
                f"{stats.cpu['server'] / stats.rate * 1000:.2f} ms CPU, PostgreSQL "
                f"{stats.cpu['db'] / stats.rate * 1000:.2f} ms, client "
                f"{stats.cpu['client'] / stats.rate * 1000:.2f} ms"
            )
    steady = real_saves.after(real_papers.last) if real_papers.last else []
    if steady:
        print(
            f"realistic saves once every learner had started ({len(steady):,}): p50 "
            f"{percentile(steady, 0.5):.1f} ms, p95 {percentile(steady, 0.95):.1f} ms, p99 "
            f"{percentile(steady, 0.99):.1f} ms (the rest shared the CPU with starts and papers)"
        )
    if ceiling.cpu and ceiling.cpu["client"] > CLIENT_BOUND:
        print(
            f"NOTE: the client used {ceiling.cpu['client']:.2f} cores for hello; one asyncio "
            "process tops out near one core, so the ceiling is partly client-bound"
        )
    print(f"{verdict(errors == 0, True)}: {errors} errors")
    for stats in every:
        for error in stats.errors[:3]:
            print(f"    {stats.label}: {error}")
    print(
        f"{verdict(lost == 0, True)}: {lost} lost answers ({checked:,} acknowledged answers of "
        f"{len(saturation) + len(realistic)} submitted sessions checked against the database)"
    )
    for example in examples:
        print(f"    {example}")
    noisy = [s.label for s in (ceiling, saves, real_saves) if s.cpu.get("other", 0) > NOISE]
    if background > BACKGROUND_LIMIT or noisy:
        print(
            f"WARNING: other processes used the CPU (before the run {background:.0%}; during: "
            f"{', '.join(noisy) or 'none'}): figures not comparable, run again on a quiet machine"
        )
    return 0 if errors == 0 and lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
