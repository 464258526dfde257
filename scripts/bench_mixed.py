"""Load benchmark: a mixed workload against gunicorn, and how many learners one box sustains.

The server is set up exactly as ``bench_sessions.py`` sets it
up (production ``gunicorn.conf.py``, ``config.settings.bench``, its own database
``examforge_bench_sessions``, a fresh gunicorn on a free 127.0.0.1 port), with a catalogue
of ``BENCH_MIXED_PRODUCTS`` (5,000) published products next to the 100-question test. The
workload, by requests:

* 70 % catalogue browsing — the product list (a random page, category or ordering; 40 %),
  a search (``?q=``; 25 %) and a product's detail (35 %; popular products more often);
  half of it anonymous (visitors), half with the learner's token;
* 25 % autosaves (``PUT /api/v1/sessions/{id}/responses/{q}/``);
* 5 % starts and submits: the submit of the learner's sitting, then the start of the next
  and the fetch of its paper, back to back (every learner starts one when it joins).

Phases, per server configuration:

1. ceiling — ``GET /bench/hello``, closed loop (as in bench-sessions);
2. saturation — ``BENCH_MIXED_SATURATION_USERS`` users, closed loop (no think time): the
   most the box serves of this mix, per endpoint;
3. capacity — virtual users with think time: each sends a request, then waits a uniform
   0.5–1.5 × ``BENCH_MIXED_THINK_SECONDS`` (3 s: a learner saving an answer every few
   seconds while others browse; a real learner is slower, so this is conservative). The
   user count steps up through ``BENCH_MIXED_STEPS``; at each step the new users join
   over ``BENCH_MIXED_SETTLE_SECONDS`` (not measured), then ``BENCH_MIXED_STEP_SECONDS``
   are measured. A step passes with zero errors and p99 of all its requests under
   ``BENCH_MIXED_P99_MS`` (200 ms); the stepping stops at the first failing step. The
   capacity is the largest passing step.

While a server runs, every gunicorn process's peak resident memory (``VmHWM`` in
``/proc/<pid>/status``) is sampled twice a second; the report lists it per worker.
At the end every sitting is submitted and every acknowledged answer is checked against
the database (bench-sessions' check): zero errors and zero lost answers are required
(exit status 1 otherwise).

``BENCH_MIXED_CONFIGS`` runs several server configurations back to back and compares
them: ``WORKERSxTHREADS[xPOOL]`` items, e.g. ``"3x4 5x4 5x8x8"`` (pool: DB_POOL_MAX_SIZE;
default max(8, threads)). Empty: the production defaults of gunicorn.conf.py.

    make bench-mixed
    BENCH_MIXED_STEPS=20,40 BENCH_MIXED_STEP_SECONDS=15 BENCH_CEILING_SECONDS=5 \\
        BENCH_MIXED_SATURATION_SECONDS=10 make bench-mixed        # a < 2 min check
    BENCH_MIXED_CONFIGS="3x4 5x4 3x8" make bench-mixed
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_catalogue as bc  # noqa: E402  (same folder)
import bench_sessions as bs  # noqa: E402
from bench_engine import percentile  # noqa: E402

CATALOGUE_SLUGS = r"^bench-[0-9]+-"  # bench_catalogue.load_products' slugs
LIST = "/api/v1/catalogue/products/"
SEARCH_WORDS = (
    "postgres", "django", "react", "interview", "mock test", "sql", "java", "spring",
    "python", "system design", "aptitude", "redis", "typescript", "kubernetes", "dsa",
)  # fmt: skip
ORDERINGS = ("featured", "newest", "price", "-price", "popularity")
BROWSE, SAVE, LIFECYCLE = 0.70, 0.25, 0.05
LIFECYCLE_REQUESTS = 3  # submit, start, paper
ENDPOINTS = (
    "list (anonymous)",
    "list (learner)",
    "search (anonymous)",
    "search (learner)",
    "detail (anonymous)",
    "detail (learner)",
    "save",
    "start",
    "paper",
    "submit",
)


def _env(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    return float(value) if value else default


@dataclass
class Options:
    steps: list[int]
    step_seconds: float
    settle_seconds: float
    think: float
    p99_ms: float
    saturation_users: int
    saturation_seconds: float
    ceiling_users: int
    ceiling_seconds: float
    warmup: float
    products: int
    quiet_wait: float
    configs: list[tuple[int, int, int]]


def options() -> Options:
    steps = os.environ.get("BENCH_MIXED_STEPS", "").strip() or "50,100,200,300,400,500,600,800"
    configs = []
    for item in os.environ.get("BENCH_MIXED_CONFIGS", "").replace(",", " ").split():
        parts = [int(p) for p in item.lower().split("x")]
        if len(parts) not in (2, 3):
            sys.exit(f"BENCH_MIXED_CONFIGS: {item!r} is not WORKERSxTHREADS[xPOOL]")
        configs.append((parts[0], parts[1], parts[2] if len(parts) == 3 else max(8, parts[1])))
    found = Options(
        steps=sorted({int(s) for s in steps.replace(" ", "").split(",") if s}),
        step_seconds=_env("BENCH_MIXED_STEP_SECONDS", 45),
        settle_seconds=_env("BENCH_MIXED_SETTLE_SECONDS", 10),
        think=_env("BENCH_MIXED_THINK_SECONDS", 3.0),
        p99_ms=_env("BENCH_MIXED_P99_MS", 200.0),
        saturation_users=int(_env("BENCH_MIXED_SATURATION_USERS", 100)),
        saturation_seconds=_env("BENCH_MIXED_SATURATION_SECONDS", 20),
        ceiling_users=int(_env("BENCH_LEARNERS", 100)),
        ceiling_seconds=_env("BENCH_CEILING_SECONDS", 15),
        warmup=_env("BENCH_WARMUP_SECONDS", 3),
        products=int(_env("BENCH_MIXED_PRODUCTS", bc.PRODUCTS)),
        quiet_wait=_env("BENCH_QUIET_WAIT_SECONDS", 0),
        configs=configs,
    )
    stepping = len(found.steps) * (found.settle_seconds + found.step_seconds)
    phases = found.ceiling_seconds + found.saturation_seconds + 2 * found.warmup + stepping
    if phases > 13 * 60:
        sys.exit("the phases must end within the 15-minute access-token lifetime: fewer steps")
    return found


# --- data ----------------------------------------------------------------------------------------


def ensure_catalogue(count: int) -> list[str]:
    """``count`` published products (bench_catalogue's generator), their slugs by
    popularity (the featured and first-sorted first)."""
    from django.db import transaction

    from catalogue.models import Product

    ours = Product.objects.filter(slug__regex=CATALOGUE_SLUGS)
    ready = ours.filter(is_published=True, price_from_paise__isnull=False)
    if ready.count() != count:
        with transaction.atomic():
            ours.delete()
        bc.load_products(bc.ensure_categories(), bc.ensure_tests(), count)
    return list(ready.order_by("-is_featured", "sort_order", "-published_at").values_list(
        "slug", flat=True
    ))  # fmt: skip


# --- memory --------------------------------------------------------------------------------------


class MemorySampler:
    """Peak resident memory (VmHWM) of gunicorn's master and every worker it forks."""

    def __init__(self, server: bs.Server) -> None:
        self.server = server
        self.peak: dict[int, int] = {}  # pid → kB
        self.master_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _hwm(pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def sample(self) -> None:
        self.master_peak = max(self.master_peak, self._hwm(self.server.process.pid))
        for pid in self.server.workers():
            self.peak[pid] = max(self.peak.get(pid, 0), self._hwm(pid))

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# --- the client ----------------------------------------------------------------------------------


class TimedStats(bs.Stats):
    """bench_sessions' Stats, with the moment of each error (for per-step counts)."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.error_at: list[float] = []

    def fail(self, what: str) -> None:
        super().fail(what)
        self.error_at.append(time.perf_counter())


class Recorder:
    """One TimedStats per endpoint for a phase."""

    def __init__(self) -> None:
        self.by_endpoint = {name: TimedStats(name) for name in ENDPOINTS}

    def __getitem__(self, name: str) -> TimedStats:
        return self.by_endpoint[name]

    def window(self, start: float, end: float) -> dict[str, tuple[list[float], int]]:
        """(latencies of requests sent in [start, end), errors then) per endpoint."""
        found = {}
        for name, stats in self.by_endpoint.items():
            lat = [
                ms for ms, t in zip(stats.latencies, stats.sent_at, strict=True) if start <= t < end
            ]
            found[name] = (lat, sum(1 for t in stats.error_at if start <= t < end))
        return found


class AuthClient:
    """What bench_sessions' Learner calls ``request`` on: one keep-alive connection, shared
    with the user's anonymous browsing, sending the token on the learner's requests."""

    def __init__(self, client, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def request(self, method: str, url: str, json=None):
        return await self.client.request(method, url, json=json, headers=self.headers)


@dataclass
class User:
    """A virtual user: a learner who sits the test and browses the catalogue, sometimes
    logged out (a visitor on the same connection)."""

    learner: bs.Learner
    client: Any
    auth: AuthClient
    rng: random.Random
    sittings: list[bs.Learner] = field(default_factory=list)

    async def join(self, rec: Recorder) -> bool:
        return await self.learner.start(self.auth, rec["start"], rec["paper"], bs.TEST_SLUG)

    async def browse(self, rec: Recorder, slugs: list[str]) -> None:
        rng = self.rng
        anonymous = rng.random() < 0.5
        who = "anonymous" if anonymous else "learner"
        target = self.client if anonymous else self.auth
        pick = rng.random()
        if pick < 0.40:
            params = {"page": min(1 + int(rng.expovariate(0.7)), 20)}
            if rng.random() < 0.3:
                params["ordering"] = rng.choice(ORDERINGS)
            if rng.random() < 0.3:
                params["category"] = bc.PREFIX + rng.choice(
                    [k for k, v in bc.CATEGORIES.items() if v[2]]
                )
            url = LIST + "?" + "&".join(f"{k}={v}" for k, v in params.items())
            body = await bs.timed(target, rec[f"list ({who})"], "GET", url)
            if body is not None and "results" not in body:
                rec[f"list ({who})"].fail(f"list answered {str(body)[:100]}")
        elif pick < 0.65:
            word = rng.choice(SEARCH_WORDS).replace(" ", "+")
            await bs.timed(target, rec[f"search ({who})"], "GET", f"{LIST}?q={word}")
        else:
            # Popular products are seen more: the first of the list far more often.
            slug = slugs[min(int(len(slugs) * rng.random() ** 3), len(slugs) - 1)]
            body = await bs.timed(target, rec[f"detail ({who})"], "GET", f"{LIST}{slug}/")
            if body is not None and body.get("slug") != slug:
                rec[f"detail ({who})"].fail(f"detail of {slug} answered {str(body)[:100]}")

    async def lifecycle(self, rec: Recorder) -> None:
        """Submit this sitting, start the next and fetch its paper."""
        learner = self.learner
        await learner.submit(self.auth, rec["submit"])
        if not learner.submitted:
            return
        self.sittings.append(learner)
        self.learner = bs.Learner(token=learner.token, rng=learner.rng, seq=learner.seq)
        await self.join(rec)

    async def act(self, rec: Recorder, slugs: list[str]) -> None:
        if not self.learner.questions:  # no open sitting (a failed start): start again
            await self.join(rec)
            return
        draw = self.rng.random() * (BROWSE + SAVE + LIFECYCLE / LIFECYCLE_REQUESTS)
        if draw < BROWSE:
            await self.browse(rec, slugs)
        elif draw < BROWSE + SAVE:
            await self.learner.save(self.auth, rec["save"], self.learner.pick(in_order=True))
        else:
            await self.lifecycle(rec)

    def all_sittings(self) -> list[bs.Learner]:
        return [*self.sittings, self.learner]


def make_users(tokens: list[str], base: str, seed: int) -> list[User]:
    rng = random.Random(seed)  # noqa: S311 - reproducible load, not security
    users = []
    for token in tokens:
        client = bs.new_client(base)
        own = random.Random(rng.random())  # noqa: S311
        users.append(
            User(
                learner=bs.Learner(token=token, rng=random.Random(own.random())),  # noqa: S311
                client=client,
                auth=AuthClient(client, token),
                rng=own,
            )
        )
    return users


async def close_users(users: list[User]) -> None:
    await asyncio.gather(*(u.client.aclose() for u in users))


async def finish(users: list[User]) -> TimedStats:
    """Submit every open sitting (for the lost-answer check), each on a fresh connection:
    the user's own keep-alive connection may have idled past the server's keepalive while
    the phase wound down, and a request racing the server's close of an idle connection
    fails with "Server disconnected" (browsers retry those). Submitting is idempotent, so
    one retry after a failure in transit is safe; failures still count and are printed."""
    stats = TimedStats("submit (end)")

    async def submit(user: User) -> None:
        base = str(user.client.base_url)
        client = bs.new_client(base, user.auth.headers["Authorization"].split(" ", 1)[1])
        try:
            for _ in range(2):
                await user.learner.submit(client, stats)
                if user.learner.submitted:
                    return
        finally:
            await client.aclose()

    await asyncio.gather(
        *(submit(u) for u in users if u.learner.session and not u.learner.submitted)
    )
    return stats


# --- phases --------------------------------------------------------------------------------------


async def phase_saturation(server, opts: Options, users: list[User], slugs) -> tuple:
    rec = Recorder()
    await asyncio.gather(*(u.join(rec) for u in users))
    meter = bs.CpuMeter(server)
    start = time.perf_counter()
    measure_from = start + opts.warmup
    end = measure_from + opts.saturation_seconds

    async def run(user: User) -> None:
        while time.perf_counter() < end:
            await user.act(rec, slugs)

    async def mark() -> None:
        await asyncio.sleep(opts.warmup)
        meter.start()

    await asyncio.gather(mark(), *(run(u) for u in users))
    cpu = meter.stop()
    return rec, rec.window(measure_from, end), time.perf_counter() - measure_from, cpu


@dataclass
class Step:
    users: int
    window: dict[str, tuple[list[float], int]]
    seconds: float
    cpu: dict[str, float]
    boots: int

    @property
    def latencies(self) -> list[float]:
        return [ms for lat, _ in self.window.values() for ms in lat]

    @property
    def errors(self) -> int:
        return sum(errors for _, errors in self.window.values())

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 0.99) if self.latencies else float("inf")


async def phase_capacity(server, opts: Options, users: list[User], slugs) -> tuple:
    rec = Recorder()
    stop = asyncio.Event()
    steps: list[Step] = []

    async def live(user: User, delay: float) -> None:
        await asyncio.sleep(delay)
        if not await user.join(rec):
            return
        while not stop.is_set():
            think = opts.think * user.rng.uniform(0.5, 1.5)
            try:
                await asyncio.wait_for(stop.wait(), timeout=think)
                return
            except TimeoutError:
                pass
            await user.act(rec, slugs)

    tasks = []
    active = 0
    for target in opts.steps:
        tasks += [
            asyncio.create_task(live(user, user.rng.uniform(0, opts.settle_seconds)))
            for user in users[active:target]
        ]
        active = target
        await asyncio.sleep(opts.settle_seconds)
        meter = bs.CpuMeter(server)
        meter.start()
        boots = server.worker_boots()
        start = time.perf_counter()
        await asyncio.sleep(opts.step_seconds)
        end = time.perf_counter()
        step = Step(
            users=target,
            window=rec.window(start, end),
            seconds=end - start,
            cpu=meter.stop(),
            boots=server.worker_boots() - boots,
        )
        steps.append(step)
        print(
            f"  step {target:>5} users: {len(step.latencies) / step.seconds:>6.0f} req/s, "
            f"p99 {step.p99:>7.1f} ms, {step.errors} errors, CPU busy {step.cpu['busy']:.0%}",
            flush=True,
        )
        if step.errors or step.p99 >= opts.p99_ms:
            break
    stop.set()
    await asyncio.gather(*tasks)
    return rec, steps


# --- report --------------------------------------------------------------------------------------


def table(window: dict[str, tuple[list[float], int]], seconds: float, title: str) -> list[str]:
    header = (
        f"{title:<22} {'requests':>8} {'share':>6} {'errors':>6} {'req/s':>7} {'p50 ms':>7} "
        f"{'p95 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    )
    total = sum(len(lat) for lat, _ in window.values()) or 1
    lines = [header, "-" * len(header)]
    every: list[float] = []
    for name, (lat, errors) in window.items():
        every += lat
        if not lat:
            lines.append(f"{name:<22} {0:>8} {'':>6} {errors:>6}")
            continue
        lines.append(
            f"{name:<22} {len(lat):>8,} {len(lat) / total:>6.1%} {errors:>6} "
            f"{len(lat) / seconds:>7.1f} {percentile(lat, 0.5):>7.1f} "
            f"{percentile(lat, 0.95):>7.1f} {percentile(lat, 0.99):>7.1f} {max(lat):>7.1f}"
        )
    errors = sum(e for _, e in window.values())
    if every:
        lines.append(
            f"{'all':<22} {len(every):>8,} {'':>6} {errors:>6} {len(every) / seconds:>7.1f} "
            f"{percentile(every, 0.5):>7.1f} {percentile(every, 0.95):>7.1f} "
            f"{percentile(every, 0.99):>7.1f} {max(every):>7.1f}"
        )
    return lines


def cpu_text(cpu: dict[str, float]) -> str:
    return (
        f"CPU busy {cpu['busy']:.0%} (cores: client {cpu['client']:.2f}, gunicorn "
        f"{cpu['server']:.2f}, PostgreSQL {cpu['db']:.2f}, other {cpu['other']:.2f})"
    )


@dataclass
class Outcome:
    label: str
    ceiling: float
    saturation: float
    capacity: int
    capacity_rate: float
    capacity_p99: float
    memory_mb: list[float]
    errors: int
    lost: int


def run_config(
    label: str, config: dict[str, str], opts: Options, env: dict[str, str], url: str, slugs
) -> Outcome:
    from django.db import connection

    test = bs.ensure_test()
    users_needed = max(opts.steps[-1], opts.saturation_users)
    learners = bs.ensure_learners("mixed", users_needed)
    bs.reset(test, learners)
    tokens = bs.mint_tokens(learners)
    connection.close()

    os.environ.update(config)
    server_env = {**env, **config}
    log = Path(tempfile.mkdtemp(prefix="bench-mixed-")) / "gunicorn.log"
    print(f"\n=== configuration {label} ===")
    gunicorn_conf: dict[str, Any] = {}
    exec((ROOT / "gunicorn.conf.py").read_text(), gunicorn_conf)  # noqa: S102 - our own file
    threads = gunicorn_conf["threads"]
    pool = int(os.environ.get("DB_POOL_MAX_SIZE", "8"))
    print(
        f"server: gunicorn {gunicorn_conf['worker_class']}, {gunicorn_conf['workers']} workers x "
        f"{threads} threads, DB pool max {pool} per worker"
        f"{' (< threads: threads may queue for a connection)' if pool < threads else ''}, "
        f"max_requests {gunicorn_conf['max_requests']} (+{gunicorn_conf['max_requests_jitter']}"
        f" jitter); metrics {'on' if os.environ.get('METRICS_TOKEN') else 'off'}; log {log}"
    )
    server = bs.start_gunicorn(server_env, log)
    all_users: list[User] = []
    try:
        with MemorySampler(server) as memory:
            hello = SimpleNamespace(
                learners=opts.ceiling_users,
                ceiling_seconds=opts.ceiling_seconds,
                warmup=opts.warmup,
            )
            ceiling = asyncio.run(bs.phase_ceiling(server, hello))
            print(f"phase 1 (hello ceiling): {ceiling.rate:,.0f} req/s, {cpu_text(ceiling.cpu)}")

            async def saturate():
                users = make_users(tokens[: opts.saturation_users], server.base, 1)
                all_users.extend(users)
                try:
                    return await phase_saturation(server, opts, users, slugs)
                finally:
                    await finish(users)
                    await close_users(users)

            sat_rec, sat_window, sat_seconds, sat_cpu = asyncio.run(saturate())
            sat_rate = sum(len(lat) for lat, _ in sat_window.values()) / sat_seconds
            print(f"phase 2 (mixed, saturation): {sat_rate:,.0f} req/s, {cpu_text(sat_cpu)}")

            async def capacity():
                # The saturation phase's learners among them start fresh sittings.
                users = make_users(tokens[: opts.steps[-1]], server.base, 2)
                all_users.extend(users)
                try:
                    return await phase_capacity(server, opts, users, slugs)
                finally:
                    end_stats = await finish(users)
                    await close_users(users)
                    if end_stats.errors:
                        print(f"final submits: {len(end_stats.errors)} errors, e.g.")
                        for error in end_stats.errors[:3]:
                            print(f"    {error}")

            print(
                f"phase 3 (capacity): users think {opts.think * 0.5:g}–{opts.think * 1.5:g} s "
                f"between requests; steps {opts.steps}, {opts.settle_seconds:g} s to join + "
                f"{opts.step_seconds:g} s measured each; pass: 0 errors and p99 < "
                f"{opts.p99_ms:g} ms"
            )
            cap_rec, steps = asyncio.run(capacity())
    finally:
        bs.stop_gunicorn(server)

    sittings = [s for u in all_users for s in u.all_sittings() if s.session]
    checked, lost, examples = bs.verify(url, sittings)
    passing = [s for s in steps if not s.errors and s.p99 < opts.p99_ms]
    best = passing[-1] if passing else None
    # Errors fail the run, except in the step that overloaded the box (they end the
    # stepping there, and are listed below).
    errors = len(ceiling.errors) + sum(e for _, e in sat_window.values())
    errors += sum(s.errors for s in steps[:-1])
    error_examples = [f"hello: {e}" for e in ceiling.errors[:3]]
    for phase, rec in (("saturation", sat_rec), ("capacity", cap_rec)):
        for name, stats in rec.by_endpoint.items():
            error_examples += [f"{phase}, {name}: {e}" for e in stats.errors[:3]]

    print()
    hello_p99 = percentile(ceiling.latencies, 0.99) if ceiling.latencies else 0.0
    print(f"hello ceiling: {ceiling.rate:,.0f} req/s (p99 {hello_p99:.1f} ms)")
    print()
    for line in table(sat_window, sat_seconds, f"saturation, {opts.saturation_users} users"):
        print(line)
    print(f"  = {sat_rate / ceiling.rate:.0%} of the hello ceiling; {cpu_text(sat_cpu)}")
    print()
    header = (
        f"{'users':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'errors':>6} "
        f"{'boots':>5}  {'save p99':>8}  CPU busy client gunicorn db other"
    )
    print(header)
    print("-" * len(header))
    for s in steps:
        lat = s.latencies
        save = s.window["save"][0]
        print(
            f"{s.users:>6} {len(lat) / s.seconds:>7.1f} {percentile(lat, 0.5):>7.1f} "
            f"{percentile(lat, 0.95):>7.1f} {s.p99:>7.1f} {s.errors:>6} {s.boots:>5}  "
            f"{(percentile(save, 0.99) if save else 0):>8.1f}  {s.cpu['busy']:>8.0%} "
            f"{s.cpu['client']:>6.2f} {s.cpu['server']:>8.2f} {s.cpu['db']:>4.2f} "
            f"{s.cpu['other']:>5.2f}" + ("  PASS" if s in passing else "  FAIL")
        )
    print()
    if best:
        for line in table(best.window, best.seconds, f"{best.users} users (think time)"):
            print(line)
        print()
    print("peak memory (VmHWM) per gunicorn process:")
    mb = sorted((kb / 1024 for kb in memory.peak.values()), reverse=True)
    print(
        f"  master {memory.master_peak / 1024:.0f} MB; workers: "
        + ", ".join(f"{m:.0f}" for m in mb)
        + f" MB (max {max(mb, default=0):.0f} MB, {len(mb)} seen)"
    )
    top = steps[-1] if steps else None
    if top and top.cpu["client"] > bs.CLIENT_BOUND:
        print(
            f"NOTE: the client used {top.cpu['client']:.2f} cores in the last step: on this "
            "box it competes with the server, so the capacity is a floor"
        )
    capacity_line = (
        f"CAPACITY ({label}): {best.users} concurrent learners at p99 {best.p99:.0f} ms "
        f"(< {opts.p99_ms:g} ms), {len(best.latencies) / best.seconds:.0f} req/s, 0 errors"
        if best
        else f"CAPACITY ({label}): no step passed (p99 < {opts.p99_ms:g} ms, 0 errors)"
    )
    if best and best is steps[-1]:
        capacity_line += " — the last step passed: raise BENCH_MIXED_STEPS to find the limit"
    elif steps and best:
        s = steps[-1]
        capacity_line += f"; {s.users} failed (p99 {s.p99:.0f} ms, {s.errors} errors)"
    print(capacity_line)
    print(
        f"{'PASS' if errors == 0 else 'FAIL'}: {errors} errors outside the failing step; "
        f"{'PASS' if lost == 0 else 'FAIL'}: {lost} lost answers ({checked:,} acknowledged "
        f"answers of {len(sittings)} sittings checked against the database)"
    )
    for example in examples + error_examples:
        print(f"    {example}")
    noisy = [
        name
        for name, cpu in (("saturation", sat_cpu), *((f"{s.users} users", s.cpu) for s in steps))
        if cpu.get("other", 0) > bs.NOISE
    ]
    if noisy:
        print(f"WARNING: other processes used the CPU during: {', '.join(noisy)} — not comparable")
    return Outcome(
        label=label,
        ceiling=ceiling.rate,
        saturation=sat_rate,
        capacity=best.users if best else 0,
        capacity_rate=len(best.latencies) / best.seconds if best else 0.0,
        capacity_p99=best.p99 if best else 0.0,
        memory_mb=mb,
        errors=errors,
        lost=lost,
    )


def main() -> int:
    opts = options()
    url = bs.prepare_database()
    env = bs.bench_environment(url)
    bs.setup_django(env)

    import httpx
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    bs.ensure_test()
    slugs = ensure_catalogue(opts.products)
    connection.close()

    print(bs.machine_line(url))
    background = bs.background_load()
    waited = 0.0
    while background > bs.BACKGROUND_LIMIT and waited < opts.quiet_wait:
        print(f"background CPU {background:.0%}: waiting for a quiet machine")
        time.sleep(8)
        waited += 10
        background = bs.background_load()
    print(f"background CPU before start: {background:.0%} of the machine")
    if background > bs.BACKGROUND_LIMIT:
        print("WARNING: other processes are busy; these figures are not comparable")
    print(
        f"app: {settings.SETTINGS_MODULE}, cache "
        f"{settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}, {len(slugs):,} products; "
        f"client: one asyncio process, httpx {httpx.__version__}, a keep-alive connection "
        f"per user; mix by requests: {BROWSE:.0%} browsing (list 40 %, search 25 %, detail "
        f"35 %; half anonymous), {SAVE:.0%} autosaves, {LIFECYCLE:.0%} submit + start + paper"
    )

    configs = opts.configs or [(0, 0, 0)]
    outcomes = []
    for workers, threads, pool in configs:
        if workers:
            config = {
                "WEB_CONCURRENCY": str(workers),
                "GUNICORN_THREADS": str(threads),
                "DB_POOL_MAX_SIZE": str(pool),
            }
            label = f"{workers} workers x {threads} threads, pool {pool}"
        else:
            config, label = {}, "production defaults"
        outcomes.append(run_config(label, config, opts, env, url, slugs))
        for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "DB_POOL_MAX_SIZE"):
            if name in config:
                os.environ.pop(name, None)

    if len(outcomes) > 1:
        print("\nconfigurations compared:")
        best = max(outcomes, key=lambda o: (o.capacity, o.saturation))
        for o in outcomes:
            print(
                f"  {o.label:<34} hello {o.ceiling:>5,.0f}/s  mixed {o.saturation:>5,.0f}/s "
                f"({o.saturation / o.ceiling:.0%})  capacity {o.capacity:>5} learners "
                f"({o.capacity_rate:,.0f} req/s, p99 {o.capacity_p99:.0f} ms)  worker peak "
                f"{max(o.memory_mb, default=0):.0f} MB x {len(o.memory_mb)}"
                + ("  <- best" if o is best else "")
            )
    if background > bs.BACKGROUND_LIMIT:
        print("WARNING: the machine was not quiet at the start: rerun on a quiet one")
    return 0 if all(o.errors == 0 and o.lost == 0 for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
