"""The Celery broker and what each kind needs: Redis (the default) or RabbitMQ (`amqp://`).

config.settings reads CELERY_BROKER_URL (default: REDIS_URL) and takes the broker's queue and
transport settings from here, so the choice is one variable and nothing else changes: Redis stays
the cache, the read counter, the rate limiter and the send throttle whichever broker carries the
tasks.

Why RabbitMQ is configured the way it is (Celery's "Using Quorum Queues"):
- Quorum queues (`x-queue-type: quorum`) for `send` and `celery`: replicated, durable, and a
  message is only forgotten once a worker acknowledged it (we acknowledge late, after the task:
  CELERY_TASK_ACKS_LATE), so a worker killed mid-batch hands its message back at once; nothing
  waits for a visibility timeout, and nothing is evicted the way a full Redis evicts a queue.
- Publisher confirms (`confirm_publish`): a publish returns only after the broker has the message
  (for a quorum queue: written to its log), so a task enqueued on commit is not lost in a
  connection that breaks just after.
- Topic exchanges: Celery detects the quorum queues, turns global QoS off and schedules every
  countdown (our retries with backoff) through RabbitMQ's native delayed delivery, which only
  routes through topic (or fanout) exchanges; with the default direct ones a retried task would
  sit in a worker until its time came, blocking it.

Redis needs none of this; its one option, `visibility_timeout`, is the time after which it hands
an unacknowledged task to another worker (kept above every countdown and task run).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

VARIABLE = "CELERY_BROKER_URL"
REDIS, RABBITMQ = "redis", "rabbitmq"
# URL scheme -> broker kind. kombu knows more transports (SQS, in-memory, ...); these two are
# the ones the delivery guarantee is tested on (tests/integration/, both brokers).
SCHEMES = {"redis": REDIS, "rediss": REDIS, "amqp": RABBITMQ, "amqps": RABBITMQ}
QUORUM = {"x-queue-type": "quorum"}


def kind(url: str) -> str:
    """REDIS or RABBITMQ for a broker URL; any other scheme refuses to start, naming the variable."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in SCHEMES:
        # The scheme only: the rest of the URL may carry a password.
        shown = f"the scheme {scheme}://" if scheme else "a URL without a scheme"
        raise ImproperlyConfigured(
            f"{VARIABLE}: {shown} is not a broker this application runs on; use redis:// or rediss:// "
            "(Redis, the default: REDIS_URL) or amqp:// or amqps:// (RabbitMQ, e.g. "
            "amqp://newsletter:PASSWORD@rabbitmq.internal:5672/newsletter)."
        )
    return SCHEMES[scheme]


def transport_options(url: str, *, visibility_timeout: int) -> dict[str, Any]:
    """CELERY_BROKER_TRANSPORT_OPTIONS for the broker of `url`."""
    if kind(url) == RABBITMQ:
        return {"confirm_publish": True}
    # Redis re-delivers an unacknowledged task after visibility_timeout; it must exceed the
    # longest countdown/ETA we use (retry backoff caps at 10 minutes) and the longest task run,
    # or a task still running or waiting would be delivered twice (celery#2599, #3270).
    return {"visibility_timeout": visibility_timeout}


def task_queues(url: str, *, default: str, routes: dict[str, dict[str, str]]) -> tuple[Queue, ...] | None:
    """CELERY_TASK_QUEUES: on RabbitMQ the default queue and every queue a route names, each a
    quorum queue behind a topic exchange of its own name; on Redis None, Celery's default (queues
    are created as tasks are routed to them)."""
    if kind(url) != RABBITMQ:
        return None
    names = sorted({default, *(route["queue"] for route in routes.values() if "queue" in route)})
    return tuple(
        Queue(name, Exchange(name, type="topic", durable=True), routing_key=name, queue_arguments=QUORUM)
        for name in names
    )
