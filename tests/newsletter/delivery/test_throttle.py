"""The shared send rate limit (Redis token bucket), on a controlled clock: the bucket's time is
passed in (throttle.reserve's `clock`), so every wait is computed exactly, not measured against
real time on a loaded machine."""

from __future__ import annotations

import threading

import pytest

from newsletter.delivery import throttle
from sitewide.redis_client import get_redis


def penalty_factor() -> float:
    """The shared rate's factor as the workers read it (1.0 with no 429 penalty in force)."""
    value = get_redis().get(throttle.PENALTY_KEY)
    return float(value) if value else 1.0


NO_SLEEP = lambda seconds: None  # noqa: E731


class Clock:
    """Seconds, moved only by the test."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_unlimited_when_rate_is_zero(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 0
    assert throttle.reserve(10_000).waited == 0


def test_a_batch_beyond_the_burst_waits_its_turn(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 100
    clock, slept = Clock(), list[float]()
    first = throttle.reserve(100, sleep=slept.append, clock=clock)  # the first second's burst
    second = throttle.reserve(50, sleep=slept.append, clock=clock)  # 50 tokens at 100/s
    assert first.waited == 0
    assert second.waited == 0.5 and sum(slept) == pytest.approx(0.5)
    assert max(slept) <= 0.25  # slept in small steps
    clock.advance(10)  # the bucket refills to its burst, never beyond
    assert throttle.reserve(100, sleep=NO_SLEEP, clock=clock).waited == 0
    assert throttle.reserve(1, sleep=NO_SLEEP, clock=clock).waited == 0.01


def test_the_bucket_refills_with_time(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 100
    clock = Clock()
    throttle.reserve(100, sleep=NO_SLEEP, clock=clock)
    clock.advance(0.3)  # 30 tokens back
    assert throttle.reserve(30, sleep=NO_SLEEP, clock=clock).waited == 0
    assert throttle.reserve(10, sleep=NO_SLEEP, clock=clock).waited == 0.1


def test_concurrent_reservations_never_overdraw_the_shared_bucket(settings) -> None:
    """Twelve workers reserve at the same instant, each on a connection of its own (redis-py's
    pool hands each thread its own, as separate processes would have): the script runs
    atomically, so their waits are exactly the queue 0, 0, 0.5, 1.0, ... 5.0 s; an overdraw
    (two workers reading the same bucket state) would show as two equal waits."""
    settings.SEND_RATE_PER_SECOND = 1000
    clock = Clock()
    workers = 12
    barrier = threading.Barrier(workers)
    waits: list[float] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            waits.append(throttle.reserve(500, sleep=NO_SLEEP, clock=clock).waited)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors
    # Burst 1,000 covers the first two; then each 500 tokens wait 0.5 s more than the last.
    assert sorted(waits) == [0.0, 0.0] + [0.5 * n for n in range(1, workers - 1)]


def test_too_long_a_wait_takes_nothing_and_says_when(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 10
    clock = Clock()
    with pytest.raises(throttle.RateLimited) as info:
        throttle.reserve(1000, max_wait=5, sleep=NO_SLEEP, clock=clock)
    assert info.value.wait == pytest.approx(99.0)  # 1,000 tokens at 10/s after a burst of 10
    assert throttle.reserve(10, sleep=NO_SLEEP, clock=clock).waited == 0  # nothing was taken


def test_a_429_halves_the_rate_for_everyone(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 100
    clock = Clock()
    assert throttle.penalise() == 0.5
    assert throttle.penalise() == 0.25
    assert penalty_factor() == 0.25
    throttle.reserve(25, sleep=NO_SLEEP, clock=clock)  # the whole burst at 25/s
    assert throttle.reserve(25, sleep=NO_SLEEP, clock=clock).waited == 1.0
    for _ in range(10):
        throttle.penalise()
    assert penalty_factor() == throttle.MIN_FACTOR
    assert 0 < get_redis().ttl(throttle.PENALTY_KEY) <= throttle.THROTTLE_PENALTY_SECONDS
