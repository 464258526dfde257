"""End-to-end journeys, API fuzzing and browser tests (``tests/live.py``).

Production settings, served over plain HTTP on 127.0.0.1: the test clients (httpx,
schemathesis, Chromium) talk to gunicorn directly, with no TLS-terminating proxy, so the
HTTPS redirect, HSTS and the cookies' Secure flag are off. Mail and text messages go to
files (the delivery boundary, read by the tests for one-time codes) and static files are
collected once per version into a folder of their own. Never deploy with this module.
"""

from .production import *  # noqa: F403
from .production import STATIC_ROOT, env

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env("E2E_MAIL_DIR")
# The live stacks collect the static files into a folder outside the checkout (tests/live.py).
STATIC_ROOT = env.path("E2E_STATIC_ROOT", default=str(STATIC_ROOT))
# Text messages too (phone OTP works as with a provider configured); set after
# production's check, which refuses this backend.
SMS_BACKEND = "accounts.sms.FileSmsBackend"
SMS_FILE_PATH = env("E2E_SMS_DIR")
