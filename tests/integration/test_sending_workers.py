"""The delivery guarantee of newsletter.sending with REAL Celery worker processes, the real
database and Redis, and the Mailgun emulator as the ESP: counted per recipient at the ESP."""

from __future__ import annotations

import ast
import re
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F

from newsletter.delivery import claims, counts, dispatch, sweeper
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from newsletter.subscribers.models import Subscriber
from newsletter.tasks import send_batch as send_batch_task
from tests.concurrency import run_concurrently
from tests.integration.conftest import wait_for
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.integration
D = Delivery.Status


_SUCCEEDED = re.compile(r"newsletter\.tasks\.send_batch\[[^\]]+\] succeeded in [\d.]+s: (\{.*\})")


def batch_results(workers) -> list[dict]:
    """Every finished send_batch task in the workers' logs, as the dict the task returned."""
    return [
        ast.literal_eval(match.group(1))
        for worker in workers
        for match in _SUCCEEDED.finditer(worker.log.read_text(errors="replace"))
    ]


def backdate(digest_id: int, **columns: timedelta) -> None:
    """Age rows instead of sleeping past SEND_STUCK_AFTER_SECONDS (a controlled clock)."""
    Delivery.objects.filter(digest_id=digest_id).update(**{name: F(name) - ago for name, ago in columns.items()})


def finished(digest_id: int) -> bool:
    return (
        not Delivery.objects.filter(digest_id=digest_id, status__in=claims.PENDING).exists()
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


def test_sigkill_after_the_esp_accepted_then_a_new_worker_every_subscriber_accepted_once(
    start_worker, emulator, settings
) -> None:
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
    # The killed task's message stays unacknowledged (Redis: until its visibility timeout, an
    # hour; RabbitMQ: handed to another worker, which finds its rows claimed and takes none);
    # the other batches go on; the sweeper settles what the dead worker left.
    wait_for(
        lambda: Delivery.objects.filter(digest=digest, status=D.SENT).count() == 4000,
        timeout=90,
        what="the other batches",
        workers=[second],
    )
    backdate(digest.id, sending_at=timedelta(hours=1))
    report = sweeper.sweep()
    assert report.settled_unknown == 1000
    wait_for(lambda: finished(digest.id), timeout=30, what="edition finished", workers=[second])
    stats = emulator.state.stats()
    assert stats["unique"] == 5000 and stats["recipients"] == 5000 and stats["duplicates"] == 0
    sent = counts.report(digest_id=digest.id)
    assert (sent.sent, sent.unknown, sent.failed) == (4000, 1000, 0)  # unknown: never resent


def test_sigkill_between_claim_and_esp_call_then_the_rows_are_sent_once_by_another_worker(
    start_worker, emulator, settings
) -> None:
    """The other side of the window: the worker dies holding `claimed` rows it never handed to
    the ESP (here it sleeps in the shared rate limit, between the claim and the API call). The
    sweeper puts them back in the queue and a new worker sends each of them exactly once."""
    digest = make_digest()
    make_subscribers(2_000)
    # 1,000 tokens at 100/s with a burst of 100: the first batch waits ~9 s after claiming.
    doomed = start_worker("doomed", SEND_RATE_PER_SECOND="100")
    dispatch.dispatch(digest_id=digest.id)
    wait_for(
        lambda: Delivery.objects.filter(digest=digest, status=D.CLAIMED).count() == 1000,
        timeout=60,
        what="a batch claimed and waiting for the rate limit",
        workers=[doomed],
    )
    assert emulator.state.stats()["requests"] == 0  # nothing reached the ESP
    doomed.kill()
    # The dead worker's claims are aged past SEND_STUCK_AFTER_SECONDS (no sleep): the sweep puts
    # them back in the queue and enqueues their batch again; the other batch is still queued.
    Delivery.objects.filter(digest=digest, status=D.CLAIMED).update(claimed_at=F("claimed_at") - timedelta(hours=1))
    report = sweeper.sweep()
    assert (report.requeued_claimed, report.settled_unknown, report.reenqueued_batches) == (1000, 0, 1)
    rescuer = start_worker("rescuer")  # no rate limit
    wait_for(lambda: finished(digest.id), timeout=90, what="edition finished", workers=[rescuer])
    stats = emulator.state.stats()
    assert stats["unique"] == 2000 and stats["recipients"] == 2000 and stats["duplicates"] == 0
    sent = counts.report(digest_id=digest.id)
    assert (sent.sent, sent.unknown, sent.failed) == (2000, 0, 0)


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
    # The first ESP call is held open: its batch is mid-send while the other worker runs the
    # two duplicates of that same batch, which must find nothing to take.
    emulator.state.set_faults({"gate": 1})
    workers = [start_worker(name, SEND_BATCH_SIZE="500") for name in ("w1", "w2")]
    wait_for(lambda: emulator.state.stats()["held"] == 1, timeout=60, what="a held ESP call", workers=workers)
    # The batch of the held call, from its first recipient (the other worker may be mid-send too).
    held = Delivery.objects.get(digest=digest, subscriber__email=emulator.state.held_recipients[0]).batch
    assert Delivery.objects.filter(digest=digest, batch=held, status=D.SENDING).exists()

    def empty_runs_of_held() -> int:
        return sum(1 for r in batch_results(workers) if r["batch"] == held and r["note"] == "nothing queued")

    wait_for(lambda: empty_runs_of_held() == 2, timeout=60, what="duplicates of the held batch", workers=workers)
    assert emulator.state.stats()["held"] == 1  # they ran while the original was still sending
    emulator.state.release()
    wait_for(lambda: finished(digest.id), timeout=90, what="all batches", workers=workers)
    wait_for(lambda: len(batch_results(workers)) == 18, timeout=60, what="all 18 batch tasks", workers=workers)
    finished_tasks = batch_results(workers)
    for number in range(6):  # each batch claimed once; its two other copies found nothing
        runs = sorted(r["claimed"] for r in finished_tasks if r["batch"] == number)
        assert len(runs) == 3 and runs[:2] == [0, 0] and runs[2] > 0, (number, runs)
    stats = emulator.state.stats()
    assert stats["unique"] == 2999 and stats["recipients"] == 2999 and stats["duplicates"] == 0
    assert leaver.email not in {r["to"] for r in emulator.state.records}
    assert Delivery.objects.get(digest=digest, subscriber=leaver).status == D.SKIPPED


def test_429_and_503_retried_until_accepted_and_timeout_after_acceptance_is_unknown(start_worker, emulator) -> None:
    daily = make_digest()
    make_subscribers(1500)
    # Two batches; each is refused twice (a 429, then a 503, in whatever order they come) before
    # it is accepted: the answers are queued in the emulator, not timed.
    emulator.state.set_faults({"statuses": [429, 429, 503, 503]})
    worker = start_worker("w1", INTEGRATION_READ_TIMEOUT="1.5")
    dispatch.dispatch(digest_id=daily.id)
    wait_for(lambda: finished(daily.id), timeout=60, what="retries to succeed", workers=[worker])
    stats = emulator.state.stats()
    assert stats["rejected_by_status"] == {429: 2, 503: 2}
    assert stats["accepted_requests"] == 2
    assert stats["unique"] == 1500 and stats["recipients"] == 1500 and stats["duplicates"] == 0
    assert set(Delivery.objects.filter(digest=daily).values_list("attempts", flat=True)) == {3}

    weekly = make_digest(frequency="weekly")
    make_subscribers(40, frequency="weekly", prefix="weekly")
    emulator.state.set_faults({"delay": 4, "count": 1})  # accepted, answered after the timeout
    dispatch.dispatch(digest_id=weekly.id)
    wait_for(lambda: finished(weekly.id), timeout=30, what="the timed-out batch", workers=[worker])
    # Settled as unknown, not retried (a retry would have re-queued and then sent them).
    report = counts.report(digest_id=weekly.id)
    assert (report.sent, report.unknown) == (0, 40)
    weekly_records = [r for r in emulator.state.records if r["to"].startswith("weekly")]
    assert len(weekly_records) == 40 and emulator.state.stats()["accepted_requests"] == 3


@pytest.mark.redis_broker  # flushes the Redis database the tasks wait in
def test_broker_messages_lost_then_the_sweeper_sends_everything_once(start_worker, emulator, settings) -> None:
    """Redis lost every queued task (a restart without persistence): the database still knows."""
    from sitewide.redis_client import get_redis

    digest = make_digest()
    make_subscribers(2_000)
    dispatch.dispatch(digest_id=digest.id)
    assert get_redis().llen("send") == 2
    get_redis().flushdb()  # this test's own Redis database (TEST_REDIS_DB): the tasks are gone
    worker = start_worker("w1")
    assert get_redis().llen("send") == 0 and emulator.state.stats()["requests"] == 0  # nothing to run
    backdate(digest.id, queued_at=timedelta(hours=1))
    assert sweeper.sweep().reenqueued_batches == 2
    wait_for(lambda: finished(digest.id), timeout=60, what="swept batches", workers=[worker])
    stats = emulator.state.stats()
    assert stats["unique"] == 2000 and stats["recipients"] == 2000 and stats["duplicates"] == 0


@pytest.mark.redis_broker  # RabbitMQ has no visibility timeout: a message stays with its consumer
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

    def received() -> int:
        return sum(
            1
            for w in workers
            for line in w.log.read_text().splitlines()
            if "newsletter.tasks.send_batch[" in line and "received" in line.lower()
        )

    wait_for(lambda: received() >= 2, timeout=30, what="the redelivery (else the test proves nothing)", workers=workers)
    wait_for(lambda: len(batch_results(workers)) >= 2, timeout=30, what="the redelivered copy to finish")
    stats = emulator.state.stats()
    assert stats["recipients"] == 300 and stats["duplicates"] == 0


def _sessions() -> int:
    """Connections ever opened to this database (PostgreSQL 14+'s cumulative statistics)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's session count; SQLite keeps no connection (CONN_MAX_AGE 0)"
)
def test_a_worker_keeps_its_database_connection_from_batch_to_batch(start_worker, emulator, settings) -> None:
    """Celery's Django fix-up closed the connection around every task: a new PostgreSQL backend
    per batch, 1,000 of them for a million recipients, on the cores the send shares with the
    database. config.celery now applies DB_CONN_MAX_AGE around each task, as around a request,
    and a connection the server dropped meanwhile is replaced before the next batch uses it."""
    settings.SEND_BATCH_SIZE = 100
    make_subscribers(1_000)
    worker = start_worker("w1", SEND_BATCH_SIZE="100")
    before = _sessions()
    first = make_digest()
    assert len(dispatch.dispatch(digest_id=first.id).batches) == 10
    wait_for(lambda: finished(first.id), timeout=60, what="the first edition", workers=[worker])
    # The database restarts under the idle worker: its connection is gone.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
        assert cursor.fetchone()[0] >= 1
    second = make_digest()  # the next date
    assert len(dispatch.dispatch(digest_id=second.id).batches) == 10
    wait_for(lambda: finished(second.id), timeout=60, what="the second edition", workers=[worker])
    worker.stop()  # its connections end, and their statistics are flushed
    wait_for(lambda: _sessions() > before, timeout=10, what="the worker's sessions counted")
    opened = _sessions() - before
    stats = emulator.state.stats()
    assert (stats["recipients"], stats["unique"]) == (2_000, 1_000)  # each reader, once per edition
    assert counts.report(digest_id=first.id).sent == counts.report(digest_id=second.id).sent == 1_000
    # One connection, one more after the drop, and at most one for the worker's main process.
    assert opened <= 3, f"{opened} connections opened for 20 batches"
