"""The test suite (pytest-django). Real PostgreSQL, like production."""

import os

# The suite tests the metrics: collect them, as production does when METRICS_TOKEN is set.
os.environ.setdefault("METRICS_ENABLED", "true")

from .dev import *  # noqa: F403
from .dev import env

DEBUG = False
# The pool is per process; pytest-django's per-test transactions want a plain connection.
DATABASES["default"]["OPTIONS"].pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Fast hashing: argon2 at production cost would dominate the suite's time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "accounts.sms.LocmemSmsBackend"
LOG_LEVEL = env("LOG_LEVEL", default="WARNING")
LOGGING["root"]["level"] = LOG_LEVEL
LOGGING["loggers"]["django"]["level"] = LOG_LEVEL
# Tasks run inline when enqueued (the enqueue itself waits for the commit, as in production).
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}

# With REDIS_URL (CI proves the production cache path), every xdist worker gets its own
# Redis database, so one worker flushing its cache between tests never touches another's.
if REDIS_URL:
    import os
    import re

    _worker = int(re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", "gw0")) or 0)
    CACHES["default"]["LOCATION"] = re.sub(
        r"(/\d+)?$", f"/{1 + _worker}", REDIS_URL.split("?")[0], count=1
    )
