"""Settings shared by every environment.

Every deploy-time value comes from the environment through one ``environ.Env()``;
``.env.example`` documents each variable. ``dev``, ``test`` and ``production`` only
change defaults and add the checks that environment needs.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent


class _Env(environ.Env):
    """django-environ, with two house rules: an empty variable counts as unset (so its
    default applies), and a value that cannot be read names the variable to fix."""

    def get_value(
        self,
        var: str,
        cast: Any = None,
        default: Any = environ.Env.NOTSET,
        parse_default: bool = False,
    ) -> Any:
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"{var} cannot be read: {exc}") from exc


# A local .env is read when present; real deployments set the environment itself.
_Env.read_env(BASE_DIR / ".env", overwrite=False)
env = _Env()
env.ENVIRON = {name: value for name, value in os.environ.items() if value.strip()}

# --- Core --------------------------------------------------------------------------------
SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # PostgreSQL's search, array and index fields
    "django.contrib.postgres",
    # third party
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Before django_tasks_db: core's db_worker (one that reconnects) replaces its own.
    "core",
    "django_tasks",
    "django_tasks_db",
    "csp",
    # ours, lower layers first (core is above, before django_tasks_db)
    "accounts",
    "testengine",
    "catalogue",
    "sessions_app",
    "payments",
    "programs",
    "learning",
]

# --- Observability (docs/deployment.md, "Observability") ---------------------------------
# /metrics answers only with "Authorization: Bearer <METRICS_TOKEN>"; empty → 404 (off).
METRICS_TOKEN = env("METRICS_TOKEN", default="")
# Collecting request and query metrics costs a little CPU on every request (core.metrics;
# measured with make bench-metrics: README, "Benchmarks"), so it is on only where someone
# can read them: by default when METRICS_TOKEN is set.
METRICS_ENABLED = env.bool("METRICS_ENABLED", default=bool(METRICS_TOKEN))

# The bearer-token JSON API: the HTML-only middleware (sessions, CSRF, messages, the page
# security headers; core.html_middleware) steps aside for requests under these prefixes.
JSON_API_PATH_PREFIXES: tuple[str, ...] = ("/api/v1/",)

MIDDLEWARE = [
    # First, so the request metrics time everything below (removed when metrics are off).
    "core.metrics.MetricsMiddleware",
    "core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "core.html_middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Above every middleware that can answer by itself, so those answers carry CORS headers.
    "corsheaders.middleware.CorsMiddleware",
    "core.middleware.BodySizeLimitMiddleware",
    "core.html_middleware.SessionMiddleware",
    "core.middleware.CommonMiddleware",
    "core.html_middleware.CsrfViewMiddleware",
    "core.html_middleware.AuthenticationMiddleware",
    "core.html_middleware.SessionUserLogMiddleware",
    "core.middleware.DatabaseUnavailableMiddleware",
    "core.html_middleware.MessageMiddleware",
    "core.html_middleware.XFrameOptionsMiddleware",
]
if not METRICS_ENABLED:
    MIDDLEWARE.remove("core.metrics.MetricsMiddleware")
# Django's deploy checks look for its CSRF and X-Frame-Options middleware by exact path;
# ours are those classes, subclassed to step aside on the JSON API (core/html_middleware.py),
# and a test holds MIDDLEWARE to subclasses of both.
SILENCED_SYSTEM_CHECKS = ["security.W002", "security.W003"]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------------------
# PostgreSQL only. With DB_POOL on (the default) every process keeps a psycopg pool, which
# Django requires to run with CONN_MAX_AGE=0; see README "Database connections".
# Unset: libpq's defaults (local socket, database "examforge"). `make run` / `make test`
# set it to the embedded server; production refuses to start without it.
DATABASES = {"default": env.db("DATABASE_URL", default="postgres:///examforge")}
if DATABASES["default"].get("ENGINE") not in {None, "django.db.backends.postgresql"}:
    raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL (postgres://…).")
DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
DB_POOL = env.bool("DB_POOL", default=True)
# The embedded server's URI carries its socket folder as ?host=…, which django-environ maps
# to OPTIONS['host']: merge into OPTIONS, never replace it.
_db_options = DATABASES["default"].setdefault("OPTIONS", {})
if DB_POOL:
    _db_options["pool"] = {
        "min_size": env.int("DB_POOL_MIN_SIZE", default=1),
        "max_size": env.int("DB_POOL_MAX_SIZE", default=8),
        # Short: while the database is away a request waits this long for a connection,
        # then answers 503 database_unavailable (core.database), and the threads stay free
        # for /healthz.
        "timeout": env.float("DB_POOL_TIMEOUT", default=2.0),
        # A failed (re)connection is retried with a doubling delay for this long, then
        # given up and started afresh by the next request: the delay stays under it, so a
        # database that is back is found within seconds, however long it was away.
        "reconnect_timeout": env.float("DB_POOL_RECONNECT_TIMEOUT", default=5.0),
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
# With the pool: psycopg_pool's check on every checkout (ConnectionPool.check_connection),
# so connections a database restart killed are replaced, not handed to a request.
# Without it: Django's check before reusing a persistent connection.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
_db_options.setdefault("connect_timeout", env.int("DB_CONNECT_TIMEOUT", default=5))
# Statements written out on the hottest paths (core.sql.prepared_cursor) are prepared the
# fifth time a connection runs them. Off behind PgBouncer < 1.21 in transaction mode.
DB_PREPARED_STATEMENTS = env.bool("DB_PREPARED_STATEMENTS", default=True)
_db_options.setdefault("prepare_threshold", 5 if DB_PREPARED_STATEMENTS else None)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (also backs throttling) -------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
# Every key starts with this: deployments sharing one Redis (staging beside production, the
# test suite's live stacks) each need their own, or one reads the other's cached data.
CACHE_KEY_PREFIX = env("CACHE_KEY_PREFIX", default="examforge")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "core.cache.RedisCache",  # Django's, one client per pool
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 300,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "core_cache",
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "TIMEOUT": 300,
        }
    }

# --- Background tasks (docs/architecture.md, "Processes") --------------------------------
# django-tasks with the database backend: `manage.py db_worker` processes claim work with
# SKIP LOCKED, so workers scale out on the shared database. Enqueue from
# `transaction.on_commit`. A Celery/RQ backend is a change here, not in the code.
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# Item statistics are recomputed at most once per test in this many seconds.
ITEM_STATISTICS_DEBOUNCE_SECONDS = env.int("ITEM_STATISTICS_DEBOUNCE_SECONDS", default=60)
# Prepared papers (testengine.pool): how many the admin action and `prepare_papers`
# without --count keep ready per test ahead of a scheduled sitting.
PREPARED_PAPERS_PER_TEST = env.int("PREPARED_PAPERS_PER_TEST", default=500)
# Adaptive tests: dotted paths of the ability estimator and the item selector (plug-ins,
# testengine/adaptive.py; the built-ins are EAP and maximum information).
ADAPTIVE_ESTIMATOR = env("ADAPTIVE_ESTIMATOR", default="testengine.adaptive.EAPEstimator")
ADAPTIVE_SELECTOR = env("ADAPTIVE_SELECTOR", default="testengine.adaptive.MaxInfoSelector")
# How long a process keeps an adaptive test's item pool (ids and IRT parameters) in memory.
ADAPTIVE_POOL_SECONDS = env.int("ADAPTIVE_POOL_SECONDS", default=60)
# The AI team's models over HTTP (the Remote* plug-ins; contract: docs/models.md). A slow
# or broken model never blocks a learner: after the timeout the built-in answers, and the
# remote is skipped for the cool-down.
MODELS_REMOTE_URL = env("MODELS_REMOTE_URL", default="")
MODELS_REMOTE_TOKEN = env("MODELS_REMOTE_TOKEN", default="")
MODELS_REMOTE_TIMEOUT_SECONDS = env.float("MODELS_REMOTE_TIMEOUT_SECONDS", default=0.5)
MODELS_REMOTE_COOLDOWN_SECONDS = env.float("MODELS_REMOTE_COOLDOWN_SECONDS", default=30.0)
# Item calibration (docs/testengine.md, "Calibration"): items with fewer scored responses
# keep their prior a, b; items with fewer than CALIBRATION_RASCH_BELOW are fitted with a = 1.
CALIBRATION_MIN_RESPONSES = env.int("CALIBRATION_MIN_RESPONSES", default=200)
CALIBRATION_RASCH_BELOW = env.int("CALIBRATION_RASCH_BELOW", default=500)
# Learning (docs/learning.md): the recommender plug-in (dotted path of a class with
# ``recommend(mastery, tests, *, limit)``), and how many days a question a learner saw stays
# out of their practice sessions while enough others exist.
LEARNING_RECOMMENDER = env(
    "LEARNING_RECOMMENDER", default="learning.recommenders.WeakestFirstRecommender"
)
PRACTICE_FRESH_DAYS = env.int("PRACTICE_FRESH_DAYS", default=14)

# --- Auth --------------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "full_name")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

JWT_ACCESS_MINUTES = env.int("JWT_ACCESS_MINUTES", default=10)
JWT_REFRESH_DAYS = env.int("JWT_REFRESH_DAYS", default=30)
if not 1 <= JWT_ACCESS_MINUTES <= 15:
    raise ImproperlyConfigured("JWT_ACCESS_MINUTES must be between 1 and 15.")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=JWT_ACCESS_MINUTES),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=JWT_REFRESH_DAYS),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "ALGORITHM": "HS256",
    # A key of its own, so rotating SECRET_KEY does not log everyone out and vice versa.
    "SIGNING_KEY": env("JWT_SIGNING_KEY", default=""),
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "public_id",
    "USER_ID_CLAIM": "user_id",
    "LEEWAY": 5,
}

# OTP login
OTP_TTL_SECONDS = env.int("OTP_TTL_SECONDS", default=300)
OTP_MAX_ATTEMPTS = env.int("OTP_MAX_ATTEMPTS", default=5)
SMS_BACKEND = env("SMS_BACKEND", default="") or "accounts.sms.ConsoleSmsBackend"
PHONE_DEFAULT_REGION = env("PHONE_DEFAULT_REGION", default="IN")

# Exam sessions: answers saved this long after the deadline still count (latency).
SESSION_SAVE_GRACE_SECONDS = env.int("SESSION_SAVE_GRACE_SECONDS", default=10)

# --- Email -------------------------------------------------------------------------------
try:
    vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
except ImproperlyConfigured as exc:
    raise ImproperlyConfigured(f"EMAIL_URL cannot be read: {exc}") from exc
EMAIL_BACKEND: str  # set by the update above, with the other EMAIL_* settings
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Examforge <no-reply@examforge.local>")
SERVER_EMAIL = env("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# --- Payments (the payments app; empty keys select the simulated gateway) -----------------
RAZORPAY_KEY_ID = env("RAZORPAY_KEY_ID", default="")
RAZORPAY_KEY_SECRET = env("RAZORPAY_KEY_SECRET", default="")
RAZORPAY_WEBHOOK_SECRET = env("RAZORPAY_WEBHOOK_SECRET", default="")
# The simulated gateway signs its webhooks with RAZORPAY_WEBHOOK_SECRET, or this when unset.
RAZORPAY_WEBHOOK_SECRET_DEV_DEFAULT = "examforge-simulated-webhook-secret"  # noqa: S105 (dev only)
# The simulated gateway's callback signature secret (Razorpay's key secret stands in).
SIMULATED_GATEWAY_SECRET_DEV_DEFAULT = "examforge-simulated-key-secret"  # noqa: S105 (dev only)
SIMULATED_GATEWAY_SECRET = env(
    "SIMULATED_GATEWAY_SECRET", default=SIMULATED_GATEWAY_SECRET_DEV_DEFAULT
)
PAYMENT_GATEWAY = env(
    "PAYMENT_GATEWAY",
    default="payments.gateways.razorpay.RazorpayGateway"
    if RAZORPAY_KEY_ID and RAZORPAY_KEY_SECRET
    else "payments.gateways.simulated.SimulatedGateway",
)
# False when the Razorpay account does not auto-capture: payment.authorized is captured.
RAZORPAY_AUTO_CAPTURE = env.bool("RAZORPAY_AUTO_CAPTURE", default=True)
RAZORPAY_TIMEOUT_SECONDS = env.float("RAZORPAY_TIMEOUT_SECONDS", default=10.0)
PAYMENTS_BRAND_NAME = env("PAYMENTS_BRAND_NAME", default="Examforge")
# Orders still "created" after this are looked up at the gateway, then expired.
ORDER_RECONCILE_AFTER_MINUTES = env.int("ORDER_RECONCILE_AFTER_MINUTES", default=15)
ORDER_EXPIRE_AFTER_MINUTES = env.int("ORDER_EXPIRE_AFTER_MINUTES", default=60)
CHECKOUT_LINK_MAX_AGE_SECONDS = env.int("CHECKOUT_LINK_MAX_AGE_SECONDS", default=30 * 60)
# Tax invoices (GST). Prices are tax-inclusive.
INVOICE_SUPPLIER_NAME = env("INVOICE_SUPPLIER_NAME", default="Examforge Learning Pvt. Ltd.")
INVOICE_SUPPLIER_ADDRESS = env("INVOICE_SUPPLIER_ADDRESS", default="Bengaluru, Karnataka")
INVOICE_SUPPLIER_GSTIN = env("INVOICE_SUPPLIER_GSTIN", default="29AABCE1234F1Z5")
INVOICE_SUPPLIER_STATE = env("INVOICE_SUPPLIER_STATE", default="29")  # GST state code
INVOICE_SAC_CODE = env("INVOICE_SAC_CODE", default="999293")  # commercial training/coaching
INVOICE_GST_RATE = env("INVOICE_GST_RATE", default="18.00")
INVOICE_PREFIX = env("INVOICE_PREFIX", default="EF")

# --- REST framework ----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "core.pagination.DefaultPagination",
    "PAGE_SIZE": 20,
    "EXCEPTION_HANDLER": "core.api.exception_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "login_ip": env("THROTTLE_LOGIN_IP", default="20/min"),
        "login_account": env("THROTTLE_LOGIN_ACCOUNT", default="10/min"),
        "register_ip": env("THROTTLE_REGISTER_IP", default="10/hour"),
        "otp_request_ip": env("THROTTLE_OTP_REQUEST_IP", default="10/hour"),
        "otp_request_destination": env("THROTTLE_OTP_REQUEST_DESTINATION", default="5/hour"),
        "otp_verify_ip": env("THROTTLE_OTP_VERIFY_IP", default="30/min"),
        "otp_verify_destination": env("THROTTLE_OTP_VERIFY_DESTINATION", default="10/min"),
        "password_change": env("THROTTLE_PASSWORD_CHANGE", default="10/hour"),
        "contact_change": env("THROTTLE_CONTACT_CHANGE", default="10/hour"),
        # Per user: coupon codes must not be guessable by trying them.
        "coupon_preview": env("THROTTLE_COUPON_PREVIEW", default="30/hour"),
        "order_create": env("THROTTLE_ORDER_CREATE", default="30/hour"),
        # Per client address: Razorpay's bursts (a sale: hundreds of events a minute, from
        # several addresses) stay far below it; a flood of forged posts does not.
        "razorpay_webhook": env("THROTTLE_RAZORPAY_WEBHOOK", default="1200/min"),
        # Per client address: certificate codes must not be enumerable.
        "certificate_verify": env("THROTTLE_CERTIFICATE_VERIFY", default="60/min"),
        "project_submit": env("THROTTLE_PROJECT_SUBMIT", default="30/hour"),
        "practice": env("THROTTLE_PRACTICE", default="30/hour"),
    },
    # How many proxies sit in front of the app (load balancer = 1); decides which
    # X-Forwarded-For entry is the client's address for throttling and device records.
    # 0 (not None): None would make DRF trust a client-sent X-Forwarded-For entirely.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# Largest request body the API accepts (bytes); larger ones get 413 before parsing.
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=1_048_576)
# Bulk endpoints (question import) take files up to this size.
API_MAX_UPLOAD_BYTES = env.int("API_MAX_UPLOAD_BYTES", default=20 * 1_048_576)
API_LARGE_BODY_PATHS = (
    r"^/api/v1/testengine/questions/import/$",
    r"^/api/v1/catalogue/manage/products/[^/]+/image/$",
)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1_048_576
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

SPECTACULAR_SETTINGS = {
    "TITLE": "Examforge API",
    "DESCRIPTION": (
        "REST API of Examforge: catalogue, tests, exam sessions and payments for the "
        "Examforge learning platform.\n\n"
        "**Authentication.** Obtain tokens with `POST /api/v1/auth/token/` (email + "
        "password) or the OTP flow, then press *Authorize* and paste the `access` token. "
        "Access tokens live a few minutes; exchange the refresh token at "
        "`/api/v1/auth/token/refresh/` (it rotates: the old refresh token stops working).\n\n"
        '**Errors** always have one shape: `{"code", "detail", "fields"}` where '
        "`fields` appears only on validation errors. `code` is stable and machine-readable."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.schema.document_invalid_pages",
        "core.api.schema.document_malformed_queries",
    ],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True, "displayRequestDuration": True},
    "TAGS": [
        {"name": "auth", "description": "Registration, login, tokens, OTP and devices."},
        {"name": "catalogue", "description": "Browse products, enroll, my enrollments."},
        {"name": "catalogue-staff", "description": "Staff: categories, products, plans."},
        {"name": "testengine", "description": "Staff: question bank, topics, tests, papers."},
        {"name": "sessions", "description": "Sit a test: start, answer, submit."},
        {"name": "results", "description": "Results, review and leaderboards."},
        {
            "name": "learning",
            "description": "My mastery per topic, recommendations, personal practice.",
        },
    ],
    # One stable, unambiguous name per choice set, reused wherever it appears (generated
    # clients get one enum type each, not StatusEnum / KindEnum guesses).
    "ENUM_NAME_OVERRIDES": {
        "QuestionTypeEnum": "testengine.models.Question.Type",
        "DifficultyEnum": "testengine.models.Question.Difficulty",
        "QuestionStatusEnum": "testengine.models.Question.Status",
        "ToleranceKindEnum": "testengine.models.Question.Tolerance",
        "TestModeEnum": "testengine.models.Test.Mode",
        "TestNavigationEnum": "testengine.models.Test.Navigation",
        "SectionMarkingEnum": "testengine.models.Section.Marking",
        "SessionStatusEnum": "sessions_app.models.ExamSession.Status",
        "SubmitReasonEnum": "sessions_app.models.ExamSession.SubmitReason",
        "AnswerOutcomeEnum": "sessions_app.api.results.OUTCOMES",
        "RankBasisEnum": "sessions_app.selectors.RANK_BASES",
        "AdaptiveStopReasonEnum": "sessions_app.api.results.STOP_REASONS",
        "StartRefusalReasonEnum": "sessions_app.api.learner_tests.REASONS",
        "PaletteStateEnum": "sessions_app.api.serializers.PALETTE_STATES",
        "SectionStateEnum": "sessions_app.api.serializers.SECTION_STATES",
        "OrderStatusEnum": "payments.models.Order.Status",
        "PaymentGatewayEnum": "payments.models.Order.Gateway",
        "ProductKindEnum": "catalogue.models.Product.Kind",
        "ProductLevelEnum": "catalogue.models.Product.Level",
        "EnrollmentSourceEnum": "catalogue.models.Enrollment.Source",
        "ProjectSubmissionStatusEnum": "programs.models.ProjectSubmission.Status",
        "CertificateStatusEnum": "programs.api.serializers.CERTIFICATE_STATUSES",
    },
    # "none" is null, never an enum of "" (no BlankEnum / NullEnum components): a nullable
    # field references its enum and says nullable.
    "ENUM_ADD_EXPLICIT_BLANK_NULL_CHOICE": False,
}

# --- CORS --------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_EXPOSE_HEADERS = ["X-Request-ID", "Retry-After"]

# --- i18n / time -------------------------------------------------------------------------
LANGUAGE_CODE = "en-in"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
DISPLAY_TIME_ZONE = "Asia/Kolkata"

# --- Static and media --------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
# Uploads (product covers, question images) go through Django's storage API: S3 (or an
# S3-compatible service) when a bucket is configured, files under MEDIA_ROOT otherwise.
# S3 credentials are not settings: boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
# from the environment, or the instance/task role.
AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
if AWS_STORAGE_BUCKET_NAME:
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "region_name": env("AWS_S3_REGION_NAME", default="") or None,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default="") or None,
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default="") or None,
            # Cover images are public: plain URLs are cacheable; signed ones expire.
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            "file_overwrite": False,
        },
    }
else:
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _media_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Files served at the site's root by WhiteNoise: browsers ask every page's host for
# /favicon.ico (the admin's pages name no icon), which was a 404 and a console error.
WHITENOISE_ROOT = BASE_DIR / "core" / "public"
# Largest accepted image upload, in bytes (core.images.validate_image).
IMAGE_MAX_BYTES = env.int("IMAGE_MAX_BYTES", default=2 * 1_048_576)

# --- Observability (continued; METRICS_TOKEN / METRICS_ENABLED are above MIDDLEWARE) --------
# Sentry is initialised by the production settings only, and only when SENTRY_DSN is set.
SENTRY_DSN = env("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env("SENTRY_ENVIRONMENT", default="production")
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)

# --- Security headers --------------------------------------------------------------------
# The admin's URL prefix: moving it off /admin/ keeps it out of drive-by scans.
ADMIN_URL = env("ADMIN_URL", default="admin/")
if not ADMIN_URL.endswith("/") or ADMIN_URL.startswith("/"):
    raise ImproperlyConfigured(
        'ADMIN_URL must look like "admin/" (no leading slash, a trailing one).'
    )
# Content-Security-Policy on every HTML page (django-csp). Scripts: ours, inline ones only
# with the per-response nonce, and Razorpay Checkout: checkout.js from checkout.razorpay.com
# loads its risk-detection bundle from cdn.razorpay.com (refused without it: razorpay-magento
# issues #537 and #542, 2026), opens its frame from api.razorpay.com and reports to
# lumberjack.razorpay.com.
# Styles allow 'unsafe-inline': the admin, Swagger UI and ReDoc set style attributes, which
# nonces cannot cover, and inline styles cannot run code. ReDoc renders in a blob: worker.
_RAZORPAY = ["https://checkout.razorpay.com", "https://api.razorpay.com"]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": [
            "'self'",
            "https://checkout.razorpay.com",
            "https://cdn.razorpay.com",
            NONCE,
        ],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": [
            "'self'",
            "data:",
            "https://cdn.razorpay.com",
            *env.list("CSP_IMG_SRC", default=[]),
        ],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", *_RAZORPAY, "https://lumberjack.razorpay.com"],
        "frame-src": _RAZORPAY,
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *_RAZORPAY],
        "frame-ancestors": ["'none'"],
    },
}

# --- Logging: JSON lines carrying the request id -----------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOG_FORMAT = env("LOG_FORMAT", default="json")
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    # Stamps request_id, user_id and the ids views bind (exam_session_id, order_id).
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
        # Never log SQL parameters (they can carry hashes and personal data).
        "django.db.backends": {"level": "WARNING"},
        "django.server": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}

ADMIN_SITE_HEADER = "Examforge back office"
