"""Django settings: the embedded default (SQLite, demo-friendly) and production from the environment.

Environment: ``DATABASE_URL`` (e.g. ``postgres://user@127.0.0.1:5432/carbonmeter``; default SQLite in
``var/``), ``CARBONMETER_SECRET_KEY``, ``CARBONMETER_DEBUG`` (``1`` only for development),
``CARBONMETER_ALLOWED_HOSTS`` (comma-separated), ``CARBONMETER_EMAIL_*`` for reminders.  With debug off the
secret key must be given and cookies are secure.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

HERE = Path(__file__).resolve().parent
ROOT = Path(os.environ.get("CARBONMETER_HOME", Path.cwd()))
#: The installation's own data (SQLite database, lake, media, cache): ignored by git, created here.
VAR = ROOT / "var"
VAR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("CARBONMETER_DEBUG", "0") == "1"
SECRET_KEY = os.environ.get("CARBONMETER_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("CARBONMETER_SECRET_KEY must be set when CARBONMETER_DEBUG is not 1")
    SECRET_KEY = "dev-only-insecure-key-for-the-embedded-demo"
ALLOWED_HOSTS = [
    h for h in os.environ.get("CARBONMETER_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "django_q",
    "ninja",
    "carbonmeter.web.accounts",
    "carbonmeter.web.registry",
    "carbonmeter.web.metrology",
    "carbonmeter.web.assessment",
    "carbonmeter.web.readings",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "carbonmeter.web.accounts.scope.ReadableOrgsPerRequest",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "carbonmeter.web.urls"
WSGI_APPLICATION = "carbonmeter.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    }
]


def _database() -> dict[str, object]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return dict(dj_database_url.parse(url, conn_max_age=60))
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR / "carbonmeter.sqlite3",
        # WAL lets readers run beside the one writer; IMMEDIATE avoids "database is locked" on upgrade.
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
        # Kept open between requests, as on PostgreSQL: opening one (the file, the WAL's shared memory, the
        # schema of every table) cost about 2 ms of CPU per request, as much as the rest of a cached page.
        "CONN_MAX_AGE": 60,
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
#: Column and table comments are written on PostgreSQL; SQLite has none, which is expected.
SILENCED_SYSTEM_CHECKS = ["fields.W163", "models.W046"]

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
#: Login attempts counted in the database (``carbonmeter.web.accounts.throttle``): ``attempts`` failures per
#: username and ``address_attempts`` per client address within ``window_seconds``, after which the login is
#: refused (429). The address limit is larger: people behind one NAT share an address, and one of them
#: locking their own account must not lock out the others.
LOGIN_THROTTLE = {"attempts": 5, "address_attempts": 30, "window_seconds": 900}

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [HERE / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [HERE / "static"]
STATIC_ROOT = VAR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR / "media"
#: The readings' Parquet lake (docs/specs/readings.md): partitioned org=/y=/m=, read by DuckDB.
CARBONMETER_LAKE = Path(os.environ.get("CARBONMETER_LAKE", str(VAR / "lake")))
#: A file of more rows is refused before it is read (a batch is validated in memory, about 200 bytes a row):
#: 20 M rows is seven months of 1,000 points at 15 minutes; split larger files by month.
CARBONMETER_INGEST_MAX_ROWS = int(os.environ.get("CARBONMETER_INGEST_MAX_ROWS", "20000000"))
#: Largest uploaded document (archive files, calibration certificates, admin file fields, workbooks):
#: ``carbonmeter.web.uploads`` checks it with the file's type. Readings files have their own limit.
CARBONMETER_UPLOAD_MAX_BYTES = int(os.environ.get("CARBONMETER_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))
#: Nothing younger than the rule packs' ``data_retention_years`` (6.4.6) can be deleted from the lake; this
#: may lengthen it (never shorten it). Unset: the packs' value.
CARBONMETER_RETENTION_YEARS = (
    int(os.environ["CARBONMETER_RETENTION_YEARS"]) if os.environ.get("CARBONMETER_RETENTION_YEARS") else None
)

#: A file cache in var/ is shared by every worker process on the host (the login throttle counts in the
#: database, not here); set a shared backend here for several hosts.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": VAR / "cache",
    }
}

Q_CLUSTER = {
    "name": "carbonmeter",
    "orm": "default",
    "workers": 1,
    "timeout": 300,
    "retry": 600,
    "catch_up": False,
}

EMAIL_BACKEND = os.environ.get("CARBONMETER_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("CARBONMETER_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("CARBONMETER_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("CARBONMETER_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("CARBONMETER_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("CARBONMETER_EMAIL_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("CARBONMETER_EMAIL_SSL", "0") == "1"
EMAIL_TIMEOUT = int(os.environ.get("CARBONMETER_EMAIL_TIMEOUT", "30"))
DEFAULT_FROM_EMAIL = os.environ.get("CARBONMETER_EMAIL_FROM", "carbonmeter@localhost")

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
#: Sessions are kept in the database and read through the cache (every page reads its session first; a
#: logout or a new login deletes both).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
if not DEBUG:
    SESSION_COOKIE_SECURE = os.environ.get("CARBONMETER_INSECURE_COOKIES", "0") != "1"
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_HSTS_SECONDS = int(os.environ.get("CARBONMETER_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("CARBONMETER_HSTS_SUBDOMAINS", "1") == "1"
    # Preloading is a permanent, domain-wide commitment for the plant's domain: opt in, never by default.
    SECURE_HSTS_PRELOAD = os.environ.get("CARBONMETER_HSTS_PRELOAD", "0") == "1"
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, "security.W021"]
    SECURE_SSL_REDIRECT = os.environ.get("CARBONMETER_SSL_REDIRECT", "0") == "1"
    # Only behind a proxy that sets X-Forwarded-Proto itself; otherwise a client could claim HTTPS.
    if os.environ.get("CARBONMETER_BEHIND_PROXY", "0") == "1":
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

from carbonmeter.rules.loader import industry_packs as _industry_packs  # noqa: E402

#: The rule pack the web app assesses with unless an organization names another.
CARBONMETER_DEFAULT_PACK = os.environ.get("CARBONMETER_PACK", "cq-part1")
#: Industry → the rule pack an organization of that industry is judged by when it names none (its
#: ``pack`` blank): the "N" of the standard's "1+N" parts.  The table is the packs' own
#: (``rules/packs/industries.yaml``), the one the command line reads too; a deployment may replace it here.
CARBONMETER_INDUSTRY_PACKS: dict[str, str] = _industry_packs()
#: Days before a verification falls due at which reminders go out.
CARBONMETER_REMINDER_DAYS = tuple(
    int(d) for d in os.environ.get("CARBONMETER_REMINDER_DAYS", "30,7").split(",") if d.strip()
)
#: The display bands of the register's filter and the verification plan: "due within 30 days", "31–60",
#: "61–90" (ascending day counts).  Display only: whether an instrument is *due soon* is the rule pack's
#: ``verification_due_soon_days``, never this.
CARBONMETER_DUE_BANDS = tuple(
    sorted(int(d) for d in os.environ.get("CARBONMETER_DUE_BANDS", "30,60,90").split(",") if d.strip())
)
