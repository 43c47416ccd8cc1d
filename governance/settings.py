"""Django settings, read from the environment (see the README's configuration table)."""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from governance.env import (
    env_bool,
    env_counts,
    env_int,
    env_list,
    env_mapping,
    env_networks,
    env_str,
)

# Lets admin and other generic classes be subscripted for type checking.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
PRODUCTION = env_bool("PRODUCTION", False)

# Used only when PRODUCTION is off, so a deployment cannot run on it by accident.
_DEV_SECRET = "dev-only-insecure-key-not-for-production-use-0123456789abcdef"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when PRODUCTION is true")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For is believed when recording the client address
# (governance.middleware); empty trusts nobody and records the TCP peer.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "axes",
    "governance",
    "registry_ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "governance.middleware.RequestIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"

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
                "csp.context_processors.nonce",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'governance.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry_ui:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Security headers. Production mode passes `manage.py check --deploy` cleanly.
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        # Plotly sets inline style attributes on the SVG it draws.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first, so an unauthenticated call gets 401 with WWW-Authenticate.
        "governance.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "EXCEPTION_HANDLER": "governance.api.errors.api_exception_handler",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "30/minute"),
        "user": env_str("API_THROTTLE_USER", "2000/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "MLflow governance API",
    "VERSION": "1.0.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "SyncRunStatusEnum": "governance.models.mirror.SyncRun.Status",
        "RequestStatusEnum": "governance.models.workflow.TransitionRequest.Status",
    },
}

# MLflow sources. MLFLOW_TRACKING_URI becomes the source named "default";
# MLFLOW_SOURCES adds more as name=uri pairs. Webhook secrets are read per source
# from MLFLOW_WEBHOOK_SECRET_<NAME> at the moment they are needed.
MLFLOW_SOURCES: dict[str, str] = {}
if env_str("MLFLOW_TRACKING_URI"):
    MLFLOW_SOURCES["default"] = env_str("MLFLOW_TRACKING_URI")
MLFLOW_SOURCES.update(env_mapping("MLFLOW_SOURCES"))
MLFLOW_REQUEST_TIMEOUT = env_int("MLFLOW_REQUEST_TIMEOUT", 30, minimum=1)
# MLflow's client reports usage from a background thread that rewrites os.environ,
# racing threads that read it (seen as KeyError in requests); a dashboard has no use
# for it. Set before anything imports mlflow.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
MLFLOW_WEBHOOK_MAX_AGE_SECONDS = env_int("MLFLOW_WEBHOOK_MAX_AGE_SECONDS", 300, minimum=1)
SYNC_PAGE_SIZE = env_int("SYNC_PAGE_SIZE", 1000, minimum=1)
SYNC_READERS = env_int("SYNC_READERS", 4, minimum=1)

# Governance rules.
GOVERNED_ALIASES = env_list("GOVERNED_ALIASES", ["champion", "challenger"])
RISK_TIER_APPROVALS = env_counts("RISK_TIER_APPROVALS", {"low": 1, "medium": 1, "high": 2})
PRODUCTION_DATA_TAG = env_str("PRODUCTION_DATA_TAG", "data.production")
# Applying approved changes: transient MLflow errors back off from the base delay,
# doubling up to the cap; the relay re-sends a dispatched row after the lease.
# Logins (django-axes): this many failures for one username from one address lock
# that pair out for the cool-off; keying on both keeps anyone from locking a
# colleague out from elsewhere. The address is the one the ledger records.
AXES_FAILURE_LIMIT = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "governance.middleware.request_client_address"
AXES_LOCKOUT_CALLABLE = "registry_ui.views.login_lockout.locked_out"
# Successful logins are not kept in a second, unchained log beside the ledger.
AXES_DISABLE_ACCESS_LOG = True
# Usernames beyond the User model's 150 characters cannot log in anyway; axes keeps
# 255, and a longer one sent straight to authenticate() would fail to be stored.
AXES_USERNAME_CALLABLE = "governance.security_events.attempted_username"
# Signing: this many wrong passwords within the window lock an officer's signing
# until the oldest of them leaves it.
SIGNING_MAX_FAILURES = env_int("SIGNING_MAX_FAILURES", 5, minimum=1)
SIGNING_LOCKOUT_MINUTES = env_int("SIGNING_LOCKOUT_MINUTES", 15, minimum=1)
APPLY_RETRY_BASE_SECONDS = env_int("APPLY_RETRY_BASE_SECONDS", 10, minimum=0)
APPLY_RETRY_MAX_SECONDS = env_int("APPLY_RETRY_MAX_SECONDS", 600, minimum=1)
OUTBOX_DISPATCH_LEASE_SECONDS = env_int("OUTBOX_DISPATCH_LEASE_SECONDS", 300, minimum=0)

# Ledger checkpoints: Ed25519 private key (PEM, base64 or raw hex seed) from the
# environment, signed files written outside the database.
LEDGER_SIGNING_KEY = env_str("LEDGER_SIGNING_KEY")
# The public key alone (PEM, hex or base64), for a verifier kept from the private key;
# derived from LEDGER_SIGNING_KEY when unset.
LEDGER_VERIFY_KEY = env_str("LEDGER_VERIFY_KEY")
LEDGER_CHECKPOINT_DIR = Path(
    env_str("LEDGER_CHECKPOINT_DIR", str(BASE_DIR / "var" / "checkpoints"))
)

# Celery. Without REDIS_URL tasks run in-process, so the demo needs no broker.
REDIS_URL = env_str("REDIS_URL")
# A host in the URL keeps kombu from warning that none was supplied.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    # Prefixes every broker key, so deployments (or test runs) can share one Redis.
    "global_keyprefix": env_str("CELERY_BROKER_KEY_PREFIX"),
}
CELERY_BEAT_SCHEDULE = {
    "sync-incremental": {
        "task": "governance.sync_all_sources",
        "schedule": timedelta(seconds=env_int("SYNC_INCREMENTAL_SECONDS", 60, minimum=5)),
        "kwargs": {"full": False},
    },
    "sync-full": {
        "task": "governance.sync_all_sources",
        "schedule": timedelta(seconds=env_int("SYNC_FULL_SECONDS", 3600, minimum=60)),
        "kwargs": {"full": True},
    },
    "outbox-relay": {
        "task": "governance.relay_outbox",
        "schedule": timedelta(seconds=env_int("OUTBOX_RELAY_SECONDS", 30, minimum=5)),
    },
    "ledger-checkpoint": {
        "task": "governance.write_ledger_checkpoint",
        "schedule": timedelta(seconds=env_int("LEDGER_CHECKPOINT_SECONDS", 300, minimum=10)),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # django-axes announces itself at every start and logs each failure and lockout,
    # which governance.security_events already logs with the ledger entry's number.
    "loggers": {"axes": {"level": "ERROR"}},
}
