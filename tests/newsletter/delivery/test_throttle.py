"""The shared send rate limit (Redis token bucket)."""

from __future__ import annotations

import pytest

from newsletter.delivery import throttle


def test_unlimited_when_rate_is_zero(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 0
    assert throttle.reserve(10_000).waited == 0


def test_a_batch_beyond_the_burst_waits_its_turn(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 100
    slept: list[float] = []
    first = throttle.reserve(100, sleep=slept.append)  # the first second's burst
    second = throttle.reserve(50, sleep=slept.append)  # must wait ~0.5 s
    assert first.waited == 0
    assert 0.4 <= second.waited <= 0.55


def test_workers_share_one_bucket(settings) -> None:
    """The bucket lives in Redis: every caller (any process, any machine) draws from it, so
    reservations queue up behind each other instead of each getting the full rate."""
    settings.SEND_RATE_PER_SECOND = 1000
    waits = [throttle.reserve(n, sleep=lambda s: None).waited for n in (1000, 500, 500)]
    assert waits[0] == 0
    assert 0.4 <= waits[1] <= 0.51 and 0.9 <= waits[2] <= 1.01


def test_too_long_a_wait_takes_nothing_and_says_when(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 10
    with pytest.raises(throttle.RateLimited) as info:
        throttle.reserve(1000, max_wait=5, sleep=lambda s: None)
    assert info.value.wait > 5
    assert throttle.reserve(10, sleep=lambda s: None).waited == 0  # nothing was taken


def test_a_429_halves_the_rate_for_everyone(settings) -> None:
    settings.SEND_RATE_PER_SECOND = 100
    assert throttle.penalise() == 0.5
    assert throttle.penalise() == 0.25
    assert throttle.current_factor() == 0.25
    throttle.reserve(25, sleep=lambda s: None)  # the whole burst at 25/s
    assert 0.9 <= throttle.reserve(25, sleep=lambda s: None).waited <= 1.05
    for _ in range(10):
        throttle.penalise()
    assert throttle.current_factor() == throttle.MIN_FACTOR
