"""Settings refuse to start on an unsafe configuration, naming the variable to fix.

Each case imports the settings in a fresh interpreter, as a deploy would. Every variable
the checks read is set explicitly (empty where "missing" is meant), so neither the
environment running the suite nor a developer's ``.env`` can fill one back in.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
VALID_PRODUCTION = {
    "SECRET_KEY": "x7Qk2Vr9Lm4Pz8Ns1Hd6Tb3Wc5Yf0Ja2Ge7Ru9Io4Mp8Kl1Zx6Cv3",
    "JWT_SIGNING_KEY": "Fh3Dk8Sl2Aq7Wp1Ez5Rt9Yu4Io6Pa0Sd3Fg8Hj2Kl7Zx1Cv5Bn9M",
    "DEBUG": "False",
    "ALLOWED_HOSTS": "examforge.example",
    "DATABASE_URL": "postgres://examforge:pw@db.invalid:5432/examforge",
    "JWT_ACCESS_MINUTES": "10",
    "EMAIL_URL": "smtp+tls://mailer:pw@smtp.example.com:587",
    "SMS_BACKEND": "",
    "RAZORPAY_KEY_ID": "rzp_live_Example000001",
    "RAZORPAY_KEY_SECRET": "live-key-secret-for-the-settings-test",
    "RAZORPAY_WEBHOOK_SECRET": "live-webhook-secret-for-the-settings-test",
}


def _setup(
    settings_module: str, *, then: str = "", **variables: str
) -> subprocess.CompletedProcess:
    """Set Django up in a fresh interpreter with ``variables``, then run the code ``then``."""
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    env.update(variables, DJANGO_SETTINGS_MODULE=settings_module)
    return subprocess.run(  # noqa: S603 (the code run is this module's own)
        [sys.executable, "-c", f"import django; django.setup()\n{then}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_starts_with_a_safe_configuration():
    result = _setup("config.settings.production", **VALID_PRODUCTION)

    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SECRET_KEY", "", "SECRET_KEY must be set in production."),
        (
            "SECRET_KEY",
            "insecure-" + "k" * 50,
            "SECRET_KEY looks like a default or weak value",
        ),
        ("SECRET_KEY", "short-but-random-Q8z", "SECRET_KEY looks like a default or weak value"),
        ("JWT_SIGNING_KEY", "", "JWT_SIGNING_KEY must be set in production."),
        (
            "JWT_SIGNING_KEY",
            "dev-insecure-jwt-signing-key-0123456789abcdef",
            "JWT_SIGNING_KEY looks like a default or weak value",
        ),
        (
            "JWT_SIGNING_KEY",
            VALID_PRODUCTION["SECRET_KEY"],
            "JWT_SIGNING_KEY must differ from SECRET_KEY.",
        ),
        ("DEBUG", "True", "DEBUG must be False in production"),
        ("ALLOWED_HOSTS", "", "ALLOWED_HOSTS must list the host names this site serves."),
        ("DATABASE_URL", "", "DATABASE_URL must be set in production."),
        (
            "EMAIL_URL",
            "consolemail://",
            "EMAIL_URL must name a real mail server in production",
        ),
        (
            "SMS_BACKEND",
            "accounts.sms.ConsoleSmsBackend",
            "SMS_BACKEND must be a real provider's backend in production",
        ),
        (
            "SMS_BACKEND",
            "accounts.sms.FileSmsBackend",
            "SMS_BACKEND must be a real provider's backend in production",
        ),
        (
            "SMS_BACKEND",
            "accounts.sms.DevFileSmsBackend",
            "SMS_BACKEND must be a real provider's backend in production",
        ),
        (
            "EMAIL_URL",
            "filemail:///tmp/examforge-mail",
            "EMAIL_URL must name a real mail server in production",
        ),
    ],
)
def test_production_refuses_an_unsafe_value(variable, value, message):
    result = _setup("config.settings.production", **{**VALID_PRODUCTION, variable: value})

    assert result.returncode != 0
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in result.stderr


def test_production_refuses_an_empty_email_url_naming_it():
    result = _setup("config.settings.production", **{**VALID_PRODUCTION, "EMAIL_URL": ""})

    last_line = result.stderr.strip().splitlines()[-1]
    assert result.returncode != 0
    assert last_line.startswith("django.core.exceptions.ImproperlyConfigured: ")
    assert "EMAIL_URL" in last_line


def test_production_refuses_a_database_that_is_not_postgresql():
    result = _setup(
        "config.settings.production", **{**VALID_PRODUCTION, "DATABASE_URL": "sqlite:///db.sqlite3"}
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL must point at PostgreSQL" in result.stderr


@pytest.mark.parametrize("minutes", ["0", "16", "30"])
def test_dev_refuses_access_tokens_outside_1_to_15_minutes(minutes):
    result = _setup("config.settings.dev", JWT_ACCESS_MINUTES=minutes)

    assert result.returncode != 0
    assert "ImproperlyConfigured: JWT_ACCESS_MINUTES must be between 1 and 15." in result.stderr


def test_dev_accepts_access_tokens_of_15_minutes():
    result = _setup("config.settings.dev", JWT_ACCESS_MINUTES="15")

    assert result.returncode == 0, result.stderr


_DESCRIBE_DELIVERY = """
import json
from django.conf import settings as s
print(json.dumps({name: getattr(s, name, None) for name in (
    "EMAIL_BACKEND", "EMAIL_FILE_PATH", "EMAIL_HOST", "EMAIL_PORT", "SMS_BACKEND", "SMS_FILE_PATH"
)}))
"""
_NO_DELIVERY_SETTINGS = {
    "EMAIL_URL": "",
    "EMAIL_FILE_PATH": "",
    "SMS_BACKEND": "",
    "SMS_FILE_PATH": "",
}


def test_dev_writes_mail_and_sms_to_files_under_var():
    result = _setup("config.settings.dev", then=_DESCRIBE_DELIVERY, **_NO_DELIVERY_SETTINGS)

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["EMAIL_BACKEND"] == "core.dev_delivery.DevFileEmailBackend"
    assert found["EMAIL_FILE_PATH"] == str(ROOT / "var" / "mail")
    assert found["SMS_BACKEND"] == "accounts.sms.DevFileSmsBackend"
    assert found["SMS_FILE_PATH"] == str(ROOT / "var" / "sms")


def test_dev_sends_mail_to_the_server_email_url_names(tmp_path):
    result = _setup(
        "config.settings.dev",
        then=_DESCRIBE_DELIVERY,
        **{
            **_NO_DELIVERY_SETTINGS,
            "EMAIL_URL": "smtp://mailcatcher.local:1025",
            "SMS_FILE_PATH": str(tmp_path / "sms"),
        },
    )

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (found["EMAIL_HOST"], found["EMAIL_PORT"]) == ("mailcatcher.local", 1025)
    assert found["SMS_FILE_PATH"] == str(tmp_path / "sms")


_DESCRIBE_STORAGE = """
import json
from django.core.files.storage import default_storage as s
s._setup()
found = {"class": type(s._wrapped).__name__}
for name in ("bucket_name", "region_name", "endpoint_url", "custom_domain",
             "querystring_auth", "file_overwrite", "location"):
    found[name] = getattr(s._wrapped, name, None)
if found["custom_domain"]:
    found["url"] = s.url("products/cover.png")
print(json.dumps(found, default=str))
"""


def test_uploads_go_to_media_root_without_a_bucket(tmp_path):
    result = _setup(
        "config.settings.production",
        then=_DESCRIBE_STORAGE,
        **VALID_PRODUCTION,
        AWS_STORAGE_BUCKET_NAME="",
        MEDIA_ROOT=str(tmp_path),
    )

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["class"], found["location"]) == ("FileSystemStorage", str(tmp_path))


def test_uploads_go_to_s3_with_public_urls_when_a_bucket_is_set():
    result = _setup(
        "config.settings.production",
        then=_DESCRIBE_STORAGE,
        **VALID_PRODUCTION,
        AWS_STORAGE_BUCKET_NAME="examforge-media",
        AWS_S3_REGION_NAME="ap-south-1",
        AWS_S3_ENDPOINT_URL="",
        AWS_S3_CUSTOM_DOMAIN="media.examforge.example",
        AWS_QUERYSTRING_AUTH="",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "class": "S3Storage",
        "bucket_name": "examforge-media",
        "region_name": "ap-south-1",
        "endpoint_url": None,
        "custom_domain": "media.examforge.example",
        "querystring_auth": False,
        "file_overwrite": False,
        "location": "",
        "url": "https://media.examforge.example/products/cover.png",
    }


def test_an_s3_compatible_endpoint_and_signed_urls_can_be_chosen():
    result = _setup(
        "config.settings.dev",
        then=_DESCRIBE_STORAGE,
        AWS_STORAGE_BUCKET_NAME="covers",
        AWS_S3_REGION_NAME="",
        AWS_S3_ENDPOINT_URL="https://minio.internal:9000",
        AWS_S3_CUSTOM_DOMAIN="",
        AWS_QUERYSTRING_AUTH="True",
    )

    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert (found["class"], found["bucket_name"], found["endpoint_url"]) == (
        "S3Storage",
        "covers",
        "https://minio.internal:9000",
    )
    assert (found["region_name"], found["querystring_auth"]) == (None, True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"RAZORPAY_KEY_ID": "", "RAZORPAY_KEY_SECRET": ""},
            "RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET must be set in production",
        ),
        ({"RAZORPAY_WEBHOOK_SECRET": ""}, "RAZORPAY_WEBHOOK_SECRET must be set in production."),
    ],
)
def test_production_refuses_to_take_no_money_or_unsigned_webhooks(changes, message):
    result = _setup("config.settings.production", **{**VALID_PRODUCTION, **changes})
    assert result.returncode != 0
    assert message in result.stderr


def test_a_staging_site_may_run_the_simulated_gateway_when_it_says_so():
    result = _setup(
        "config.settings.production",
        then="from django.conf import settings; print(settings.PAYMENT_GATEWAY)",
        **{
            **VALID_PRODUCTION,
            "RAZORPAY_KEY_ID": "",
            "RAZORPAY_KEY_SECRET": "",
            "PAYMENTS_ALLOW_SIMULATED": "true",
            "SIMULATED_GATEWAY_SECRET": "staging-simulated-key-secret-for-the-settings-test",
        },
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "payments.gateways.simulated.SimulatedGateway"


# --- observability and hardening ---------------------------------------------------------------

_SENTRY_ACTIVE = "import sentry_sdk; print(sentry_sdk.get_client().is_active())"


def test_production_does_not_start_sentry_without_a_dsn():
    result = _setup("config.settings.production", then=_SENTRY_ACTIVE, **VALID_PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_starts_sentry_with_a_dsn_and_without_personal_data():
    result = _setup(
        "config.settings.production",
        then=(
            "import sentry_sdk; c = sentry_sdk.get_client(); "
            "print(c.is_active(), c.options['send_default_pii'], c.options['environment'], "
            "c.options['traces_sample_rate'], c.options['before_send'].__module__)"
        ),
        SENTRY_DSN="https://public@o0.ingest.sentry.invalid/1",
        SENTRY_ENVIRONMENT="staging",
        **VALID_PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "staging", "0.0", "core.sentry"]


def test_production_refuses_a_short_metrics_token():
    result = _setup("config.settings.production", METRICS_TOKEN="short", **VALID_PRODUCTION)

    assert result.returncode != 0
    assert "METRICS_TOKEN must be a random string of 32+ characters." in result.stderr


@pytest.mark.parametrize(("token", "on"), [("", False), ("t" * 40, True)])
def test_metrics_are_collected_only_where_someone_can_read_them(token, on):
    probe = (
        "from django.conf import settings\n"
        "print('core.metrics.MetricsMiddleware' in settings.MIDDLEWARE, "
        "settings.MIDDLEWARE[0] == 'core.metrics.MetricsMiddleware', "
        "settings.DATABASES['default']['ENGINE'])"
    )
    result = _setup(
        "config.settings.production", then=probe, METRICS_TOKEN=token, **VALID_PRODUCTION
    )

    assert result.returncode == 0, result.stderr
    # The statements are counted by the middleware: the database backend is Django's own.
    assert result.stdout.split() == [str(on), str(on), "django.db.backends.postgresql"]


def test_the_admin_path_is_configurable():
    result = _setup(
        "config.settings.dev",
        then="from django.urls import reverse; print(reverse('admin:index'))",
        ADMIN_URL="back-office-7f3a/",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "/back-office-7f3a/"


@pytest.mark.parametrize(
    ("variables", "prefix"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:6379/3"}, "examforge"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/3", "CACHE_KEY_PREFIX": "staging"}, "staging"),
        ({"REDIS_URL": "", "CACHE_KEY_PREFIX": "staging"}, "staging"),
    ],
)
def test_deployments_sharing_a_redis_can_keep_their_cache_keys_apart(variables, prefix):
    result = _setup(
        "config.settings.dev",
        then=("from django.core.cache import cache; print(cache.make_key('bank-version'))"),
        **variables,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{prefix}:1:bank-version"
