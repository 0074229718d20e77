"""The delivery guarantee of newsletter.sending with REAL Celery worker processes, the real
database and Redis, and the Mailgun emulator as the ESP: counted per recipient at the ESP."""

from __future__ import annotations

import time

import pytest

from newsletter.delivery import dispatch, reports, rows, sweeper
from newsletter.models import Delivery, Digest, Subscriber
from newsletter.tasks import send_batch as send_batch_task
from tests.concurrency import run_concurrently

from .conftest import wait_for
from .helpers import make_digest, make_subscribers

pytestmark = pytest.mark.integration
D = Delivery.Status


def finished(digest_id: int) -> bool:
    return (
        not Delivery.objects.filter(digest_id=digest_id, status__in=rows.PENDING).exists()
        and Digest.objects.filter(id=digest_id, status=Digest.Status.SENT).exists()
    )


def test_10k_subscribers_each_get_exactly_one_message_with_their_own_unsubscribe(start_worker, emulator) -> None:
    digest = make_digest()
    ids = make_subscribers(10_000)
    workers = [start_worker("w1"), start_worker("w2")]
    started = time.monotonic()
    result = dispatch.dispatch(digest_id=digest.id)
    assert result.audience == 10_000 and len(result.batches) == 10  # Mailgun: 1,000 per call
    wait_for(lambda: finished(digest.id), timeout=120, what="all batches", workers=workers)
    elapsed = time.monotonic() - started
    stats = emulator.state.stats()
    assert stats["recipients"] == 10_000 and stats["unique"] == 10_000 and stats["duplicates"] == 0
    assert stats["accepted_requests"] == 10
    # Every recipient saw their own unsubscribe URL, in the header and in both bodies.
    uuids = dict(Subscriber.objects.filter(id__in=ids).values_list("email", "uuid"))
    seen_urls = set()
    for record in emulator.state.records:
        url = record["unsubscribe_url"]
        assert uuids[record["to"]].hex in url
        assert record["list_unsubscribe"] == f"<{url}>"
        assert record["list_unsubscribe_post"] == "List-Unsubscribe=One-Click"
        assert record["url_in_text"] and record["url_in_html"]
        seen_urls.add(url)
    assert len(seen_urls) == 10_000
    digest.refresh_from_db()
    assert (digest.sent_count, digest.failed_count, digest.unknown_count) == (10_000, 0, 0)
    print(f"10,000 recipients through 2 workers in {elapsed:.1f}s")


def test_sigkill_mid_send_then_a_new_worker_every_subscriber_accepted_once(start_worker, emulator, settings) -> None:
    settings.SEND_STUCK_AFTER_SECONDS = 2
    digest = make_digest()
    make_subscribers(5_000)
    # The first API call is accepted and recorded, then the answer never comes: the worker is
    # killed exactly after the ESP acknowledged a batch and before `sent` was written.
    emulator.state.set_faults({"hang": 1, "count": 1})
    first = start_worker("doomed")
    dispatch.dispatch(digest_id=digest.id)
    wait_for(lambda: emulator.state.stats()["accepted_requests"] >= 1, timeout=60, what="first batch", workers=[first])
    wait_for(
        lambda: Delivery.objects.filter(digest=digest, status=D.SENDING).count() == 1000,
        timeout=10,
        what="rows in sending",
        workers=[first],
    )
    first.kill()
    second = start_worker("rescuer")
    # The killed task's message stays unacknowledged in Redis (visibility timeout: an hour);
    # the other batches go on; the sweeper settles what the dead worker left.
    wait_for(
        lambda: Delivery.objects.filter(digest=digest, status=D.SENT).count() == 4000,
        timeout=90,
        what="the other batches",
        workers=[second],
    )
    time.sleep(settings.SEND_STUCK_AFTER_SECONDS + 0.5)
    report = sweeper.sweep()
    assert report.settled_unknown == 1000
    wait_for(lambda: finished(digest.id), timeout=30, what="edition finished", workers=[second])
    stats = emulator.state.stats()
    assert stats["unique"] == 5000 and stats["recipients"] == 5000 and stats["duplicates"] == 0
    counts = reports.report(digest_id=digest.id)
    assert (counts.sent, counts.unknown, counts.failed) == (4000, 1000, 0)  # unknown: never resent


def test_redelivered_batches_and_concurrent_dispatch_send_nothing_twice(start_worker, emulator, settings) -> None:
    settings.SEND_BATCH_SIZE = 500
    digest = make_digest()
    ids = make_subscribers(3_000)
    results = run_concurrently(lambda: dispatch.dispatch(digest_id=digest.id))
    assert sorted(r.dispatched for r in results) == [False, True]
    # Unsubscribes after dispatch, before the batches run: must not be mailed.
    leaver = Subscriber.objects.get(id=ids[1234])
    Subscriber.objects.filter(id=leaver.id).update(status=Subscriber.Status.UNSUBSCRIBED)
    # Every batch task delivered three times (acks_late redelivery, sweeper, a double resume).
    for _ in range(2):
        for number in range(6):
            send_batch_task.apply_async(args=(digest.id, number))
    workers = [start_worker("w1", SEND_BATCH_SIZE="500"), start_worker("w2", SEND_BATCH_SIZE="500")]
    wait_for(lambda: finished(digest.id), timeout=90, what="all batches", workers=workers)
    time.sleep(1)  # let the duplicate tasks run out
    stats = emulator.state.stats()
    assert stats["unique"] == 2999 and stats["recipients"] == 2999 and stats["duplicates"] == 0
    assert leaver.email not in {r["to"] for r in emulator.state.records}
    assert Delivery.objects.get(digest=digest, subscriber=leaver).status == D.SKIPPED


def test_429_and_503_retried_until_accepted_and_timeout_after_acceptance_is_unknown(start_worker, emulator) -> None:
    daily = make_digest()
    make_subscribers(1500)
    emulator.state.set_faults({"status": 429, "count": 2})
    worker = start_worker("w1", INTEGRATION_READ_TIMEOUT="1.5")
    dispatch.dispatch(digest_id=daily.id)
    time.sleep(0.5)
    emulator.state.set_faults({"status": 503, "seconds": 1})
    wait_for(lambda: finished(daily.id), timeout=60, what="retries to succeed", workers=[worker])
    stats = emulator.state.stats()
    assert stats["rejected_requests"] >= 3  # two 429s, at least one 503
    assert stats["unique"] == 1500 and stats["recipients"] == 1500 and stats["duplicates"] == 0
    assert Delivery.objects.filter(digest=daily, attempts__gt=1).exists()

    weekly = make_digest(frequency="weekly")
    make_subscribers(40, frequency="weekly", prefix="weekly")
    emulator.state.set_faults({"delay": 4, "count": 1})  # accepted, answered after the timeout
    dispatch.dispatch(digest_id=weekly.id)
    wait_for(lambda: finished(weekly.id), timeout=30, what="the timed-out batch", workers=[worker])
    counts = reports.report(digest_id=weekly.id)
    assert (counts.sent, counts.unknown) == (0, 40)
    sweeper.sweep()
    time.sleep(2)
    weekly_records = [r for r in emulator.state.records if r["to"].startswith("weekly")]
    assert len(weekly_records) == 40  # accepted once, not resent


def test_broker_messages_lost_then_the_sweeper_sends_everything_once(start_worker, emulator, settings) -> None:
    """Redis lost every queued task (a restart without persistence): the database still knows."""
    from config.redis_client import get_redis

    settings.SEND_STUCK_AFTER_SECONDS = 1
    digest = make_digest()
    make_subscribers(2_000)
    dispatch.dispatch(digest_id=digest.id)
    get_redis().flushdb()  # this test's own Redis database (TEST_REDIS_DB): the tasks are gone
    worker = start_worker("w1")
    time.sleep(1.5)
    assert emulator.state.stats()["recipients"] == 0
    assert sweeper.sweep().reenqueued_batches == 2
    wait_for(lambda: finished(digest.id), timeout=60, what="swept batches", workers=[worker])
    stats = emulator.state.stats()
    assert stats["unique"] == 2000 and stats["recipients"] == 2000 and stats["duplicates"] == 0


def test_visibility_timeout_redelivery_of_a_running_batch_does_no_harm(start_worker, emulator) -> None:
    """Redis re-delivers an unacknowledged task after visibility_timeout even while it runs
    (celery#2599): here 2 s, with a batch whose ESP call takes 6 s."""
    digest = make_digest()
    make_subscribers(300)
    emulator.state.set_faults({"delay": 6, "count": 1})
    workers = [
        start_worker(
            name, CELERY_VISIBILITY_TIMEOUT="2", INTEGRATION_RESTORE_INTERVAL="0.5", INTEGRATION_RESTORE_THROTTLE="1"
        )
        for name in ("w1", "w2")
    ]
    dispatch.dispatch(digest_id=digest.id)
    wait_for(lambda: finished(digest.id), timeout=60, what="the slow batch", workers=workers)
    time.sleep(3)
    received = sum(
        1
        for w in workers
        for line in w.log.read_text().splitlines()
        if "newsletter.tasks.send_batch[" in line and "received" in line.lower()
    )
    stats = emulator.state.stats()
    assert stats["recipients"] == 300 and stats["duplicates"] == 0
    assert received >= 2, "the task was not redelivered: the test proves nothing"
