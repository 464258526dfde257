"""Production. Refuses to start on an unsafe configuration, naming the variable to fix."""

from django.core.exceptions import ImproperlyConfigured

from core.sentry import init_sentry

from .base import *  # noqa: F403
from .base import (
    METRICS_TOKEN,
    PAYMENT_GATEWAY,
    RAZORPAY_WEBHOOK_SECRET,
    RAZORPAY_WEBHOOK_SECRET_DEV_DEFAULT,
    SENTRY_DSN,
    SENTRY_ENVIRONMENT,
    SENTRY_TRACES_SAMPLE_RATE,
    SIMULATED_GATEWAY_SECRET,
    SIMULATED_GATEWAY_SECRET_DEV_DEFAULT,
    env,
)

_INSECURE_MARKERS = ("insecure", "change-me", "changeme", "dev-")


def _require_secret(name: str, value: str) -> str:
    if not value:
        raise ImproperlyConfigured(f"{name} must be set in production.")
    if len(value) < 32 or any(marker in value.lower() for marker in _INSECURE_MARKERS):
        raise ImproperlyConfigured(
            f"{name} looks like a default or weak value; set a random string of 50+ characters."
        )
    return value


_require_secret("SECRET_KEY", SECRET_KEY)
_require_secret("JWT_SIGNING_KEY", SIMPLE_JWT["SIGNING_KEY"])
if SIMPLE_JWT["SIGNING_KEY"] == SECRET_KEY:
    raise ImproperlyConfigured("JWT_SIGNING_KEY must differ from SECRET_KEY.")
if DEBUG:
    raise ImproperlyConfigured(
        "DEBUG must be False in production (unset DEBUG or set DEBUG=False)."
    )
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the host names this site serves.")
if not env("DATABASE_URL", default=""):
    raise ImproperlyConfigured("DATABASE_URL must be set in production.")

# One-time codes travel by email and SMS: a console backend would print them into the
# container's log stream, a file backend leave them on the server's disk.
_LOCAL_MAIL = ("console", "locmem", "filebased", "dev_delivery")
if not env("EMAIL_URL", default="") or any(name in EMAIL_BACKEND for name in _LOCAL_MAIL):
    raise ImproperlyConfigured(
        "EMAIL_URL must name a real mail server in production (e.g. smtp+tls://…)."
    )
SMS_BACKEND = env("SMS_BACKEND", default="") or "accounts.sms.DisabledSmsBackend"
if SMS_BACKEND.rsplit(".", 1)[-1] in {
    "ConsoleSmsBackend",
    "LocmemSmsBackend",
    "FileSmsBackend",
    "DevFileSmsBackend",
}:
    raise ImproperlyConfigured(
        "SMS_BACKEND must be a real provider's backend in production, or unset (phone OTP off)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health checks come from the load balancer, and Prometheus scrapes each instance
# directly, over plain HTTP on the private network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_REFERRER_POLICY = "same-origin"

# Payments: the simulated gateway takes no money; production needs Razorpay's keys (or an
# explicit PAYMENTS_ALLOW_SIMULATED=true for a staging site), and a webhook secret of its own.
if PAYMENT_GATEWAY.endswith(".SimulatedGateway") and not env.bool(
    "PAYMENTS_ALLOW_SIMULATED", default=False
):
    raise ImproperlyConfigured(
        "RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET must be set in production "
        "(or PAYMENTS_ALLOW_SIMULATED=true on a staging site)."
    )
if not RAZORPAY_WEBHOOK_SECRET and not PAYMENT_GATEWAY.endswith(".SimulatedGateway"):
    raise ImproperlyConfigured("RAZORPAY_WEBHOOK_SECRET must be set in production.")
# A staging site on the simulated gateway is reachable from the internet: with the public
# default secrets anyone could sign a checkout callback or a webhook and get access free.
if PAYMENT_GATEWAY.endswith(".SimulatedGateway"):
    for _name, _value, _default in (
        (
            "SIMULATED_GATEWAY_SECRET",
            SIMULATED_GATEWAY_SECRET,
            SIMULATED_GATEWAY_SECRET_DEV_DEFAULT,
        ),
        ("RAZORPAY_WEBHOOK_SECRET", RAZORPAY_WEBHOOK_SECRET, RAZORPAY_WEBHOOK_SECRET_DEV_DEFAULT),
    ):
        if not _value or _value == _default:
            raise ImproperlyConfigured(
                f"{_name} must be set to a random value of its own when production settings "
                "run the simulated gateway (PAYMENTS_ALLOW_SIMULATED=true)."
            )
        _require_secret(_name, _value)

# /metrics is off without a token; with one, it must not be guessable.
if METRICS_TOKEN and len(METRICS_TOKEN) < 32:
    raise ImproperlyConfigured("METRICS_TOKEN must be a random string of 32+ characters.")

# Error reporting: only with a DSN (never in dev or tests).
init_sentry(
    dsn=SENTRY_DSN,
    environment=SENTRY_ENVIRONMENT,
    traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
)
