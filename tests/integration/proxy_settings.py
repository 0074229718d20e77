"""Settings for the gunicorn process of tests/integration/test_behind_proxy.py: the test
settings (eager Celery, the .eml outbox), an outbox folder of the test's own, and TRUSTED_PROXIES
from the environment as in production."""

import os
from pathlib import Path

from config.test_settings import *  # noqa: F403

EMAIL_OUTBOX_DIR = Path(os.environ["PROXY_TEST_OUTBOX"])
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
