"""Canvass settings: one file, driven by environment variables.

Defaults make `make demo` work on a laptop; with DJANGO_ENV=production the settings refuse to
start without the secrets a real deployment needs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

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
        name for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS") if not envsecret(name)
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
DATABASE_URL = envsecret("DATABASE_URL")
if not DATABASE_URL:
    from canvass.embedded_db import embedded_database_url

    DATABASE_URL = embedded_database_url(BASE_DIR / ".data" / "pg")

DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=envint("DB_CONN_MAX_AGE", 0))
}
DATABASES["default"]["ENGINE"] = "django_tenants.postgresql_backend"
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

SHARED_APPS = [
    "django_tenants",
    "tenants",
    "console",
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
]
INSTALLED_APPS = SHARED_APPS + [app for app in TENANT_APPS if app not in SHARED_APPS]

MIDDLEWARE = [
    "tenants.middleware.DepartmentMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "tenants.middleware.DepartmentLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portal.department.middleware.StaffSessionMiddleware",
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
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "tenants.adapters.AccountAdapter"
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
# 5 failed sign-ins lock an account for 10 minutes (tenants.adapters); 30 idle minutes end a
# staff session (portal.department.middleware).
ACCOUNT_LOCK_AFTER_FAILURES = 5
# allauth keeps throttling by address; the per-account lock above replaces its per-key limit.
ACCOUNT_RATE_LIMITS = {"login_failed": "20/m/ip"}
ACCOUNT_LOCK_SECONDS = 10 * 60
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
SESSION_COOKIE_SAMESITE = "Lax"

# --- Internationalisation ---
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "portal" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Cache: keys carry the schema name, so one city's cache never answers another ----------------
REDIS_URL = envstr("REDIS_URL")
CACHES = {
    "default": {
        "BACKEND": (
            "django.core.cache.backends.redis.RedisCache"
            if REDIS_URL
            else "django.core.cache.backends.locmem.LocMemCache"
        ),
        "LOCATION": REDIS_URL or "canvass",
        "KEY_FUNCTION": "django_tenants.cache.make_key",
        "REVERSE_KEY_FUNCTION": "django_tenants.cache.reverse_key",
    }
}

# --- Background jobs: Celery on Redis; without a broker (the demo) tasks run in-process ---
CELERY_TASK_ALWAYS_EAGER = not envstr("CELERY_BROKER_URL")
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL") or "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True

# --- Files: Django's storage API; S3-compatible storage in production through django-storages ----
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"
MEDIA_URL = envstr("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(envstr("MEDIA_ROOT", str(BASE_DIR / ".data" / "media")))
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
# Evidence (footage clips, import files) is private: never under a public URL, always under its
# city's prefix (portal.registry.storage), read only through audited views.
PRIVATE_ROOT = Path(envstr("PRIVATE_ROOT", str(BASE_DIR / ".data" / "private")))
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
            "default_acl": None,
            "querystring_auth": False,
            "file_overwrite": False,
        },
    }

# --- Email ---
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 25)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envsecret("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Canvass <no-reply@canvass.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

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
    },
}
