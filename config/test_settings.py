"""Settings for the test suite: the real settings, with Redis on a database of its own
(TEST_REDIS_DB, default 15, flushed between tests), eager Celery for unit tests and fast hashing.
Integration tests that start real workers switch eager mode off themselves."""

import os
from urllib.parse import urlparse, urlunparse

from .settings import *  # noqa: F403
from .settings import REDIS_URL, VAR_DIR

_parsed = urlparse(REDIS_URL)
REDIS_URL = urlunparse(_parsed._replace(path=f"/{os.environ.get('TEST_REDIS_DB', '15')}"))
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "cache"}
}
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"
# The tracking tests post Mailgun webhooks while sending through the outbox.
WEBHOOK_ESP = "mailgun"
EMAIL_OUTBOX_DIR = VAR_DIR / "test-outbox"
SITE_URL = "http://testserver"
SECURE_SSL_REDIRECT = False
