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

import json
import os
import secrets
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
            "E2E_SMS_DIR": str(self.sms_dir),
            "PAYMENTS_ALLOW_SIMULATED": "true",
            "RAZORPAY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "METRICS_TOKEN": self.metrics_token,
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
        import psycopg

        self._database = f"examforge_live_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        with psycopg.connect(_with_database(server, "postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self._database}"')
        self.database_url = _with_database(server, self._database)
        env = self.environment()
        self.manage(env, "migrate", "--noinput", "-v0")
        self.manage(env, "createcachetable")
        if self.seed:
            self.manage(env, "seed_demo", "--allow-production")
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
