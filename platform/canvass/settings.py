"""Canvass settings: one file, driven by environment variables.

Defaults make `make demo` work on a laptop; with DJANGO_ENV=production the settings refuse to
start without the secrets a real deployment needs.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[2]


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def envint(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def envlist(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def envsecret(name: str) -> str:
    """Read a secret from NAME, or from the file NAME_FILE points to (Docker/K8s secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, "")


DJANGO_ENV = envstr("DJANGO_ENV", "development")
PRODUCTION = DJANGO_ENV == "production"
TESTING = "pytest" in sys.modules

if PRODUCTION:
    missing = [
        name
        # Redis: sign-in failures must be counted by every worker together (tenants.account_lock).
        for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "REDIS_URL")
        if not envsecret(name)
    ]
    if missing:
        raise ImproperlyConfigured(
            "DJANGO_ENV=production needs these environment variables: " + ", ".join(missing)
        )

DEBUG = envbool("DEBUG", not PRODUCTION)
SECRET_KEY = envsecret("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production-0123456789"

# Department portals live at <subdomain>.<CANVASS_BASE_DOMAIN>; the platform site at the
# PLATFORM_DOMAINS. Browsers resolve *.localhost to 127.0.0.1, so the defaults need no setup.
CANVASS_BASE_DOMAIN = envstr("CANVASS_BASE_DOMAIN", "localhost")
PLATFORM_DOMAINS = envlist("PLATFORM_DOMAINS", [CANVASS_BASE_DOMAIN, "127.0.0.1"])
ALLOWED_HOSTS = envlist(
    "ALLOWED_HOSTS", [CANVASS_BASE_DOMAIN, f".{CANVASS_BASE_DOMAIN}", "127.0.0.1"]
)
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])
# How links in emails reach a portal (no request to copy them from in scheduled jobs).
PORTAL_URL_SCHEME = envstr("PORTAL_URL_SCHEME", "https" if PRODUCTION else "http")
PORTAL_URL_PORT = envstr("PORTAL_URL_PORT", "" if PRODUCTION else "8000")

# --- Database ---
# Two roles (docs/operations.md): the application's (DATABASE_URL) owns nothing and may only add
# to and read the audit trail; the owner's (DATABASE_OWNER_URL, the "owner" alias) owns every
# schema and runs migrations and platform_setup. Production web processes need not have it.
DATABASE_URL = envsecret("DATABASE_URL")
DATABASE_OWNER_URL = envsecret("DATABASE_OWNER_URL")
if not DATABASE_URL:
    from canvass.embedded_db import embedded_database_urls

    DATABASE_URL, DATABASE_OWNER_URL = embedded_database_urls(BASE_DIR / ".data" / "pg")
elif not DATABASE_OWNER_URL and not PRODUCTION:
    import warnings

    # A server of one's own with a single login: everything works, nothing is protected.
    warnings.warn(
        "DATABASE_OWNER_URL is not set: migrations run as the DATABASE_URL role, which then "
        "owns the tables and can rewrite the audit trail. Set up two roles (docs/operations.md).",
        stacklevel=1,
    )
    DATABASE_OWNER_URL = DATABASE_URL

# Persistent connections in production (a connection per request costs more than most pages'
# queries), checked before each request reuses one; DB_CONN_MAX_AGE=0 closes them after each.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=envint("DB_CONN_MAX_AGE", 600 if PRODUCTION else 0),
        conn_health_checks=True,
    )
}
# The queries kept compiled (tenants.compiled: the canvass's, the session's) run as prepared
# statements, parsed and planned once per connection (tenants.postgresql). Off for a pooler
# that does not keep a connection's prepared statements (PgBouncer in transaction mode before
# 1.21; this project needs session mode anyway: docs/operations.md).
DATABASE_PREPARED_STATEMENTS = envbool("DB_PREPARED_STATEMENTS", True)
if DATABASE_OWNER_URL:
    DATABASES["owner"] = dj_database_url.parse(DATABASE_OWNER_URL)
for database in DATABASES.values():
    database["ENGINE"] = "django_tenants.postgresql_backend"
DATABASE_ROUTERS = ["django_tenants.routers.TenantSyncRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Tenancy (django-tenants: one PostgreSQL schema per department) ---
TENANT_MODEL = "tenants.Department"
TENANT_DOMAIN_MODEL = "tenants.Domain"
# New departments are cloned from this migrated, empty schema instead of running every
# migration; tenants.services keeps it current and falls back to migrating when it is absent.
TENANT_BASE_SCHEMA = "department_template"
TENANT_CREATION_FAKES_MIGRATIONS = True
PUBLIC_SCHEMA_URLCONF = "canvass.urls_public"
ROOT_URLCONF = "canvass.urls_tenant"
DEFAULT_NOT_FOUND_TENANT_VIEW = "tenants.views.unknown_host"
# `SET search_path` once per request (when the schema changes), not before every query: the
# backend forgets what it set on rollback, on a savepoint's rollback and on closing, and code
# that sets the path itself resets it (tenants.schema_clone).
TENANT_LIMIT_SET_CALLS = True
# platform_setup migrates the departments' schemas in parallel, one process per core.
TENANT_MULTIPROCESSING_MAX_PROCESSES = envint("MIGRATION_PROCESSES", os.cpu_count() or 1)
# An import's check job checks the rows' fields in this many forked processes, one per core by
# default; 1 checks them in the job's own process (registry_io.checked_rows). Without a broker
# the jobs run inside the web server's threads, where a fork could leave a child waiting on a
# lock another thread held: there, 1 unless set.
IMPORT_CHECK_PROCESSES = envint(
    "IMPORT_CHECK_PROCESSES", (os.cpu_count() or 1) if envstr("CELERY_BROKER_URL") else 1
)

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "billing",
    "console",
    "onboarding",
    "website",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",  # allauth's list of security keys loads its filters
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "leaflet",  # only for its copy of Leaflet's JS and CSS
]
# Accounts are per schema: each city has its own users and sessions, vendor staff live in public.
TENANT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "portal.registry",
    "portal.residents",
    "portal.department",
    "portal.liveview",
    "portal.oversight",
    "portal.access_notices",
    "portal.guardrails",
    "portal.transparency",
    "portal.council_reports",
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

# First the request id every log line carries; then the health and metrics endpoints, answered
# on any host (Kubernetes probes send the pod's address as Host) without a department, a
# redirect to HTTPS or a look at ALLOWED_HOSTS; then django-prometheus' counting (its second
# half last; RequestRoleMiddleware before it puts the user's role on log lines). The security
# headers come next: the pages DepartmentMiddleware answers by itself (an unknown host, a
# suspended department) get them too. Static files are answered before the department is looked
# up (they are the same for every city).
MIDDLEWARE = [
    "canvass.observability.middleware.RequestIdMiddleware",
    "canvass.observability.middleware.OperationsMiddleware",
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "tenants.middleware.DepartmentMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tenants.middleware.DepartmentLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.middleware.NoStoreMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    # Vendor support sessions on a city's host: checked on every request (console.middleware).
    "console.middleware.SupportSessionMiddleware",
    "portal.department.middleware.StaffSessionMiddleware",
    "canvass.observability.middleware.RequestRoleMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

# A city may override any template by placing it in CITY_TEMPLATES_DIR/<schema>/.
CITY_TEMPLATES_DIR = Path(envstr("CITY_TEMPLATES_DIR", str(BASE_DIR / "portal" / "cities")))
MULTITENANT_TEMPLATE_DIRS = [str(CITY_TEMPLATES_DIR / "%s")]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "tenants.context_processors.department",
            ],
            "loaders": [
                (
                    "django_tenants.template.loaders.cached.Loader",
                    [
                        "django_tenants.template.loaders.filesystem.Loader",
                        "django.template.loaders.app_directories.Loader",
                    ],
                )
            ],
        },
    }
]

WSGI_APPLICATION = "canvass.wsgi.application"
ASGI_APPLICATION = "canvass.asgi.application"

# --- Accounts (django-allauth) ---
AUTHENTICATION_BACKENDS = [
    # Django's and allauth's, with the signed-in user read by a kept query.
    "tenants.auth_backends.ModelBackend",
    "tenants.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "tenants.adapters.AccountAdapter"
# Every emailed key names its city (tenants.signing): set-password and reset keys, and the
# email-confirmation key (used by tenants.adapters: allauth has no setting for it).
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "tenants.signing.PasswordResetTokenGenerator"
ACCOUNT_SIGNUP_FORM_CLASS = "portal.residents.forms.SignupForm"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = False
LOGIN_REDIRECT_URL = "/"
# Staff sign in with a second factor: an authenticator app or a security key, and recovery codes.
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_TOTP_ISSUER = "Canvass"
# A code typed as its 30 seconds end reaches the server in the next period: the one just ended
# is accepted too (RFC 6238's one step of delay; allauth's default accepts none), and each code
# is still accepted once only, over the whole window (allauth keeps the used ones).
MFA_TOTP_TOLERANCE = 1
# Failed sign-ins and second-factor codes (tenants.account_lock): 5 lock an account from that
# address for 10 minutes; 20 from anywhere within an hour lock it everywhere for an hour and
# email its owner a single-use unlock link, valid a day. 30 idle minutes end a staff session,
# department or vendor (portal.department.middleware).
ACCOUNT_LOCK_AFTER_FAILURES = 5
ACCOUNT_LOCK_SECONDS = 10 * 60
ACCOUNT_THROTTLE_FAILURES = 20
ACCOUNT_THROTTLE_SECONDS = 60 * 60
ACCOUNT_UNLOCK_LINK_SECONDS = 24 * 60 * 60
# allauth keeps throttling by address; the locks above replace its per-key limit.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip"}
MFA_FORMS = {
    "authenticate": "tenants.adapters.LockingAuthenticateForm",
    "reauthenticate": "tenants.adapters.LockingReauthenticateForm",
}
STAFF_IDLE_SECONDS = 30 * 60
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Host-only cookies: a session on concord.example never reaches carrollton.example.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
LANGUAGE_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, read with a query written once (tenants.session_engine).
SESSION_ENGINE = "tenants.session_engine"
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Cache: keys carry the schema name, so one city's cache never answers another ----------------
REDIS_URL = envsecret("REDIS_URL")
CACHES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": (
            "django.core.cache.backends.redis.RedisCache"
            if REDIS_URL
            else "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": REDIS_URL or "canvass",
        # For deployments (or test runs) that share one Redis.
        "KEY_PREFIX": envstr("CACHE_KEY_PREFIX"),
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
    # Fragments of pages that depend only on the city and the language (a partial's scripts
    # with their translated messages, an unbound form's field), rendered once per process:
    # Django's {% cache %} tag reads this alias. In each process's memory, not in Redis (a
    # round trip costs about what rendering them does); the keys carry the city's schema.
    "template_fragments": {
        "BACKEND": "canvass.observability.cache.LocMemCache",
        "LOCATION": "canvass-template-fragments",
        "TIMEOUT": None,  # they change with a deployment, which starts new processes
        "OPTIONS": {"MAX_ENTRIES": 5000},
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    },
}

# --- Background jobs: Celery on Redis; without a broker (the demo) tasks run in-process ---
CELERY_TASK_ALWAYS_EAGER = not envstr("CELERY_BROKER_URL")
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True

# --- Payments: Stripe, through billing.gateway only. Without a key (the demo) checkout says
# payments are off here; the consoles still show what is recorded. ---------------------------
STRIPE_SECRET_KEY = envsecret("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = envsecret("STRIPE_WEBHOOK_SECRET")
# Days a resident keeps their integration after a failed renewal while Stripe retries the card.
BILLING_GRACE_DAYS = envint("BILLING_GRACE_DAYS", 14)

# --- Files: Django's storage API; S3-compatible storage in production through django-storages ----
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"
MEDIA_URL = envstr("MEDIA_URL", "/media/")
# The test suite's uploads go to a throwaway folder (tests/conftest.py removes it), never into
# .data: the settings are read before any test code could point them elsewhere.
FILES_ROOT = (
    Path(tempfile.gettempdir()) / f"canvass-test-files-{os.getpid()}"
    if TESTING
    else BASE_DIR / ".data"
)
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(FILES_ROOT / "media")))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Evidence (footage clips, import files) is private: never under a public URL, always under its
# city's prefix (portal.registry.storage), read only through audited views.
PRIVATE_ROOT = Path(envstr("PRIVATE_ROOT", str(FILES_ROOT / "private")))
STORAGES["evidence"] = {
    "BACKEND": "django.core.files.storage.FileSystemStorage",
    "OPTIONS": {"location": str(PRIVATE_ROOT), "base_url": None},
}
if envstr("STORAGE_BACKEND") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": envstr("S3_BUCKET"),
            "endpoint_url": envstr("S3_ENDPOINT_URL") or None,
            "region_name": envstr("S3_REGION") or None,
            "access_key": envsecret("S3_ACCESS_KEY"),
            "secret_key": envsecret("S3_SECRET_KEY"),
            # Public through the bucket's policy (anonymous s3:GetObject on logos/*), not
            # through object ACLs, which buckets with ACLs disabled refuse (docs/operations.md).
            "default_acl": None,
            "querystring_auth": False,
            # A CDN or the bucket's own public host name, when logos are served from one.
            "custom_domain": envstr("S3_PUBLIC_DOMAIN") or None,
            "file_overwrite": False,
        },
    }
    # Evidence in a bucket of its own, private, never public however the logos' bucket is set
    # up: the download view hands out URLs signed for one minute (portal.department.services).
    S3_EVIDENCE_BUCKET = envstr("S3_EVIDENCE_BUCKET")
    if S3_EVIDENCE_BUCKET in {"", envstr("S3_BUCKET")}:
        raise ImproperlyConfigured(
            "STORAGE_BACKEND=s3 needs S3_EVIDENCE_BUCKET: a private bucket for footage and "
            "import files, other than S3_BUCKET (which holds the public logos)"
        )
    STORAGES["evidence"] = {
        # django-storages' S3Storage, each object tagged with its kind for lifecycle rules.
        "BACKEND": "tenants.storage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": S3_EVIDENCE_BUCKET,
            "endpoint_url": envstr("S3_ENDPOINT_URL") or None,
            "region_name": envstr("S3_REGION") or None,
            "access_key": envsecret("S3_ACCESS_KEY"),
            "secret_key": envsecret("S3_SECRET_KEY"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 60,
            "signature_version": "s3v4",
            "file_overwrite": False,
        },
    }

# --- Security ---
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_SECURE = PRODUCTION
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31_536_000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind N proxies (a TLS terminator, a load balancer), the client is the Nth address from the
# right of X-Forwarded-For (tenants.http.client_ip: rate limits, locks, audit entries); with 0
# the header is ignored, since any client can write it.
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", 0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
# Pages opened from emailed links show personal data without a sign-in: never cached
# (tenants.middleware.NoStoreMiddleware; everything a signed-in person sees is never cached).
NO_STORE_PATH_PREFIXES = ["/answer/", "/verify/", "/accounts/"]
# --- Maps and geocoding ---
MAP_TILE_URL = envstr("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ORIGIN = "/".join(MAP_TILE_URL.split("/")[:3])
MAP_TILE_ATTRIBUTION = envstr(
    "MAP_TILE_ATTRIBUTION",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)
# A Nominatim-compatible search endpoint; unset, residents place the pin on the map themselves.
GEOCODER_URL = envstr("GEOCODER_URL")
GEOCODER_USER_AGENT = envstr("GEOCODER_USER_AGENT", "Canvass community camera registry")
GEOCODER_TIMEOUT = envint("GEOCODER_TIMEOUT", 5)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        # Branding colours arrive as CSS custom properties in a nonce'd <style> block.
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:", MAP_TILE_ORIGIN, *envlist("CSP_IMG_SRC", [])],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Live view: the media relay (platform/relay, `python -m relay`) ---
# MEDIA_RELAY_URL is where browsers and bridges reach the relay, {host} standing for the city's
# hostname: "http://{host}:8890" in the demo, "https://{host}/media" behind the TLS proxy
# (infra/relay.md). Empty: live view is off and the pages say so. The relay asks Canvass at
# MEDIA_RELAY_CANVASS_URL's /media/auth, with MEDIA_AUTH_KEY in the query.
MEDIA_RELAY_URL = envstr("MEDIA_RELAY_URL")
MEDIA_RELAY_CANVASS_URL = envstr("MEDIA_RELAY_CANVASS_URL", "http://127.0.0.1:8000")
MEDIA_AUTH_KEY = envsecret("MEDIA_AUTH_KEY")
if PRODUCTION and MEDIA_RELAY_URL and not MEDIA_AUTH_KEY:
    raise ImproperlyConfigured(
        "MEDIA_RELAY_URL is set: live view needs MEDIA_AUTH_KEY, the key the media relay "
        "sends to /media/auth (the same value in the relay's environment)"
    )
# Outside production a fixed key lets `make demo` start the relay with nothing to configure.
MEDIA_AUTH_KEY = MEDIA_AUTH_KEY or ("" if PRODUCTION else "dev-only-media-auth-key")

# Footage clips owners upload in answer to a notification.
FOOTAGE_MAX_BYTES = envint("FOOTAGE_MAX_BYTES", 500 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Logos are small marks in a header; anything larger is refused at upload.
LOGO_MAX_BYTES = envint("LOGO_MAX_BYTES", 512 * 1024)
LOGO_MAX_PIXELS = 2048

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's default configuration gives "django" a console handler of its own (in
        # DEBUG); with the root's, every message of Django's would be printed twice.
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        # The Stripe SDK logs every request at INFO; its errors reach billing.gateway anyway.
        "stripe": {"level": "WARNING"},
    },
}

# --- Scheduled jobs: Celery beat (issue 11) ---
# Every periodic job and its crontab is in canvass.schedule: beat fires one fan-out per job,
# which queues it for each serving department (docs/operations.md, "Scheduled jobs with Celery
# beat"). Run exactly one beat. Its default scheduler keeps the last runs in memory (no file to
# keep; a missed run is caught up by the next, every job being idempotent); set
# CELERY_BEAT_SCHEDULER=celery.beat:PersistentScheduler and CELERY_BEAT_SCHEDULE_FILENAME on a
# volume to keep them across restarts. Jobs go to Celery's default queue, "celery".
from canvass.schedule import beat_schedule  # noqa: E402

CELERY_BEAT_SCHEDULE = beat_schedule()
CELERY_BEAT_SCHEDULER = envstr("CELERY_BEAT_SCHEDULER") or "celery.beat:Scheduler"
CELERY_BEAT_SCHEDULE_FILENAME = envstr("CELERY_BEAT_SCHEDULE_FILENAME") or str(
    BASE_DIR / ".data" / "celerybeat-schedule"
)
CELERY_TIMEZONE = "UTC"
CELERY_TASK_DEFAULT_QUEUE = "celery"
# --- Vendor support access (issue 11) ---
# A support session lasts SUPPORT_SESSION_MINUTES unless the vendor asks for less or more (up to
# SUPPORT_SESSION_MAX_MINUTES); its reason needs SUPPORT_REASON_MIN_LENGTH characters; the
# single-use link that carries vendor staff from the platform into the city's console works for
# SUPPORT_ENTRY_LINK_SECONDS.
SUPPORT_SESSION_MINUTES = envint("SUPPORT_SESSION_MINUTES", 60)
SUPPORT_SESSION_MAX_MINUTES = envint("SUPPORT_SESSION_MAX_MINUTES", 240)
SUPPORT_REASON_MIN_LENGTH = envint("SUPPORT_REASON_MIN_LENGTH", 15)
SUPPORT_ENTRY_LINK_SECONDS = envint("SUPPORT_ENTRY_LINK_SECONDS", 120)
# --- Files and object storage (issue 11) ---
# Department archives (console.exports) are kept this many days after they are built, then
# department_exports_sweep deletes their files; a bucket lifecycle rule on <schema>/exports/
# can back it up (docs/operations.md, "Files and object storage").
DEPARTMENT_EXPORT_KEEP_DAYS = envint("DEPARTMENT_EXPORT_KEEP_DAYS", 7)
# --- Email per city (issue 11) ---
# EMAIL_PROVIDER picks how mail leaves: "smtp" (EMAIL_HOST...), "console" (printed; the demo),
# or any provider django-anymail supports ("postmark", "mailgun", "sendgrid", "amazon_ses",
# "brevo", ...), whose webhook reports bounces and complaints (portal.registry.bounces).
# Every department's email goes From "<program name>" <DEFAULT_FROM_EMAIL's address>, with
# the department's own Reply-To and its schema in the provider's metadata (tenants.mail).
EMAIL_PROVIDER = envstr("EMAIL_PROVIDER", "smtp" if PRODUCTION else "console").strip().lower()
# The provider's credential setting for anymail, by provider (Amazon SES reads boto3's own
# AWS_* variables or the machine's role; Mailjet also needs EMAIL_API_SECRET).
ANYMAIL_CREDENTIALS = {
    "amazon_ses": "",
    "brevo": "BREVO_API_KEY",
    "mailersend": "MAILERSEND_API_TOKEN",
    "mailgun": "MAILGUN_API_KEY",
    "mailjet": "MAILJET_API_KEY",
    "mailtrap": "MAILTRAP_API_TOKEN",
    "mandrill": "MANDRILL_API_KEY",
    "postal": "POSTAL_API_KEY",
    "postmark": "POSTMARK_SERVER_TOKEN",
    "resend": "RESEND_API_KEY",
    "scaleway": "SCALEWAY_SECRET_KEY",
    "sendgrid": "SENDGRID_API_KEY",
    "sparkpost": "SPARKPOST_API_KEY",
    "unisender_go": "UNISENDER_GO_API_KEY",
}
ANYMAIL: dict[str, Any] = {
    # "user:password" the provider sends (HTTP basic auth) when it calls /anymail/.../tracking/;
    # several, comma-separated, while rotating it.
    "WEBHOOK_SECRET": [
        secret.strip() for secret in envsecret("EMAIL_WEBHOOK_SECRET").split(",") if secret.strip()
    ],
    # A refused recipient (a suppressed address) must not stop a notice to a whole area: the
    # refusal is recorded on the address (portal.registry.bounces) and the sending goes on.
    "IGNORE_RECIPIENT_STATUS": True,
}
if EMAIL_PROVIDER == "smtp":
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif EMAIL_PROVIDER == "console":
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
elif EMAIL_PROVIDER in ANYMAIL_CREDENTIALS:
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER}.EmailBackend"
    _esp = EMAIL_PROVIDER.upper()
    if ANYMAIL_CREDENTIALS[EMAIL_PROVIDER]:
        ANYMAIL[ANYMAIL_CREDENTIALS[EMAIL_PROVIDER]] = envsecret("EMAIL_API_KEY")
    if envsecret("EMAIL_API_SECRET"):  # Mailjet's secret key
        ANYMAIL[f"{_esp}_SECRET_KEY"] = envsecret("EMAIL_API_SECRET")
    if envstr("EMAIL_API_URL"):  # another region (Mailgun EU, ...) or a Postal server
        ANYMAIL[f"{_esp}_API_URL"] = envstr("EMAIL_API_URL")
    # Providers that sign their webhooks as well (required by anymail for MailerSend, Resend,
    # Postal and Mandrill; optional for Mailgun).
    _signing_key = {
        "mailgun": "MAILGUN_WEBHOOK_SIGNING_KEY",
        "mailersend": "MAILERSEND_SIGNING_SECRET",
        "resend": "RESEND_SIGNING_SECRET",
        "postal": "POSTAL_WEBHOOK_KEY",
        "mandrill": "MANDRILL_WEBHOOK_KEY",
    }.get(EMAIL_PROVIDER)
    if _signing_key and envsecret("EMAIL_WEBHOOK_SIGNING_KEY"):
        ANYMAIL[_signing_key] = envsecret("EMAIL_WEBHOOK_SIGNING_KEY")
    if PRODUCTION:
        _missing = [
            name
            for name, needed in (
                ("EMAIL_API_KEY", bool(ANYMAIL_CREDENTIALS[EMAIL_PROVIDER])),
                # Without it anyone could mark any resident's address undeliverable.
                ("EMAIL_WEBHOOK_SECRET", True),
            )
            if needed and not envsecret(name)
        ]
        if _missing:
            raise ImproperlyConfigured(
                f"EMAIL_PROVIDER={EMAIL_PROVIDER} needs "
                + " and ".join(_missing)
                + " (docs/operations.md, Email)"
            )
else:
    raise ImproperlyConfigured(
        f"EMAIL_PROVIDER={EMAIL_PROVIDER!r} is not known: use smtp, console or one of "
        + ", ".join(sorted(ANYMAIL_CREDENTIALS))
    )
# SMTP (EMAIL_PROVIDER=smtp).
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 30)
# The address every email is sent from; a department's emails carry its program's name before
# it. Its domain must be verified with the provider (SPF, DKIM).
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Canvass <no-reply@canvass.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# --- Health, metrics and logs (issue 11) ---
# prometheus_client's multiprocess mode (gunicorn sets the folder, the image's entrypoint empties
# it) needs the folder before the first metric is made: a process started without the
# entrypoint (a one-off command, a container whose command replaces it) makes it here.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
# /health/live, /health/ready and /metrics: canvass.observability (docs/operations.md).
# Database queries counted by django-prometheus (tenants.postgresql subclasses its backend to read
# times with psycopg's C loader); django-tenants' backend wraps this one.
ORIGINAL_BACKEND = "tenants.postgresql"
# Cache reads, hits and misses counted too (same backends as above, with counters).
CACHES["default"]["BACKEND"] = (
    "canvass.observability.cache.RedisCache"
    if REDIS_URL
    else "canvass.observability.cache.LocMemCache"
)
# /metrics answers a request with `Authorization: Bearer METRICS_TOKEN`, or one (without a
# token) from METRICS_ALLOWED_NETWORKS; nobody else. Outside production, this machine may look.
METRICS_TOKEN = envsecret("METRICS_TOKEN")
METRICS_ALLOWED_NETWORKS = envlist(
    "METRICS_ALLOWED_NETWORKS", [] if PRODUCTION else ["127.0.0.0/8", "::1/128"]
)
try:
    for network in METRICS_ALLOWED_NETWORKS:
        ipaddress.ip_network(network, strict=False)
except ValueError as error:
    raise ImproperlyConfigured(f"METRICS_ALLOWED_NETWORKS: {error}") from error
# The per-department gauges (sites, searches) cost one query per schema: computed at most this
# often, by one process, and shared through the cache.
METRICS_DEPARTMENTS_SECONDS = envint("METRICS_DEPARTMENTS_SECONDS", 300)
# The Celery queues whose depth is reported (default: the Celery app's queues).
METRICS_CELERY_QUEUES = envlist("METRICS_CELERY_QUEUES", [])
# Logs: one JSON object per line in production (LOG_FORMAT=json), plain lines elsewhere; both
# carry the request id, the department and the user's role, and neither an email nor an IP
# address (canvass.observability.logs).
LOG_FORMAT = envstr("LOG_FORMAT", "json" if PRODUCTION else "text")
if LOG_FORMAT not in {"json", "text"}:
    raise ImproperlyConfigured("LOG_FORMAT must be json or text")
LOGGING["filters"] = {"context": {"()": "canvass.observability.logs.LogContextFilter"}}
LOGGING["formatters"] = {
    "json": {"()": "canvass.observability.logs.JsonFormatter"},
    "text": {"()": "canvass.observability.logs.TextFormatter"},
}
LOGGING["handlers"] = {
    "console": {"class": "logging.StreamHandler", "filters": ["context"], "formatter": LOG_FORMAT}
}
# Errors to Sentry when SENTRY_DSN is set, personal data removed (canvass.observability.errors).
SENTRY_DSN = envsecret("SENTRY_DSN")
if SENTRY_DSN:
    from canvass.observability.errors import sentry_init

    sentry_init(
        dsn=SENTRY_DSN,
        environment=envstr("SENTRY_ENVIRONMENT", DJANGO_ENV),
        release=envstr("SENTRY_RELEASE"),
        traces_sample_rate=float(envstr("SENTRY_TRACES_SAMPLE_RATE", "0")),
    )

# Program requests on the platform site (issue 15, onboarding.requests): how many a client
# address may submit per hour and an email address per day, how many live subdomain checks an
# address may make per minute, how often a confirmation link may be sent again, and the review
# time the requester is promised (business days).
PROGRAM_REQUESTS_PER_ADDRESS_HOUR = envint("PROGRAM_REQUESTS_PER_ADDRESS_HOUR", 5)
PROGRAM_REQUESTS_PER_EMAIL_DAY = envint("PROGRAM_REQUESTS_PER_EMAIL_DAY", 3)
PROGRAM_REQUEST_SUBDOMAIN_CHECKS_PER_MINUTE = envint(
    "PROGRAM_REQUEST_SUBDOMAIN_CHECKS_PER_MINUTE", 30
)
PROGRAM_REQUEST_RESENDS_PER_HOUR = envint("PROGRAM_REQUEST_RESENDS_PER_HOUR", 3)
PROGRAM_REQUEST_REVIEW_BUSINESS_DAYS = envint("PROGRAM_REQUEST_REVIEW_BUSINESS_DAYS", 3)
# --- The platform site (issue 15: the public website) ---
# Where the source code is published (linked from every page of the platform site), and where
# vulnerabilities are reported (the security statement).
CANVASS_SOURCE_URL = envstr("CANVASS_SOURCE_URL", "https://github.com/canvass-registry/canvass")
SECURITY_CONTACT_EMAIL = envstr("SECURITY_CONTACT_EMAIL", f"security@{CANVASS_BASE_DOMAIN}")
# How long a rendered public page is kept and served again to visitors without a session
# (tenants.page_cache); the pricing page, which reads the device catalogue, a shorter time.
WEBSITE_PAGE_SECONDS = envint("WEBSITE_PAGE_SECONDS", 300)
WEBSITE_PRICING_SECONDS = envint("WEBSITE_PRICING_SECONDS", 60)
# A city's landing page, kept the same way for anonymous visitors (tenants.page_cache); a
# change to the department or its branding is seen at once, a device plan put on sale within this.
PORTAL_LANDING_SECONDS = envint("PORTAL_LANDING_SECONDS", 30)

# --- A worker killed (issue 16, point 3): its tasks come back, its leftovers go ---
# With Redis as the broker, a task a worker took and never acknowledged (tasks are acknowledged
# after they run, CELERY_TASK_ACKS_LATE) goes back to its queue once this many seconds have
# passed since it was delivered: how long a task killed with its worker waits before another
# worker runs it again. Longer than any task normally runs: a task still running when it passes
# is delivered a second time, which each of these tasks tolerates (claims and locks), but does
# for nothing. Tests use a few seconds.
TASK_REDELIVERY_SECONDS = envint("TASK_REDELIVERY_SECONDS", 900)
# The broker's look for such tasks: at a worker's start, then every quarter of that time (at
# most every 30 s; kombu's default looks every 100 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": TASK_REDELIVERY_SECONDS,
    "unacked_restore_interval": max(1, min(30, TASK_REDELIVERY_SECONDS // 4)),
    "unacked_restore_throttle": 1,
}
# --- Redis down (issue 16: failure modes) ---
# The default cache answers as an empty cache while Redis does not answer, except the sign-in
# locks, which read its strict twin (canvass.observability.cache, tenants.cache): staff
# sign-ins are then refused with a message, residents' go ahead uncounted (tenants.adapters).
# A Redis that hangs rather than refuses is given up on after CACHE_REDIS_TIMEOUT_SECONDS.
CACHE_REDIS_TIMEOUT_SECONDS = envint("CACHE_REDIS_TIMEOUT_SECONDS", 1)
if REDIS_URL:
    CACHES["default"]["OPTIONS"] = {
        "socket_connect_timeout": CACHE_REDIS_TIMEOUT_SECONDS,
        "socket_timeout": CACHE_REDIS_TIMEOUT_SECONDS,
    }
# Tasks handed to the broker through the transactional outbox (tenants.outbox: area notices and
# footage requests): a request does not wait long for a broker that is down (a few tries within
# about a second, then the outbox keeps the task), and the outbox job (every minute) hands over
# again what failed at once, and what was never tried after OUTBOX_GRACE_SECONDS.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = envint("CELERY_BROKER_CONNECTION_TIMEOUT", 2)
CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = 2
OUTBOX_GRACE_SECONDS = envint("OUTBOX_GRACE_SECONDS", 60)
# Dispatched outbox rows are deleted by the outbox job after this many days.
OUTBOX_KEEP_DAYS = envint("OUTBOX_KEEP_DAYS", 7)
# --- Storage failures (issue 16: faults) ---
# A file is stored whole or not at all: tenants.storage.AtomicFileSystemStorage writes to a
# temporary file and links it into place, so a full disk leaves no truncated file behind.
for _alias in ("default", "evidence"):
    if STORAGES[_alias]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
        STORAGES[_alias]["BACKEND"] = "tenants.storage.AtomicFileSystemStorage"
# S3 that does not answer fails a request in seconds, within gunicorn's 30 s timeout (a worker
# killed mid-request would answer nothing): a connection is given S3_CONNECT_TIMEOUT seconds, a
# read S3_READ_TIMEOUT, and a call S3_MAX_ATTEMPTS attempts in all (botocore's standard retry
# mode: a short backoff between them; refused connections, timeouts, 5xx and throttling are
# retried). botocore's own defaults (60 s reads, 5 attempts) would hang a page for minutes.
S3_CONNECT_TIMEOUT = envint("S3_CONNECT_TIMEOUT", 3)
S3_READ_TIMEOUT = envint("S3_READ_TIMEOUT", 10)
S3_MAX_ATTEMPTS = envint("S3_MAX_ATTEMPTS", 2)
if envstr("STORAGE_BACKEND") == "s3":
    from botocore.config import Config as _S3Config

    for _alias in ("default", "evidence"):
        STORAGES[_alias]["OPTIONS"]["client_config"] = _S3Config(
            connect_timeout=S3_CONNECT_TIMEOUT,
            read_timeout=S3_READ_TIMEOUT,
            retries={"max_attempts": S3_MAX_ATTEMPTS, "mode": "standard"},
            signature_version=STORAGES[_alias]["OPTIONS"].get("signature_version"),
        )
# --- The host lookup's cache per process (issue 14, landing page) ---
# How long a process keeps a host's department without reading it again (tenants.middleware.
# department_for_host). Changes through the models (a suspension) reach every process within a
# second through a version stamp in the shared cache (Redis); without Redis, or for changes
# made by queryset updates, a process may serve what it kept for up to this long. 0: no cache.
TENANT_HOST_CACHE_SECONDS = float(envstr("TENANT_HOST_CACHE_SECONDS", "5"))
# --- Address search (issue 12, item 1: find a place by address) ---
# Each department chooses its provider (Program.geocoder: none, nominatim, census, gazetteer);
# the deployment says where each one is. GEOCODER_URL (above) is the Nominatim-compatible
# service; unset, "nominatim" departments have no address search. The Census Bureau's geocoder
# is public and needs no key; set GEOCODER_CENSUS_URL empty to turn it off. The gazetteer is a
# directory of local street lists (one JSON file per city), the offline demo's provider.
GEOCODER_CENSUS_URL = envstr("GEOCODER_CENSUS_URL", "https://geocoding.geo.census.gov/geocoder")
GEOCODER_CENSUS_BENCHMARK = envstr("GEOCODER_CENSUS_BENCHMARK", "Public_AR_Current")
GEOCODER_GAZETTEER_DIR = envstr(
    "GEOCODER_GAZETTEER_DIR", str(BASE_DIR / "portal" / "registry" / "gazetteer")
)
# Answers (found or not) are kept this long, so that typing does not repeat a question.
GEOCODER_CACHE_SECONDS = envint("GEOCODER_CACHE_SECONDS", 600)
# Address searches one person may make per minute (autocomplete asks once per pause in typing).
GEOCODER_REQUESTS_PER_MINUTE = envint("GEOCODER_REQUESTS_PER_MINUTE", 60)

# --- Department console: clip previews (issue 12, console part) ---
# The canvass previews owners' videos with <video>, from our origin (clip_download ?preview=1)
# or, with S3 evidence storage, by a redirect to a signed URL on the bucket's origin: list that
# origin in CSP_MEDIA_SRC (and CSP_IMG_SRC for image previews), or previews stay blank there
# and clips are downloaded instead.
CONTENT_SECURITY_POLICY["DIRECTIVES"]["media-src"] = [SELF, *envlist("CSP_MEDIA_SRC", [])]
