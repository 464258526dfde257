"""A live Examforge stack for end-to-end journeys, API fuzzing and browser tests.

``LiveStack`` creates a database of its own on the PostgreSQL server ``DATABASE_URL``
names, migrates it, loads the demo (``seed_demo``), and starts what production runs:
gunicorn with ``gunicorn.conf.py`` (2 gthread workers) and the task worker
(``manage.py db_worker``), both with ``config.settings.e2e`` (production settings over
plain HTTP on 127.0.0.1, fresh random secrets, mail and text messages written to files).
On exit it stops both and drops the database.

Tests use it through the ``live`` fixture (``tests/e2e/conftest.py``); ``make fuzz`` and
anything else that needs a running app use the command line:

    python tests/live.py -- <command> [args…]      # LIVE_URL etc. in the command's env
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"

WEBHOOK_SECRET = "e2e-webhook-secret-" + "x" * 24  # the simulated gateway signs with it
METRICS_TOKEN_LENGTH = 40


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


# Per checkout (other worktrees on the machine have theirs), outside it (never committed).
STATIC_CACHE = (
    Path(tempfile.gettempdir())
    / f"examforge-live-static-{os.getuid()}-{hashlib.sha256(bytes(ROOT)).hexdigest()[:8]}"
)
TEMPLATE_LOCK = 0x6578_616D  # pg_advisory_lock key: "exam"
_FINGERPRINTED = ("*.py", "requirements.txt", "demo_data/*.json")


def _fingerprint(seed: bool) -> str:
    """A hash of the project's Python code (apps, migrations, settings), the demo data files
    and the requirements: what decides the content of a migrated, seeded database."""
    digest = hashlib.sha256(b"seed" if seed else b"bare")
    files = sorted(
        path
        for pattern in _FINGERPRINTED
        for path in ROOT.rglob(pattern)
        if not {".venv", "tests", ".pgdata", "node_modules", "contract"}
        & set(path.relative_to(ROOT).parts)
    )
    for path in files:
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _static_fingerprint() -> str:
    """What decides the collected static files: the installed packages and the settings."""
    digest = hashlib.sha256()
    for path in sorted([*ROOT.glob("requirements*.txt"), *ROOT.glob("config/settings/*.py")]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveStack:
    """gunicorn + task worker on a fresh, migrated, seeded database. Use as a context manager."""

    workers: int = 2
    seed: bool = True
    extra_env: dict[str, str] = field(default_factory=dict)

    url: str = ""
    database_url: str = ""
    mail_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="examforge-mail-")))
    sms_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="examforge-sms-")))
    log_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="examforge-live-")))
    static_root: Path = field(default_factory=lambda: STATIC_CACHE / _static_fingerprint())
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(30))
    _processes: list[subprocess.Popen] = field(default_factory=list)
    _database: str = ""

    # --- environment ---------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """What gunicorn, the worker and management commands run with."""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.e2e",
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": secrets.token_urlsafe(50),
            "JWT_SIGNING_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": "http://127.0.0.1,http://localhost",
            "EMAIL_URL": "smtp://127.0.0.1:1",  # replaced by file delivery in config.settings.e2e
            "E2E_MAIL_DIR": str(self.mail_dir),
            "E2E_STATIC_ROOT": str(self.static_root),
            "E2E_SMS_DIR": str(self.sms_dir),
            "PAYMENTS_ALLOW_SIMULATED": "true",
            "SIMULATED_GATEWAY_SECRET": secrets.token_urlsafe(40),
            "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "METRICS_TOKEN": self.metrics_token,
            # With REDIS_URL (CI's production path), stacks running side by side (one per
            # xdist worker) share the Redis: each gets its own keys, or one stack reads the
            # other's cached question pools under the same bank version.
            "CACHE_KEY_PREFIX": f"examforge-{self._database or 'live'}",
            "WEB_CONCURRENCY": str(self.workers),
            "DEBUG": "false",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("PYTEST_XDIST_WORKER", "PYTEST_CURRENT_TEST", "DB_POOL"):
            env.pop(name, None)
        env.update(self.extra_env)
        return env

    # --- lifecycle -----------------------------------------------------------------------------

    def __enter__(self) -> LiveStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        server = os.environ.get("DATABASE_URL")
        if not server:
            raise RuntimeError("DATABASE_URL is not set (run through make, or scripts/devdb.py)")

        self._database = f"examforge_live_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.database_url = _with_database(server, self._database)
        env = self.environment()
        self._create_database(server, env)
        self._collect_static(env)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._spawn(
            "gunicorn",
            [
                str(VENV_BIN / "gunicorn"),
                "--config",
                str(ROOT / "gunicorn.conf.py"),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            {**env, "PORT": str(port)},
        )
        self._spawn(
            "worker",
            [str(VENV_BIN / "python"), "manage.py", "db_worker", "--no-reload", "--interval=0.2"],
            env,
        )
        self._wait_ready()

    def _collect_static(self, env: dict[str, str]) -> None:
        """The manifest storage needs ``collectstatic`` (as a release runs it) or every page
        using ``{% static %}`` — the admin, Swagger UI — answers 500. Collected once per
        version of the code into a shared folder (under a file lock, then renamed into
        place), which stacks only read."""
        if (self.static_root / "staticfiles.json").exists():
            return
        self.static_root.parent.mkdir(parents=True, exist_ok=True)
        with (self.static_root.parent / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if (self.static_root / "staticfiles.json").exists():
                return
            building = Path(tempfile.mkdtemp(dir=self.static_root.parent, prefix=".build-"))
            try:
                self.manage(
                    {**env, "E2E_STATIC_ROOT": str(building)}, "collectstatic", "--noinput", "-v0"
                )
                for old in self.static_root.parent.iterdir():
                    if not old.name.startswith("."):
                        shutil.rmtree(old, ignore_errors=True)
                building.rename(self.static_root)
            finally:
                shutil.rmtree(building, ignore_errors=True)

    def _create_database(self, server: str, env: dict[str, str]) -> None:
        """The stack's database: a copy of a migrated (and seeded) template database,
        built once per version of the code.

        Migrating and seeding cost ~10 s of CPU (much more on a busy machine) and every
        stack (one per xdist worker, and per ``tests/live.py`` run) needs the same result,
        so it is built once under a server-wide advisory lock, named after a fingerprint of
        the code, and each stack is a ``CREATE DATABASE … TEMPLATE`` copy (under a second).
        Any change to the project's Python code or requirements makes a new one (and drops
        the old ones); ``LIVE_FRESH_DATABASE=1`` skips the template altogether.
        """
        import psycopg

        name = f"examforge_live_tpl_{_fingerprint(self.seed)}"
        admin = _with_database(server, "postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", [TEMPLATE_LOCK])
            try:
                found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
                if os.environ.get("LIVE_FRESH_DATABASE") == "1" or found.fetchone() is None:
                    self._build(conn, server, env, name)
                # Under the lock too: a template is never dropped while it is copied.
                conn.execute(f'CREATE DATABASE "{self._database}" TEMPLATE "{name}"')
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", [TEMPLATE_LOCK])

    def _build(self, conn, server: str, env: dict[str, str], name: str) -> None:
        stale = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'examforge\\_live\\_tpl\\_%%'"
        ).fetchall()
        for (old,) in stale:
            conn.execute(f'DROP DATABASE IF EXISTS "{old}"')
        building = f"{name}_build"
        conn.execute(f'CREATE DATABASE "{building}"')
        build_env = {**env, "DATABASE_URL": _with_database(server, building)}
        try:
            self.manage(build_env, "migrate", "--noinput", "-v0")
            self.manage(build_env, "createcachetable")
            if self.seed:
                self.manage(build_env, "seed_demo", "--allow-production")
        except BaseException:
            conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            raise
        conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')

    def manage(self, env: dict[str, str], *args: str) -> str:
        result = subprocess.run(
            [str(VENV_BIN / "python"), "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        self._processes.append(
            subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )

    def _wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for process in self._processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{process.args[0]} exited:\n{self.logs()}")
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        raise RuntimeError(f"the live stack did not become ready:\n{self.logs()}")

    def logs(self, tail: int = 4000) -> str:
        return "\n".join(
            f"--- {path.name}\n{path.read_text(errors='replace')[-tail:]}"
            for path in sorted(self.log_dir.glob("*.log"))
        )

    def stop(self) -> None:
        for process in self._processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._processes.clear()
        server = os.environ.get("DATABASE_URL")
        if self._database and server:
            import psycopg

            with psycopg.connect(_with_database(server, "postgres"), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self._database}" WITH (FORCE)')
            self._database = ""

    @classmethod
    def from_environment(cls) -> LiveStack | None:
        """The stack a ``python tests/live.py -- …`` run started (``LIVE_URL`` etc. set), or
        None. Lets ``tests/e2e`` run against a stack that is already up, e.g. while writing
        a journey: ``python tests/live.py -- sleep infinity`` in one shell, then
        ``LIVE_URL=… LIVE_DATABASE_URL=… LIVE_MAIL_DIR=… pytest tests/e2e`` in another."""
        url = os.environ.get("LIVE_URL")
        if not url:
            return None
        return cls(
            url=url,
            database_url=os.environ["LIVE_DATABASE_URL"],
            mail_dir=Path(os.environ["LIVE_MAIL_DIR"]),
            sms_dir=Path(os.environ.get("LIVE_SMS_DIR") or tempfile.mkdtemp()),
            log_dir=Path(os.environ.get("LIVE_LOG_DIR") or tempfile.mkdtemp()),
            metrics_token=os.environ.get("LIVE_METRICS_TOKEN", ""),
        )

    # --- what tests read -----------------------------------------------------------------------

    def mails(self) -> list[str]:
        """Every message delivered so far, oldest first (the file backend's .log files)."""
        return [
            path.read_text(errors="replace")
            for path in sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns)
        ]

    def texts(self) -> list[str]:
        """Every text message sent so far, oldest first (``accounts.sms.FileSmsBackend``)."""
        return [path.read_text() for path in sorted(self.sms_dir.glob("*.sms"))]

    def sql(self, query: str, params: list | tuple = ()) -> list[tuple]:
        """Read the stack's database directly (assertions only; tests act through HTTP)."""
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(query, params).fetchall()

    def describe(self) -> dict[str, str]:
        return {
            "LIVE_URL": self.url,
            "LIVE_DATABASE_URL": self.database_url,
            "LIVE_MAIL_DIR": str(self.mail_dir),
            "LIVE_SMS_DIR": str(self.sms_dir),
            "LIVE_LOG_DIR": str(self.log_dir),
            "LIVE_METRICS_TOKEN": self.metrics_token,
            "LIVE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }


def main(argv: list[str]) -> int:
    """``python tests/live.py -- command …``: run a command against a live stack."""
    if "--" not in argv:
        print(__doc__)
        return 2
    command = argv[argv.index("--") + 1 :]
    with LiveStack() as stack:
        print(json.dumps(stack.describe(), indent=2), flush=True)
        result = subprocess.run(command, env={**os.environ, **stack.describe()}, check=False)
        if result.returncode:
            print(stack.logs(), file=sys.stderr)
        return result.returncode


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main(sys.argv[1:]))
