"""RabbitMQ for the integration tests (issue 26): a vhost of this test session's own on the server
at TEST_RABBITMQ_URL (default amqp://guest:guest@127.0.0.1:5672, the one `.ci/run` starts), so
two engineers' suites on one machine never share a queue; the queues a test used are deleted
after it, as Redis's test database is flushed.

Creating a vhost takes `rabbitmqctl` (root, or the rabbitmq user): where it cannot be run the
RabbitMQ half of the tests skips with the reason locally and fails under CI (tests/requirements.py).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from urllib.parse import quote, urlsplit

from kombu import Connection

from tests.requirements import require

SERVER_URL = os.environ.get("TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672").rstrip("/")
# Everything Celery declares in a vhost for our two queues: the queues themselves and native
# delayed delivery's 28 levels (countdown retries wait there).
QUEUES = ("send", "celery", *(f"celery_delayed_{level}" for level in range(28)))


def rabbitmqctl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=timeout, check=False)


def answers(url: str = SERVER_URL) -> bool:
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.connect()
            return True
    except Exception:
        return False


def session_vhost() -> Iterator[str]:
    """Create a vhost for this session (user of SERVER_URL allowed on it), yield its URL, delete it."""
    require(answers(), f"no RabbitMQ answers at {urlsplit(SERVER_URL).hostname}:{urlsplit(SERVER_URL).port or 5672}")
    name = f"newsletter-tests-{uuid.uuid4().hex[:10]}"  # unique per session on this machine
    user = urlsplit(SERVER_URL).username or "guest"
    created = rabbitmqctl("add_vhost", name)
    require(created.returncode == 0, f"rabbitmqctl add_vhost failed (run as root?): {created.stderr.strip()}")
    try:
        allowed = rabbitmqctl("set_permissions", "-p", name, user, ".*", ".*", ".*")
        assert allowed.returncode == 0, allowed.stderr
        yield f"{SERVER_URL}/{quote(name, safe='')}"
    finally:
        rabbitmqctl("delete_vhost", name)


def delete_queues(url: str) -> None:
    """Delete every queue a test may have filled in the vhost of `url` (a missing one is fine)."""
    with Connection(url, connect_timeout=5) as connection:
        for name in QUEUES:
            channel = connection.channel()  # a failed delete closes its channel: one each
            try:
                channel.queue_delete(queue=name)
            except connection.channel_errors:
                pass
            finally:
                try:
                    channel.close()
                except Exception:
                    pass


def queue_depth(url: str, name: str) -> int:
    """Messages ready in queue `name` (0 when it does not exist yet)."""
    with Connection(url, connect_timeout=5) as connection:
        channel = connection.channel()
        try:
            return int(channel.queue_declare(queue=name, passive=True).message_count)
        except connection.channel_errors:
            return 0
