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

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from . import broker
from .env import (
    BASE_DIR,
    DEBUG,
    VAR_DIR,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    refuse_in_production,
    required_in_production,
    secret_key,
)

SECRET_KEY = secret_key()
# Rotating SECRET_KEY: put the old key here (comma-separated, newest first) so links already
# emailed (unsubscribe, preferences, confirmation) and sessions still verify; drop it later.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS")
# Key for hashes kept long-term (suppression list, consent IP/UA, reader cookies); keep it when
# rotating SECRET_KEY. Defaulting to SECRET_KEY in production would tie the two together.
HASH_KEY = (
    required_in_production(
        "HASH_KEY",
        why="it keys the suppression list and consent hashes and must outlive SECRET_KEY rotations; "
        "set it to a long random string, different from SECRET_KEY, and never change it.",
    )
    or SECRET_KEY
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Reverse proxies whose X-Forwarded-For is believed (sitewide.client_ip): the addresses the app
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
    "sitewide",
    "articles",
    "newsletter",
]

MIDDLEWARE = [
    "sitewide.logging.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sitewide.csp.ContentSecurityPolicyMiddleware",
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
                "sitewide.context_processors.site",
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
CELERY_TIMEZONE = TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Baghdad")
# Tasks are idempotent (row claims in the database), so a task whose worker died is run again.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Celery's Django fix-up closes the database connection around every task unless this is set; it
# then closes it every 2 x this many tasks, and config.celery applies DB_CONN_MAX_AGE and the
# health check around each task instead, as Django does around each request.
CELERY_DB_REUSE_MAX = 10_000
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

# --- Email: who sends, through what, and the ESP's webhooks (config/mail_settings.py) ---------
# --- Product settings, grouped by the room that reads them ------------------------------------
# Each room declares its settings with typed defaults in its conf.py (sitewide.conf says how);
# here every group is filled from the environment, under the same names, and checked where a
# development default would fail silently in production.
from articles.content.conf import FeedSettings  # noqa: E402
from articles.reading.conf import ReadingSettings  # noqa: E402
from newsletter.alerts.conf import AlertSettings  # noqa: E402
from newsletter.analytics.conf import AnalyticsSettings  # noqa: E402
from newsletter.delivery.conf import DeliverySettings  # noqa: E402
from newsletter.editions.conf import EditionSettings  # noqa: E402
from newsletter.email.conf import EmailSettings  # noqa: E402
from newsletter.hygiene.conf import HygieneSettings  # noqa: E402
from newsletter.orchestration.conf import OrchestrationSettings  # noqa: E402
from newsletter.personal.conf import PersonalSettings  # noqa: E402
from newsletter.retention.conf import RetentionSettings  # noqa: E402
from newsletter.subscribers.conf import SubscriberSettings  # noqa: E402
from sitewide.conf import DEMO_POSTAL_ADDRESS, SiteSettings, from_environment  # noqa: E402

from .mail_settings import *  # noqa: E402, F403

PRODUCT_SETTINGS = (
    SiteSettings,
    FeedSettings,
    ReadingSettings,
    EditionSettings,
    OrchestrationSettings,
    EmailSettings,
    SubscriberSettings,
    PersonalSettings,
    DeliverySettings,
    AlertSettings,
    AnalyticsSettings,
    HygieneSettings,
    RetentionSettings,
)
_product: dict[str, Any] = {}
for _group in PRODUCT_SETTINGS:
    _product.update(from_environment(_group, os.environ))
globals().update(_product)

if not DEBUG and " ".join(os.environ.get("SENDER_POSTAL_ADDRESS", "").split()) in {"", DEMO_POSTAL_ADDRESS}:
    raise refuse_in_production(
        "SENDER_POSTAL_ADDRESS",
        problem="is not set" if not os.environ.get("SENDER_POSTAL_ADDRESS", "").strip() else "is the demo's address",
        fix="every digest footer would carry the demo's Baghdad address, and anti-spam laws (CAN-SPAM and "
        "others) require the sender's real one; set SENDER_POSTAL_ADDRESS to the newsroom's postal address.",
    )
if _product["PRIVACY_POLICY_URL"] and not _product["PRIVACY_POLICY_URL"].startswith(("https://", "http://", "/")):
    raise ImproperlyConfigured(
        f"PRIVACY_POLICY_URL: {_product['PRIVACY_POLICY_URL']!r} is not an http(s) URL or a path"
    )

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "ar"
LANGUAGES = [("ar", _("العربية")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# TIME_ZONE: read with the Celery settings above (one variable, one read).
USE_I18N = True
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
    raise refuse_in_production(
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
# Content-Security-Policy (django-csp, sitewide.csp): scripts, styles, fonts and connections from
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
# one client network (sitewide.client_ip: behind a proxy the reader's, not the proxy's; an IPv6
# /64 counts as one) lock that pair out for AXES_COOLOFF_MINUTES, even with the right password. Attempts are stored in
# the database (visible and resettable in the admin, `manage.py axes_reset`).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "sitewide.login_limits.UsernameLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
# The client network, as every other limit counts it: an IPv4 address, an IPv6 /64.
AXES_CLIENT_IP_CALLABLE = "sitewide.client_ip.request_limit_address"
# One username, from every network (sitewide.login_limits): far above the per-network limit.
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
        "request_id": {"()": "sitewide.logging.RequestIdFilter"},
        "redact_tokens": {"()": "sitewide.logging.TokenRedactingFilter"},
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
