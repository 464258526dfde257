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
from .production import JSON_API_PATH_PREFIXES, LOGGING, REST_FRAMEWORK, env

ROOT_URLCONF = "config.urls_bench"
# /bench/hello is a JSON answer through the API's own middleware stack.
JSON_API_PATH_PREFIXES = (*JSON_API_PATH_PREFIXES, "/bench/")

# The benchmark mints tokens directly and never logs in, but nothing should throttle it.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": dict.fromkeys(REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "100000/s"),
}

# Warnings and errors only: per-request log lines would measure the log pipe, not the app.
LOG_LEVEL = env("LOG_LEVEL", default="WARNING")
LOGGING["root"]["level"] = LOG_LEVEL
for _name in ("django", "django.server"):
    LOGGING["loggers"][_name]["level"] = LOG_LEVEL
