"""A batch that finds Redis out of reach before the ESP call (issue 26): its rows go back to the
queue, untouched, and the task is told to retry, as for the shared rate limit. Before, the
exception failed the task: its message was acknowledged and dropped, its rows stayed claimed
until the sweeper, and on RabbitMQ, which keeps delivering while Redis is down, every waiting
batch of an edition went that way (tests/integration/test_redis_pressure_rabbitmq.py)."""

from __future__ import annotations

import socket

import pytest

from newsletter.delivery import batch, dispatch
from newsletter.delivery.models import Delivery
from newsletter.delivery.outcomes import RetryLater
from sitewide.redis_client import reset_redis
from tests.integration.helpers import make_digest, make_subscribers
from tests.newsletter.delivery.test_sending import emulator  # noqa: F401 - the Mailgun emulator fixture

pytestmark = pytest.mark.django_db
D = Delivery.Status


def nothing_listens() -> str:
    """A Redis URL on a port the OS just gave out and nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_a_batch_that_cannot_reach_redis_goes_back_to_the_queue_and_retries(emulator, settings) -> None:  # noqa: F811
    settings.SEND_RATE_PER_SECOND = 1000  # the shared send rate lives in Redis
    digest = make_digest()
    make_subscribers(40)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    working = settings.REDIS_URL
    settings.REDIS_URL = nothing_listens()
    reset_redis()

    with pytest.raises(RetryLater) as info:
        batch.send_batch(digest_id=digest.id, batch=0)

    assert info.value.reason.startswith("Redis out of reach before the ESP call") and info.value.countdown > 0
    assert emulator.state.stats()["requests"] == 0
    rows = Delivery.objects.filter(digest=digest)
    assert set(rows.values_list("status", flat=True)) == {D.QUEUED}
    assert set(rows.values_list("attempts", flat=True)) == {0} and not rows.filter(claimed_at__isnull=False).exists()
    # Redis back: the retry sends them, once.
    settings.REDIS_URL = working
    reset_redis()
    assert batch.send_batch(digest_id=digest.id, batch=0).sent == 40
    assert emulator.state.stats()["recipients"] == 40
