"""What Prometheus metrics cost per request: CPU time of an autosave, a catalogue page and
the hello view, in-process, with metrics off and on (A/B, interleaved).

A load benchmark on a shared 2-core machine cannot resolve a fraction of a millisecond;
this one can: each measurement is a child process that sets Django up with
``config.settings.bench`` on the ``examforge_bench_sessions`` database (made by
``make bench-sessions``' set-up, which this script runs itself when needed), with
``PROMETHEUS_MULTIPROC_DIR`` set as under gunicorn (``gunicorn.conf.py``), warms up, then
times N requests through ``django.test.Client`` (the whole middleware and DRF stack, no
network) with ``time.thread_time()`` — the CPU the request costs this thread (the
database's own CPU is not counted). Other processes still disturb it (caches, frequency,
a shared core), so each round keeps its lower decile — the least disturbed requests —
and the children alternate off/on ``BENCH_METRICS_ROUNDS`` times; the report gives each
variant's median over the rounds and the difference. Differences of a few tens of µs need
a quiet machine.

    make bench-metrics
    BENCH_METRICS_REQUESTS=300 BENCH_METRICS_ROUNDS=3 make bench-metrics
    .venv/bin/python scripts/bench_metrics.py --profile on   # cProfile of the saves, top 25
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bench_sessions as bs  # noqa: E402  (same folder)

TOKEN = "bench-metrics-token-0123456789abcdef0123456789"  # noqa: S105 - a local benchmark
KINDS = ("save", "catalogue", "hello")


def child(metrics: bool, requests: int, profile: bool) -> dict:
    """One measurement (runs in its own process: settings are read once)."""
    url = bs.prepare_database()
    env = bs.bench_environment(url)
    env["METRICS_TOKEN"] = TOKEN if metrics else ""
    env["METRICS_ENABLED"] = "true" if metrics else "false"
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bench-metrics-")
    bs.setup_django(env)

    from django.core.management import call_command
    from django.test import Client

    from sessions_app import services

    call_command("migrate", verbosity=0, interactive=False)
    call_command("createcachetable", verbosity=0)
    test = bs.ensure_test()
    user = bs.ensure_learners("metrics", 1)[0]
    bs.reset(test, [user])
    session, _ = services.session_start(user=user, test_slug=test.slug)
    questions = [q for s in session.paper["sections"] for q in s["questions"]]
    token = bs.mint_tokens([user])[0]
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    seq = 0

    def save() -> int:
        nonlocal seq
        seq += 1
        question = questions[seq % len(questions)]
        ids = [c["id"] for c in question["choices"]]
        answer = {"choices": [ids[seq % len(ids)]]} if ids else None
        body = {"answer": answer, "seq": seq, "time_spent_ms": 1000}
        url = f"/api/v1/sessions/{session.pk}/responses/{question['id']}/"
        return client.put(url, body, content_type="application/json", **auth).status_code

    def catalogue() -> int:
        return client.get("/api/v1/catalogue/products/", **auth).status_code

    def hello() -> int:
        return client.get("/bench/hello").status_code

    calls = {"save": save, "catalogue": catalogue, "hello": hello}
    result = {}
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    for kind, call in calls.items():
        for _ in range(30):  # warm-up: caches, first label children, mmap files
            if (status := call()) != 200:
                raise SystemExit(f"{kind} answered {status} during the warm-up")
        times = []
        for _ in range(requests):
            if profiler and kind == "save":
                profiler.enable()
            started = time.thread_time()
            status = call()
            times.append((time.thread_time() - started) * 1e6)
            if profiler and kind == "save":
                profiler.disable()
            if status != 200:
                raise SystemExit(f"{kind} answered {status}")
        times.sort()
        result[kind] = times[len(times) // 10]  # the least disturbed: see the module doc
    services.session_submit(user=user, session_id=session.pk)
    if profiler:
        import pstats

        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(25)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--child", choices=["on", "off"])
    parser.add_argument("--profile", choices=["on", "off"])
    env = os.environ.get
    parser.add_argument("--requests", type=int, default=int(env("BENCH_METRICS_REQUESTS", 400)))
    parser.add_argument("--rounds", type=int, default=int(env("BENCH_METRICS_ROUNDS", 4)))
    args = parser.parse_args()
    if args.child or args.profile:
        which = args.child or args.profile
        result = child(which == "on", args.requests, bool(args.profile))
        print(json.dumps(result))
        return 0

    runs: dict[str, list[dict]] = {"off": [], "on": []}
    for round_ in range(args.rounds):
        for variant in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", variant, "--requests", str(args.requests)],
                check=True,
                capture_output=True,
                text=True,
            )
            runs[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
            print(f"round {round_ + 1} metrics {variant}: {runs[variant][-1]}", flush=True)
    print()
    print(
        f"CPU µs per request (thread time: lower decile of {args.requests} requests, "
        f"median of {args.rounds} rounds)"
    )
    print(f"{'':<10} {'off':>8} {'on':>8} {'cost':>8}")
    for kind in KINDS:
        off = statistics.median(r[kind] for r in runs["off"])
        on = statistics.median(r[kind] for r in runs["on"])
        print(f"{kind:<10} {off:>8.0f} {on:>8.0f} {on - off:>+8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
