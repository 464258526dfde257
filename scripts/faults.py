"""Fault injection: PostgreSQL restarts and stops under a production-settings stack.

Starts its own embedded PostgreSQL (pgserver, data in a temporary folder; never the
machine's server), a live stack on it (``tests/live.py``: gunicorn with production
settings and ``DB_POOL`` on, and ``manage.py db_worker``), then:

1. restarts PostgreSQL with no traffic, and expects **zero failures** in the next
   ``BURST`` requests (saves through the API and ``/readyz``): the pool must not hand out
   connections the restart killed;
2. stops PostgreSQL for ``STOP_SECONDS``: ``/healthz`` must keep answering 200 within
   ``HEALTHZ_MAX_SECONDS``, and API requests must answer 503 ``database_unavailable`` with
   ``Retry-After`` within the pool timeout plus a margin;
3. starts it again: ``/readyz`` must be 200 within ``RECOVERY_MAX_SECONDS``, then zero
   failures in the next ``BURST`` requests, and every acknowledged save is in the database;
4. the task worker must still be running, have logged its reconnection, and process a
   task enqueued after the outage.

Prints its figures and exits non-zero on any failure. ``make faults``; about a minute.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from tests.live import LiveStack  # noqa: E402

BURST = 80
CONCURRENCY = 8
STOP_SECONDS = 5.0
POOL_TIMEOUT = 2.0  # the production default of DB_POOL_TIMEOUT, which the stack runs with
HEALTHZ_MAX_SECONDS = 1.0
UNAVAILABLE_MAX_SECONDS = POOL_TIMEOUT + 1.5
RECOVERY_MAX_SECONDS = 15.0
TASK_MAX_SECONDS = 20.0
EMAIL = "faults@example.com"
PASSWORD = "faults-" + uuid.uuid4().hex


class EmbeddedPostgres:
    """A pgserver PostgreSQL of this script's own, in a temporary folder."""

    def __init__(self) -> None:
        import logging

        import pgserver

        logging.getLogger("pgserver").setLevel(logging.WARNING)
        self.folder = Path(tempfile.mkdtemp(prefix="examforge-faults-"))
        self.folder.chmod(0o755)  # pgserver runs PostgreSQL as its own user under root
        self.server = pgserver.get_server(self.folder / "pgdata", cleanup_mode=None)

    def url(self) -> str:
        return self.server.get_uri("postgres")

    def _pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", *args], pgdata=self.server.pgdata, user=self.server.system_user)

    def stop(self) -> None:
        self._pg_ctl("stop")

    def start(self) -> None:
        self.server.ensure_postgres_running()

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        try:
            self.stop()
        except Exception as exc:  # already stopped
            print(f"(stopping PostgreSQL: {exc})", file=sys.stderr)
        shutil.rmtree(self.folder, ignore_errors=True)


class Probe:
    """The stack's HTTP client: a new connection per request, so requests spread over the
    gunicorn workers (and their pools) as a load balancer's would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.token = ""
        self.saved: list[str] = []
        self._lock = threading.Lock()

    def login(self) -> None:
        response = httpx.post(
            self.base + "/api/v1/auth/token/", json={"email": EMAIL, "password": PASSWORD}
        )
        response.raise_for_status()
        self.token = response.json()["access"]

    def save(self, timeout: float = 10.0) -> httpx.Response:
        slug = "faults-" + uuid.uuid4().hex[:12]
        response = httpx.post(
            self.base + "/api/v1/testengine/topics/",
            json={"name": slug, "slug": slug},
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=timeout,
        )
        if response.status_code == 201:
            with self._lock:
                self.saved.append(slug)
        return response

    def get(self, path: str, timeout: float = 10.0) -> httpx.Response:
        return httpx.get(self.base + path, timeout=timeout)


def burst(probe: Probe) -> list[str]:
    """``BURST`` requests (half saves, half /readyz), ``CONCURRENCY`` at a time; the failures."""

    def one(number: int) -> str | None:
        try:
            response = probe.save() if number % 2 else probe.get("/readyz")
        except httpx.HTTPError as exc:
            return f"{'save' if number % 2 else 'readyz'}: {type(exc).__name__}"
        if response.status_code in (200, 201):
            return None
        return f"{'save' if number % 2 else 'readyz'}: {response.status_code} {response.text[:80]}"

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        return [failure for failure in pool.map(one, range(BURST)) if failure]


def during_stop(probe: Probe) -> tuple[list[float], list[str], list[float], list[str]]:
    """While the database is stopped: /healthz every 0.2 s, and two clients saving."""
    deadline = time.monotonic() + STOP_SECONDS
    health_times: list[float] = []
    health_failures: list[str] = []
    api_times: list[float] = []
    api_failures: list[str] = []

    def healthz() -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = probe.get("/healthz", timeout=5)
                if response.status_code != 200:
                    health_failures.append(f"/healthz {response.status_code}")
            except httpx.HTTPError as exc:
                health_failures.append(f"/healthz {type(exc).__name__}")
            health_times.append(time.monotonic() - started)
            time.sleep(0.2)

    def saver() -> None:
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = probe.save(timeout=15)
            except httpx.HTTPError as exc:
                api_failures.append(f"save {type(exc).__name__}")
                continue
            api_times.append(time.monotonic() - started)
            body = (
                response.json()
                if response.headers.get("content-type") == "application/json"
                else {}
            )
            if (
                response.status_code != 503
                or body.get("code") != "database_unavailable"
                or not response.headers.get("Retry-After")
            ):
                api_failures.append(f"save {response.status_code} {response.text[:80]}")

    threads = [threading.Thread(target=target) for target in (healthz, saver, saver)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return health_times, health_failures, api_times, api_failures


def wait_ready(probe: Probe) -> float:
    started = time.monotonic()
    while time.monotonic() - started < RECOVERY_MAX_SECONDS:
        try:
            if probe.get("/readyz", timeout=5).status_code == 200:
                return time.monotonic() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return float("inf")


def main() -> int:
    started = time.monotonic()
    failures: list[str] = []
    postgres = EmbeddedPostgres()
    os.environ["DATABASE_URL"] = postgres.url()
    os.environ.pop("REDIS_URL", None)  # the database cache: throttling goes through it too
    try:
        stack = LiveStack(
            seed=False,
            # The production defaults otherwise (DB_POOL_TIMEOUT, DB_POOL_RECONNECT_TIMEOUT).
            extra_env={"DB_POOL": "true"},
        )
        with stack:
            env = stack.environment()
            stack.manage(
                env,
                "shell",
                "-c",
                "from accounts.models import User; "
                f"User.objects.create_superuser(email={EMAIL!r}, password={PASSWORD!r})",
            )
            probe = Probe(stack.url)
            probe.login()
            warm = burst(probe)  # every worker's pool holds connections now
            if warm:
                failures.append(f"before any fault: {len(warm)} failures: {warm[:3]}")

            # 1. a restart with no traffic
            postgres.restart()
            after_restart = burst(probe)
            print(f"restart: {len(after_restart)} of {BURST} requests failed just after it")
            if after_restart:
                failures.append(f"after a restart: {after_restart[:5]}")

            # 2. a stop
            postgres.stop()
            health_times, health_failures, api_times, api_failures = during_stop(probe)
            postgres.start()
            print(
                f"stop ({STOP_SECONDS:.0f} s): /healthz {len(health_times)} answers, "
                f"slowest {max(health_times):.3f} s, {len(health_failures)} failed; API "
                f"{len(api_times)} answers, median {statistics.median(api_times or [0]):.2f} s, "
                f"slowest {max(api_times or [0]):.2f} s, {len(api_failures)} not 503 "
                "database_unavailable"
            )
            if health_failures or not health_times or max(health_times) > HEALTHZ_MAX_SECONDS:
                failures.append(f"/healthz during the stop: {health_failures[:3]} {health_times}")
            if api_failures or not api_times or max(api_times) > UNAVAILABLE_MAX_SECONDS:
                failures.append(f"the API during the stop: {api_failures[:3]} {api_times}")

            # 3. back
            recovery = wait_ready(probe)
            after_stop = burst(probe)
            print(
                f"back: /readyz 200 after {recovery:.2f} s; "
                f"{len(after_stop)} of {BURST} requests failed then"
            )
            if recovery > RECOVERY_MAX_SECONDS:
                failures.append("/readyz did not recover")
            if after_stop:
                failures.append(f"after the stop: {after_stop[:5]}")
            stored = {
                slug
                for (slug,) in stack.sql(
                    "SELECT slug FROM testengine_topic WHERE slug LIKE 'faults-%%'"
                )
            }
            lost = set(probe.saved) - stored
            print(f"saves: {len(probe.saved)} acknowledged, {len(lost)} lost")
            if lost:
                failures.append(f"acknowledged saves lost: {sorted(lost)[:5]}")

            # 4. the worker
            worker = stack._processes[1]
            worker_log = (stack.log_dir / "worker.log").read_text(errors="replace")
            reconnections = worker_log.count("reconnecting in")
            if worker.poll() is not None:
                failures.append(f"db_worker exited ({worker.returncode})")
                print("worker: exited")
            else:
                task_id = stack.manage(
                    env,
                    "shell",
                    "-c",
                    "from sessions_app.tasks import update_test_item_statistics as t; "
                    "print(t.enqueue(0).id)",
                ).split()[-1]  # after the shell's own "N objects imported" line
                task_started = time.monotonic()
                status = ""
                while time.monotonic() - task_started < TASK_MAX_SECONDS:
                    rows = stack.sql(
                        "SELECT status FROM django_tasks_database_dbtaskresult WHERE id = %s",
                        [task_id],
                    )
                    status = rows[0][0] if rows else ""
                    if status == "SUCCESSFUL":
                        break
                    time.sleep(0.2)
                print(
                    f"worker: alive, {reconnections} reconnection(s) logged, a task enqueued "
                    f"after the outage is {status or 'missing'} after "
                    f"{time.monotonic() - task_started:.1f} s"
                )
                if status != "SUCCESSFUL":
                    failures.append(f"the task enqueued after the outage is {status!r}")
                if not reconnections:
                    failures.append("db_worker logged no reconnection during the stop")
            if failures:
                print(stack.logs(), file=sys.stderr)
    finally:
        postgres.destroy()
    print(f"faults: {time.monotonic() - started:.0f} s in all")
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    print("faults: OK" if not failures else f"faults: {len(failures)} check(s) failed")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
