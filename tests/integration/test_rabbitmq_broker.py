"""RabbitMQ as the broker, as an operator sees it (issue 26): the queues a worker declares are the
quorum queues config.broker asks for (not RabbitMQ's classic default), and `send_status` reads
their depths through kombu while batches wait."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from newsletter.delivery import dispatch, status

from . import rabbitmq
from .conftest import wait_for
from .helpers import make_digest, make_subscribers

pytestmark = [pytest.mark.integration, pytest.mark.rabbitmq_broker]


def queue_types(url: str) -> dict[str, str]:
    vhost = unquote(urlsplit(url).path.lstrip("/"))
    listed = rabbitmq.rabbitmqctl("list_queues", "-q", "-p", vhost, "name", "type", "--no-table-headers")
    assert listed.returncode == 0, listed.stderr
    return dict(line.split("\t")[:2] for line in listed.stdout.splitlines() if "\t" in line)


def test_the_queues_are_quorum_queues_and_send_status_reads_their_depths(start_worker, settings) -> None:
    settings.SEND_BATCH_SIZE = 100
    digest = make_digest()
    make_subscribers(500)
    # Published before any worker runs: the batches wait in the `send` queue.
    assert len(dispatch.dispatch(digest_id=digest.id).batches) == 5
    assert status.queue_depths() == {"celery": 0, "send": 5}

    worker = start_worker("w1")  # declares every queue it consumes from, as in production
    types = queue_types(settings.CELERY_BROKER_URL)
    assert types.get("send") == "quorum" and types.get("celery") == "quorum", types
    wait_for(lambda: status.queue_depths()["send"] == 0, timeout=60, what="the batches taken", workers=[worker])
