"""Gunicorn settings for production (`gunicorn -c gunicorn.conf.py`). Every knob is an env var.

Sizing against PostgreSQL: with DB_POOL on (the default) every worker *process* keeps its
own psycopg pool of up to DB_POOL_MAX_SIZE connections (default 8). A gthread worker serves
GUNICORN_THREADS requests at once and each thread holds at most one connection, so keep
DB_POOL_MAX_SIZE >= GUNICORN_THREADS or threads queue for a connection (DB_POOL_TIMEOUT).
Connections the server must allow, roughly:
    instances x WEB_CONCURRENCY x DB_POOL_MAX_SIZE  (+ migrate, cron jobs, admin sessions)
e.g. 3 instances x 5 workers x 8 = 120, already past PostgreSQL's default max_connections
(100): lower WEB_CONCURRENCY or DB_POOL_MAX_SIZE, raise max_connections, or add PgBouncer.
"""

import glob
import os
import shutil
import tempfile


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cpus() -> int:
    # The CPUs this container may run on (cpuset), not the host's count; a CFS quota
    # (`--cpus`, Kubernetes limits) is invisible here, so set WEB_CONCURRENCY there.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


wsgi_app = "config.wsgi:application"
bind = f"0.0.0.0:{_int('PORT', 8000)}"

worker_class = "gthread"
workers = _int("WEB_CONCURRENCY", min(2 * _cpus() + 1, 8))
threads = _int("GUNICORN_THREADS", 4)

timeout = _int("GUNICORN_TIMEOUT", 30)
# SIGTERM lets in-flight requests finish for this long; keep it under the orchestrator's
# kill deadline (Kubernetes: terminationGracePeriodSeconds, 30 s by default).
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 25)
keepalive = 5

# Workers are not recycled by default (GUNICORN_MAX_REQUESTS=0). A restart costs about a
# second of CPU (Django boots again) and drops the worker's keep-alive connections; under a
# mock's steady saves, 20000 restarted a worker every 1-2 minutes and each restart put
# ~1 s stalls into the save p99 (make bench-mock: p99 931 ms at 4,900 learners with five
# restarts in the window, against <200 ms without). Worker memory stays flat through the
# mock (peak RSS ~120-140 MB). If a leak ever shows, set a large value (jitter: +10 %)
# and restart outside exam windows.
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10

# Only these peers may set X-Forwarded-Proto / X-Forwarded-For for gunicorn. In a container
# the load balancer is not 127.0.0.1: set its address, or "*" when only it can reach the port.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s "%(a)s"'

# The worker heartbeat file on overlayfs can stall workers; tmpfs does not.
if os.path.isdir("/dev/shm"):  # noqa: S108 (a tmpfs we choose on purpose)
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# gunicornc's control socket would need a writable $HOME; nothing here uses it.
control_socket_disable = True


# Prometheus (core/metrics.py): each worker process counts its own requests, so every
# worker writes its metrics to files in one shared directory and whichever worker answers
# /metrics sums them (prometheus_client's multiprocess mode). The master prepares the
# directory before the first fork; the workers inherit the variable.
_created_metrics_dir = ""


def on_starting(server) -> None:
    global _created_metrics_dir
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(
        prefix="examforge-metrics-",
        dir="/dev/shm" if os.path.isdir("/dev/shm") else None,  # noqa: S108
    )
    os.makedirs(path, exist_ok=True)
    for stale in glob.glob(os.path.join(path, "*.db")):  # a previous run's counts
        os.remove(stale)
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        _created_metrics_dir = path
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    if _created_metrics_dir:  # ours, made by on_starting: nothing else lives there
        shutil.rmtree(_created_metrics_dir, ignore_errors=True)
