"""Load benchmarks (``scripts/bench_sessions.py``): production settings, plus a hello view.

Everything production checks still applies (DEBUG off, real-looking secrets, the psycopg
pool, security middleware); ``scripts/bench_sessions.py`` provides the environment
(random ``SECRET_KEY`` / ``JWT_SIGNING_KEY``, ``ALLOWED_HOSTS``, ``DATABASE_URL``, an
unused ``EMAIL_URL``, ``PAYMENTS_ALLOW_SIMULATED``). The client sends
``X-Forwarded-Proto: https`` as the load balancer would, so the HTTPS redirect stays on.
Never deploy with this module: its URLs add ``/bench/hello``, and the auth throttles are
raised out of the benchmark's way.
"""

from .production import *  # noqa: F403
from .production import LOG_FORMAT, REST_FRAMEWORK, env

ROOT_URLCONF = "config.urls_bench"

# The benchmark mints tokens directly and never logs in, but nothing should throttle it.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/s"),
}

# Warnings and errors only: per-request log lines would measure the log pipe, not the app.
LOG_LEVEL = env("LOG_LEVEL", default="WARNING")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "core.logging.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
