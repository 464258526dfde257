"""Local development: ``make run``. Safe defaults so the project starts with no .env."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)
# Empty values (a copied .env.example) fall back to the development keys too.
SECRET_KEY = env("SECRET_KEY", default="") or "dev-insecure-secret-key-change-me-0123456789abcdef"
SIMPLE_JWT["SIGNING_KEY"] = (
    env("JWT_SIGNING_KEY", default="") or "dev-insecure-jwt-signing-key-0123456789abcdef"
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
LOG_FORMAT = env("LOG_FORMAT", default="text")
LOGGING["handlers"]["console"]["formatter"] = LOG_FORMAT
# Serve static files from the apps directly: no collectstatic needed to develop.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Mail and text messages go to files under var/ (git-ignored), one line each in the terminal
# (core.dev_delivery); EMAIL_URL (e.g. a local SMTP catcher) or SMS_BACKEND replace that.
if not env("EMAIL_URL", default=""):
    EMAIL_BACKEND = "core.dev_delivery.DevFileEmailBackend"
EMAIL_FILE_PATH = str(env.path("EMAIL_FILE_PATH", default=str(BASE_DIR / "var" / "mail")))
SMS_BACKEND = env("SMS_BACKEND", default="") or "accounts.sms.DevFileSmsBackend"
SMS_FILE_PATH = str(env.path("SMS_FILE_PATH", default=str(BASE_DIR / "var" / "sms")))
