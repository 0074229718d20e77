"""Settings for the Celery worker processes the integration tests start: the test settings
with eager mode off (the workers consume the real broker the test chose: Redis's TEST_REDIS_DB,
or a RabbitMQ vhost, given as CELERY_BROKER_URL) and an ESP read timeout the tests can shorten
(INTEGRATION_READ_TIMEOUT) to provoke "accepted, then timed out"."""

import os

from config import broker
from config.test_settings import *  # noqa: F403
from config.test_settings import ANYMAIL, CELERY_BROKER_TRANSPORT_OPTIONS, CELERY_BROKER_URL

# config.test_settings puts the broker on TEST_REDIS_DB; the harness names the one it chose.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or CELERY_BROKER_URL

CELERY_TASK_ALWAYS_EAGER = False
ANYMAIL = {**ANYMAIL, "REQUESTS_TIMEOUT": (2, float(os.environ.get("INTEGRATION_READ_TIMEOUT", "30")))}
# config.test_settings pins the outbox; the workers send through the ESP the test chose.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "newsletter.backends.outbox.OutboxEmailBackend")
SEND_BATCH_SIZE = int(os.environ.get("SEND_BATCH_SIZE") or 0)
if broker.kind(CELERY_BROKER_URL) == broker.REDIS:
    # Kombu sweeps unacknowledged messages back into the queue only every interval x throttle
    # seconds (10 x 10 by default); the redelivery test shortens it to see a redelivery at all.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "unacked_restore_interval": float(os.environ.get("INTEGRATION_RESTORE_INTERVAL", "10")),
        "unacked_restore_throttle": int(os.environ.get("INTEGRATION_RESTORE_THROTTLE", "10")),
    }
