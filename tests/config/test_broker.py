"""The Celery broker from the environment (issue 26, config.broker): REDIS_URL unless
CELERY_BROKER_URL names another; an amqp:// URL gets quorum queues behind topic exchanges and
publisher confirms; any other scheme refuses to start, naming the variable (and never echoing
a password). The workers' behaviour on each broker is tested in tests/integration/."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from config import broker

from .test_settings import run_manage

# Settings as a worker process sees them, printed as JSON.
SHOW = (
    "import json; from django.conf import settings as s; from config.celery import app; "
    "print(json.dumps({'url': s.CELERY_BROKER_URL, 'options': s.CELERY_BROKER_TRANSPORT_OPTIONS, "
    "'queues': {n: [q.exchange.type, q.queue_arguments] for n, q in app.amqp.queues.items()}}))"
)
ROUTES = {"newsletter.tasks.send_batch": {"queue": "send"}}


def shown(**env: str) -> dict:
    result = run_manage("shell", "-c", SHOW, env={"REDIS_URL": "redis://10.1.2.3:6379/4", **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_without_celery_broker_url_the_broker_is_redis_url_as_before() -> None:
    settings = shown()
    assert settings["url"] == "redis://10.1.2.3:6379/4"
    assert settings["options"] == {"visibility_timeout": 3600}
    assert settings["queues"] == {"celery": ["direct", None]}  # Celery's default, unchanged


def test_an_amqp_url_gets_quorum_queues_topic_exchanges_and_publisher_confirms() -> None:
    settings = shown(CELERY_BROKER_URL="amqp://newsletter:secret@rabbitmq.internal:5672/newsletter")
    assert settings["url"] == "amqp://newsletter:secret@rabbitmq.internal:5672/newsletter"
    assert settings["options"] == {"confirm_publish": True}
    quorum = ["topic", {"x-queue-type": "quorum"}]
    assert settings["queues"] == {"celery": quorum, "send": quorum}


@pytest.mark.parametrize(
    ("url", "shown_as"),
    [
        ("sqs://AKIA:secret@", "the scheme sqs://"),
        ("rabbitmq.internal:5672", "a URL without a scheme"),
        ("amqp//newsletter:secret@rabbitmq.internal", "a URL without a scheme"),
    ],
)
def test_a_broker_url_of_another_scheme_refuses_to_start_naming_the_variable(url: str, shown_as: str) -> None:
    result = run_manage("check", env={"CELERY_BROKER_URL": url})
    assert result.returncode != 0
    assert f"CELERY_BROKER_URL: {shown_as} is not a broker" in result.stderr
    assert "amqp://" in result.stderr and "redis://" in result.stderr  # it says what to use
    assert "secret" not in result.stderr


def test_queues_and_options_per_broker() -> None:
    assert broker.kind("rediss://cache.internal:6380/0") == broker.REDIS
    assert broker.kind("AMQPS://rabbitmq.internal/newsletter") == broker.RABBITMQ
    assert broker.task_queues("redis://x/0", default="celery", routes=ROUTES) is None
    queues = broker.task_queues("amqp://x/v", default="celery", routes=ROUTES)
    assert queues is not None and [q.name for q in queues] == ["celery", "send"]
    assert all(q.exchange.name == q.name == q.routing_key and q.exchange.durable for q in queues)
    assert broker.transport_options("redis://x/0", visibility_timeout=7) == {"visibility_timeout": 7}
    with pytest.raises(ImproperlyConfigured, match="CELERY_BROKER_URL"):
        broker.transport_options("kafka://x", visibility_timeout=7)
