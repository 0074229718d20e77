"""All settings, read from the environment in this one place.

Defaults serve development (SQLite in var/, Redis on localhost, .eml outbox, images under
var/media/); production sets DEBUG=0, SECRET_KEY, HASH_KEY, DATABASE_URL, REDIS_URL, ALLOWED_HOSTS,
SITE_URL, an ESP backend, DEFAULT_FROM_EMAIL, SENDER_POSTAL_ADDRESS and where article images live
(AWS_STORAGE_BUCKET_NAME, or an absolute MEDIA_URL). With DEBUG off a development default that
would fail silently (mail to .eml files, an example.com sender, the demo's postal address, images
nobody can load) refuses to start instead. The README's configuration table lists every variable
read here.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
import sys
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config import broker

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}: {value!r} is not one of {', '.join(repr(c) for c in choices)}")
    return value


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_networks(name: str) -> list[str]:
    """Comma-separated IP addresses / CIDR networks; a typo refuses to start rather than
    silently trusting nothing (or, worse, the wrong network)."""
    values = env_list(name)
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError as error:
            raise ImproperlyConfigured(f"{name}: {value!r} is not an IP address or CIDR network") from error
    return values


DEBUG = env_bool("DEBUG", True)


def _secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. With DEBUG off the application refuses to start without one: "
            "set SECRET_KEY in the environment to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))')."
        )
    # Development: generate a key once and keep it, so sessions and signed links survive restarts.
    key_file = VAR_DIR / "dev-secret-key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
    return key_file.read_text().strip()


def _required_in_production(name: str, *, why: str) -> str:
    """A variable the process refuses to start without when DEBUG is off (like SECRET_KEY)."""
    value = os.environ.get(name, "")
    if not value and not DEBUG:
        raise ImproperlyConfigured(
            f"{name} is not set. With DEBUG off the application refuses to start without it: {why}"
        )
    return value


def _refuse_in_production(name: str, *, problem: str, fix: str) -> ImproperlyConfigured:
    """The refusal of a value that would let production fail silently (mail nobody receives,
    images nobody can load): said the way SECRET_KEY's is, naming the variable and the fix."""
    return ImproperlyConfigured(
        f"{name} {problem}. With DEBUG off the application refuses to start with this setting: {fix}"
    )


SECRET_KEY = _secret_key()
# Rotating SECRET_KEY: put the old key here (comma-separated, newest first) so links already
# emailed (unsubscribe, preferences, confirmation) and sessions still verify; drop it later.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# Key for hashes kept long-term (suppression list, consent IP/UA, reader cookies); keep it when
# rotating SECRET_KEY. Defaulting to SECRET_KEY in production would tie the two together.
HASH_KEY = (
    _required_in_production(
        "HASH_KEY",
        why="it keys the suppression list and consent hashes and must outlive SECRET_KEY rotations; "
        "set it to a long random string, different from SECRET_KEY, and never change it.",
    )
    or SECRET_KEY
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Reverse proxies whose X-Forwarded-For is believed (config.client_ip): the addresses the app
# server sees connections from (the load balancer, nginx), e.g. "10.0.0.0/8,127.0.0.1".
# Empty: REMOTE_ADDR is the client, as when the app is reached directly.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.syndication",
    "anymail",
    "axes",
    "csp",
    "django_celery_beat",
    "articles",
    "newsletter",
]

MIDDLEWARE = [
    "config.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.csp.ContentSecurityPolicyMiddleware",
    # Last, as django-axes requires: it turns a lockout raised during login into its response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, worker and beat share one SQLite file in development: WAL lets readers
    # run beside the writer, IMMEDIATE transactions and a timeout queue writers instead of failing.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # A file, not :memory:, so Celery worker processes started by integration tests see it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test-db.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "cache",
    }
}

CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = os.environ.get("TIME_ZONE", "Asia/Baghdad")
# Tasks are idempotent (row claims in the database), so a task whose worker died is run again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_ROUTES = {
    "newsletter.tasks.send_batch": {"queue": "send"},
}
CELERY_TASK_DEFAULT_QUEUE = "celery"
# --- Celery broker (issue 26) ----------------------------------------------------------------
# Redis by default, so the embedded run and existing deployments change nothing; an amqp:// URL
# puts the queues on RabbitMQ with quorum queues and publisher confirms (config.broker says why).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = broker.transport_options(
    CELERY_BROKER_URL, visibility_timeout=env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
)
CELERY_TASK_QUEUES = broker.task_queues(CELERY_BROKER_URL, default=CELERY_TASK_DEFAULT_QUEUE, routes=CELERY_TASK_ROUTES)
# --- end of the broker block -----------------------------------------------------------------
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Email ----------------------------------------------------------------------------------
OUTBOX_EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"
# Backends that deliver nothing: the development outbox and Django's own test/debug backends.
UNDELIVERING_EMAIL_BACKENDS = frozenset(
    {
        OUTBOX_EMAIL_BACKEND,
        "django.core.mail.backends.console.EmailBackend",
        "django.core.mail.backends.dummy.EmailBackend",
        "django.core.mail.backends.filebased.EmailBackend",
        "django.core.mail.backends.locmem.EmailBackend",
    }
)
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or OUTBOX_EMAIL_BACKEND
if not DEBUG and EMAIL_BACKEND in UNDELIVERING_EMAIL_BACKENDS:
    raise _refuse_in_production(
        "EMAIL_BACKEND",
        problem="is not set"
        if not os.environ.get("EMAIL_BACKEND")
        else f"is {EMAIL_BACKEND!r}, which delivers nothing",
        fix="every email would be written to files on this machine (or nowhere) and no reader would get it; "
        "set EMAIL_BACKEND to your ESP's backend, e.g. anymail.backends.mailgun.EmailBackend with its ANYMAIL_* "
        "settings, or django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST.",
    )
# The ESP whose tracking webhooks answer at /anymail/<esp>/tracking/ (every other ESP's URL is a
# 404). Empty: the ESP of EMAIL_BACKEND (none for SMTP and the outbox). newsletter.delivery.webhooks
WEBHOOK_ESP = os.environ.get("WEBHOOK_ESP", "")
EMAIL_OUTBOX_DIR = Path(os.environ.get("EMAIL_OUTBOX_DIR") or VAR_DIR / "outbox")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "النشرة الإخبارية <newsletter@example.com>")
# example.com, .org and .net are reserved for documentation (RFC 2606): mail from them fails
# SPF/DKIM/DMARC everywhere, and the development default is one of them.
RESERVED_EMAIL_DOMAINS = ("example.com", "example.org", "example.net")


def _sender_domain(value: str) -> str:
    """The domain of a From header's address, "" when it holds no address."""
    local, at, domain = parseaddr(value)[1].rpartition("@")
    return domain.strip().rstrip(".").lower() if local and at else ""


if not DEBUG:
    _domain = _sender_domain(os.environ.get("DEFAULT_FROM_EMAIL", ""))
    if not _domain or any(_domain == d or _domain.endswith(f".{d}") for d in RESERVED_EMAIL_DOMAINS):
        raise _refuse_in_production(
            "DEFAULT_FROM_EMAIL",
            problem="is not set" if not os.environ.get("DEFAULT_FROM_EMAIL") else f"is {DEFAULT_FROM_EMAIL!r}",
            fix="every email would come from no address or an example.* one (reserved for documentation), which "
            "no mailbox provider accepts; set DEFAULT_FROM_EMAIL to an address at your own sending domain, whose SPF and "
            "DKIM the ESP signs, e.g. 'النشرة الإخبارية <newsletter@news.your-site.com>'.",
        )
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)


def _anymail_from_env(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Every ANYMAIL_<NAME> variable becomes ANYMAIL["<NAME>"] (anymail reads both forms)."""
    return {
        name.removeprefix("ANYMAIL_"): value
        for name, value in environ.items()
        if name.startswith("ANYMAIL_") and len(name) > len("ANYMAIL_")
    }


ANYMAIL = _anymail_from_env(os.environ)
if not DEBUG and ":" not in ANYMAIL.get("WEBHOOK_SECRET", ""):
    # Without it the tracking webhooks would take anyone's word for bounces and complaints.
    raise ImproperlyConfigured(
        "ANYMAIL_WEBHOOK_SECRET is not set (as user:password). With DEBUG off the application refuses to start without it: "
        "the ESP's tracking webhooks (/anymail/) authenticate with it; set it to user:long-random-password "
        "and give the ESP https://user:password@your.site/anymail/<esp>/tracking/."
    )
# Anymail's own retry would resend after a read timeout, where the ESP may have accepted:
# our batch task decides what is safe to retry (newsletter.delivery).
ANYMAIL.setdefault("REQUESTS_TIMEOUT", (5, 30))

# --- Newsletter product settings ------------------------------------------------------------
SENDER_NAME = os.environ.get("SENDER_NAME", "النشرة الإخبارية")
DEMO_POSTAL_ADDRESS = "شارع أبي نواس، بغداد، العراق"
SENDER_POSTAL_ADDRESS = os.environ.get("SENDER_POSTAL_ADDRESS", DEMO_POSTAL_ADDRESS)
if not DEBUG and " ".join(os.environ.get("SENDER_POSTAL_ADDRESS", "").split()) in {"", DEMO_POSTAL_ADDRESS}:
    raise _refuse_in_production(
        "SENDER_POSTAL_ADDRESS",
        problem="is not set" if not os.environ.get("SENDER_POSTAL_ADDRESS", "").strip() else "is the demo's address",
        fix="every digest footer would carry the demo's Baghdad address, and anti-spam laws (CAN-SPAM and "
        "others) require the sender's real one; set SENDER_POSTAL_ADDRESS to the newsroom's postal address.",
    )
DIGEST_TOP_N = env_int("DIGEST_TOP_N", 10)
DIGEST_MIN_STORIES = env_int("DIGEST_MIN_STORIES", 3)
DIGEST_REQUIRE_APPROVAL = env_bool("DIGEST_REQUIRE_APPROVAL", False)
# Scheduled editions reach each subscriber at the edition hour of their own time zone, in hourly
# waves per UTC offset (newsletter.editions.waves); 0: one send at the newsroom's hour.
DIGEST_LOCAL_TIME = env_bool("DIGEST_LOCAL_TIME", True)
DIGEST_UTM_PARAMS = os.environ.get("DIGEST_UTM_PARAMS", "utm_source=newsletter&utm_medium=email")
CONSENT_TEXT_VERSION = os.environ.get("CONSENT_TEXT_VERSION", "2026-11")
# The newsroom's privacy policy, linked beside every signup form and in every email's footer;
# empty: no link. An absolute http(s) URL, or a path on this site ("/privacy/").
PRIVACY_POLICY_URL = os.environ.get("PRIVACY_POLICY_URL", "").strip()
if PRIVACY_POLICY_URL and not PRIVACY_POLICY_URL.startswith(("https://", "http://", "/")):
    raise ImproperlyConfigured(f"PRIVACY_POLICY_URL: {PRIVACY_POLICY_URL!r} is not an http(s) URL or a path")
CONFIRMATION_MAX_AGE_DAYS = env_int("CONFIRMATION_MAX_AGE_DAYS", 7)
SIGNUP_ALLOWED_ORIGINS = env_list("SIGNUP_ALLOWED_ORIGINS")
# Signup abuse limits (newsletter.subscribers.ratelimits): submissions per IP per hour; subscriber emails
# (confirmation / "already subscribed") per address per 10 minutes and per day.
SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR = env_int("SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR", 30)
SIGNUP_EMAILS_PER_10_MIN = env_int("SIGNUP_EMAILS_PER_10_MIN", 1)
SIGNUP_EMAILS_PER_DAY = env_int("SIGNUP_EMAILS_PER_DAY", 3)
SUBSCRIBER_IMPORT_MAX_ROWS = env_int("SUBSCRIBER_IMPORT_MAX_ROWS", 100_000)
READS_RETENTION_DAYS = env_int("READS_RETENTION_DAYS", 9)  # weekly window (7) + margin
# New distinct readers one client network (an IPv4 address, an IPv6 /64) may add to one article
# per day; more reads from it still count as views. Stops one machine buying a place in the
# most-read list with fresh cookies. The trade-off: mobile carriers put many subscribers behind
# one carrier-grade NAT address, and past the cap their readers stop adding to an article's
# readers that day. 50 tolerates a busy NAT for one story; raise it when most readers come
# through a few carriers, 0 turns the cap off.
READS_MAX_READERS_PER_IP_PER_DAY = env_int("READS_MAX_READERS_PER_IP_PER_DAY", 50)
FEED_URLS = env_list("FEED_URLS")
# Feed fetching refuses hosts that resolve to loopback, private, link-local, multicast or
# reserved addresses (articles.feed_fetch), except these host names (a CMS on the internal
# network). One deadline covers resolving, connecting, redirects and reading the body.
FEED_ALLOWED_HOSTS = env_list("FEED_ALLOWED_HOSTS")
FEED_FETCH_DEADLINE_SECONDS = env_float("FEED_FETCH_DEADLINE_SECONDS", 30)
# Messages per second across all workers (Redis token bucket); 0 means unlimited.
SEND_RATE_PER_SECOND = env_float("SEND_RATE_PER_SECOND", 0)
SEND_BATCH_SIZE = env_int("SEND_BATCH_SIZE", 0)  # 0: per-ESP default (newsletter.delivery)
SEND_MAX_ATTEMPTS = env_int("SEND_MAX_ATTEMPTS", 8)
SEND_STUCK_AFTER_SECONDS = env_int("SEND_STUCK_AFTER_SECONDS", 60)
# Retry backoff of a batch the ESP did not accept (429/5xx/connect error): exponential from
# SEND_RETRY_BASE_SECONDS, capped, with jitter; always far below the broker visibility_timeout.
SEND_RETRY_BASE_SECONDS = env_float("SEND_RETRY_BASE_SECONDS", 5)
SEND_RETRY_MAX_SECONDS = env_float("SEND_RETRY_MAX_SECONDS", 300)
# Test sends one editor may make per hour, in messages (newsletter.editions.test_sends); 0: no limit.
TEST_SENDS_PER_USER_PER_HOUR = env_int("TEST_SENDS_PER_USER_PER_HOUR", 50)

# Analytics and list hygiene (newsletter.analytics; README "Configuration").
ANALYTICS_CLICK_TRACKING = env_bool("ANALYTICS_CLICK_TRACKING", True)  # off: ESP click events
ANALYTICS_ROLLUP_DAYS = env_int("ANALYTICS_ROLLUP_DAYS", 14)  # editions re-aggregated after their send
ANALYTICS_MACHINE_OPEN_SECONDS = env_int("ANALYTICS_MACHINE_OPEN_SECONDS", 10)
ANALYTICS_SCANNER_AFTER_DELIVERY_SECONDS = env_int("ANALYTICS_SCANNER_AFTER_DELIVERY_SECONDS", 120)
ANALYTICS_SCANNER_BURST_SECONDS = env_int("ANALYTICS_SCANNER_BURST_SECONDS", 10)
ANALYTICS_SCANNER_MIN_LINKS = env_int("ANALYTICS_SCANNER_MIN_LINKS", 3)
HYGIENE_REMINDER_HOURS = env_int("HYGIENE_REMINDER_HOURS", 48)
HYGIENE_PENDING_PURGE_DAYS = env_int("HYGIENE_PENDING_PURGE_DAYS", 30)
HYGIENE_SOFT_BOUNCE_LIMIT = env_int("HYGIENE_SOFT_BOUNCE_LIMIT", 3)
HYGIENE_SOFT_BOUNCE_DAYS = env_int("HYGIENE_SOFT_BOUNCE_DAYS", 30)
SUNSET_ENABLED = env_bool("SUNSET_ENABLED", True)
SUNSET_INACTIVE_DAYS = env_int("SUNSET_INACTIVE_DAYS", 180)
SUNSET_GRACE_DAYS = env_int("SUNSET_GRACE_DAYS", 14)
# Retention (newsletter.analytics.retention, daily beat): per-recipient Delivery and Receipt rows
# of editions that began sending more than DELIVERY_RETENTION_DAYS ago are deleted, after their
# figures are frozen on EditionStats; DELIVERY_PRUNE_CHUNK rows per short transaction, with
# DELIVERY_PRUNE_PAUSE_SECONDS between chunks (0: none) to leave room for other writers.
DELIVERY_RETENTION_DAYS = env_int("DELIVERY_RETENTION_DAYS", 90)
DELIVERY_PRUNE_CHUNK = env_int("DELIVERY_PRUNE_CHUNK", 5000)
DELIVERY_PRUNE_PAUSE_SECONDS = env_float("DELIVERY_PRUNE_PAUSE_SECONDS", 0)

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("العربية")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Baghdad")
USE_I18N = True
# One numeral and month style for the email, the site and our admin pages (config/dates.py).
# NUMERALS: "arabic" (٠١٢٣) or "latin" (0123) in Arabic text; empty: Arabic-Indic in Arabic,
# Western in other languages. ARABIC_MONTHS: "egyptian" (يناير … سبتمبر) or "levantine"
# (كانون الثاني … أيلول). DIGEST_HIJRI_DATE: an approximate Umm al-Qura date in the dateline.
NUMERALS = env_choice("NUMERALS", "", ("", "arabic", "latin"))
ARABIC_MONTHS = env_choice("ARABIC_MONTHS", "egyptian", ("egyptian", "levantine"))
DIGEST_HIJRI_DATE = env_bool("DIGEST_HIJRI_DATE", False)
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
WHITENOISE_USE_FINDERS = DEBUG  # development serves app static files without collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []
# Article images (uploads and their email copies) are linked from every digest email, so in
# production they must be reachable from a reader's mail client: an S3-compatible bucket (AWS,
# MinIO, Cloudflare R2...) when AWS_STORAGE_BUCKET_NAME is set, else MEDIA_ROOT shared by the web
# machines and served by the reverse proxy at an absolute MEDIA_URL. config.urls serves /media/
# only with DEBUG on. Public-read style: URLs carry no signature, so an emailed link never expires.
MEDIA_URL = os.environ.get("MEDIA_URL") or "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or VAR_DIR / "media")
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME", "")
MEDIA_STORAGE: dict[str, Any] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
if AWS_STORAGE_BUCKET_NAME:
    MEDIA_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty: AWS itself; MinIO, R2 and other S3-compatible stores give their URL.
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            # A CDN (or the bucket's public host) in front of it: the host the emails link to.
            "custom_domain": os.environ.get("AWS_S3_CUSTOM_DOMAIN") or None,
            "addressing_style": env_choice("AWS_S3_ADDRESSING_STYLE", "auto", ("auto", "path", "virtual")),
            # Empty: boto3's own chain (an instance or pod role, ~/.aws).
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            "querystring_auth": False,
            "file_overwrite": False,
            # Names are never reused (file_overwrite off, email copies get a fresh token): cache for a year.
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
elif not DEBUG and not MEDIA_URL.startswith(("https://", "http://")):
    raise _refuse_in_production(
        "AWS_STORAGE_BUCKET_NAME",
        problem=f"is not set and MEDIA_URL is {MEDIA_URL!r}, not an absolute URL",
        fix="article images would be stored on this machine's disk under /media/, which the application "
        "serves only with DEBUG on, and every digest email's images would be broken; set AWS_STORAGE_BUCKET_NAME "
        "(with AWS_S3_ENDPOINT_URL for MinIO or R2, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) to a bucket "
        "readers can read, or share MEDIA_ROOT between the web machines, serve it from the reverse proxy and set "
        "MEDIA_URL to its absolute URL, e.g. https://news.your-site.com/media/ (README, Deploying).",
    )
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440)

# --- Security -------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp, config.csp): scripts, styles, fonts and connections from
# this origin only; the templates have no inline script or style (the signup box loads
# static/newsletter.js). Images may come from the CMS (Article.image_url: https). The admin also
# allows inline styles (Django's change list and our email previews use them); a view that sets
# its own header (the embeddable signup form's frame-ancestors) keeps it.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "https:", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# Admin login throttling (django-axes): AXES_FAILURE_LIMIT failed logins for one username from
# one client network (config.client_ip: behind a proxy the reader's, not the proxy's; an IPv6
# /64 counts as one) lock that pair out for AXES_COOLOFF_MINUTES, even with the right password. Attempts are stored in
# the database (visible and resettable in the admin, `manage.py axes_reset`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "config.login_limits.UsernameLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
# The client network, as every other limit counts it: an IPv4 address, an IPv6 /64.
AXES_CLIENT_IP_CALLABLE = "config.client_ip.request_limit_address"
# One username, from every network (config.login_limits): far above the per-network limit.
AXES_USERNAME_FAILURE_LIMIT = env_int("AXES_USERNAME_FAILURE_LIMIT", 30)
AXES_RESET_ON_SUCCESS = True
# Its admin screens are English-only: lockouts are lifted with `manage.py axes_reset` (README).
AXES_ENABLE_ADMIN = False
AXES_COOLOFF_MESSAGE = _("محاولات دخول فاشلة كثيرة: أُوقف الدخول بهذا الاسم من هذا العنوان مؤقتًا. حاول لاحقًا.")
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Logging: one line per record on stdout, with the request or task id ---------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.logging.RequestIdFilter"},
        "redact_tokens": {"()": "config.logging.TokenRedactingFilter"},
    },
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": sys.stdout,
            "formatter": "line",
            "filters": ["request_id", "redact_tokens"],
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # django-axes announces itself at every start, on stdout; management commands' output is parsed.
        "axes.apps": {"level": "WARNING"},
    },
}
