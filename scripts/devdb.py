"""Embedded PostgreSQL for development and tests.

``make run`` and ``make test`` call this when ``DATABASE_URL`` is unset. It starts a
PostgreSQL server from the ``pgserver`` wheel with its data in ``.pgdata/`` inside the
checkout, creates the ``examforge`` database, runs the given command with
``DATABASE_URL`` pointing at it, and stops the server again when the command ends,
Ctrl-C included. Commands sharing the server (``make run`` in one terminal, ``make test``
in another) are counted: the server stops when the last of them ends.

Usage: python scripts/devdb.py exec -- <command> [args…]
       python scripts/devdb.py url | stop
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its /tmp fallback is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")

ROOT = Path(__file__).resolve().parent.parent
PGDATA = ROOT / ".pgdata"
DB_NAME = "examforge"


USERS = ROOT / ".pgdata.users"


@contextmanager
def _users_locked():
    """The pids of live ``devdb exec`` commands, read and rewritten under a file lock."""
    with open(USERS, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        pids = {int(line) for line in handle.read().split() if line.isdigit()}
        live = {pid for pid in pids if _pid_alive(pid)}
        yield live
        handle.seek(0)
        handle.truncate()
        handle.write("".join(f"{pid}\n" for pid in sorted(live)))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _server():
    import pgserver  # imported late: only the embedded path needs it

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # cleanup_mode=None: this script decides when to stop, not pgserver's atexit hook.
    return pgserver.get_server(PGDATA, cleanup_mode=None)


def _is_running() -> bool:
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(PGDATA) if PGDATA.exists() else None
    return bool(info and info.is_running())


def _ensure_database(server) -> str:
    import psycopg

    admin_uri = server.get_uri("postgres")
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    return server.get_uri(DB_NAME)


def _stop() -> None:
    from pgserver._commands import pg_ctl

    if not _is_running():
        return
    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=PGDATA, user=user)
    print("embedded PostgreSQL stopped", file=sys.stderr)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"exec", "url", "stop"}:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "stop":
        _stop()
        return 0

    if argv[0] == "url":
        print(_ensure_database(_server()))
        return 0

    command = argv[1:]
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("devdb exec: no command given", file=sys.stderr)
        return 2
    with _users_locked() as users:
        if not _is_running():
            print(f"embedded PostgreSQL starting ({PGDATA})", file=sys.stderr)
        url = _ensure_database(_server())
        users.add(os.getpid())

    env = {**os.environ, "DATABASE_URL": url}
    # The child gets Ctrl-C from the terminal itself; we only wait for it, then stop the
    # server once it is gone. SIGINT is ignored here only after the child has started: an
    # ignored signal would be inherited across exec, and the child would ignore Ctrl-C.
    child = subprocess.Popen(command, env=env)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        returncode = child.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
        with _users_locked() as users:
            users.discard(os.getpid())
            if not users:
                _stop()
    return returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
