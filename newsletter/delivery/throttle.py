"""The send rate limit shared by every worker on every machine: a token bucket in Redis.

A per-worker limit multiplies by the number of workers (listmonk PR#2974); this one lives in
Redis and is updated by one Lua script, so concurrent workers never overdraw it. It is a
reservation bucket: a batch reserves all its tokens at once and is told how long to wait, so a
1,000-recipient batch under a 100/s quota waits its turn instead of spinning. The clock is
Redis's own (TIME), so machines with skewed clocks agree.

A 429 from the ESP halves the effective rate for THROTTLE_PENALTY_SECONDS (down to 1/16 of it);
the penalty is in Redis too, so every worker slows down at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sitewide.redis_client import script

from . import conf

BUCKET_KEY = "send:throttle:bucket"
PENALTY_KEY = "send:throttle:penalty"
THROTTLE_PENALTY_SECONDS = 60
MIN_FACTOR = 1 / 16
# A batch never waits longer than this inside a task: beyond it the task is retried later,
# so a worker is not held and a claimed row never ages towards the sweeper's timeout.
MAX_WAIT_SECONDS = 20.0

# KEYS: bucket, penalty. ARGV: rate per second, burst (seconds of the effective rate), tokens
# wanted, max wait (ms), and optionally the time in ms (a caller's clock; Redis's TIME otherwise).
# Returns the wait in ms (0: go now); -1 with the wait needed when it is too long (nothing taken).
_RESERVE = """
local rate = tonumber(ARGV[1])
local factor = tonumber(redis.call('GET', KEYS[2]) or '1')
rate = rate * factor
local burst = math.max(rate * tonumber(ARGV[2]), 1)
local wanted = tonumber(ARGV[3])
local max_wait = tonumber(ARGV[4])
local now = tonumber(ARGV[5] or '')
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + (now - ts) * rate / 1000)
local after = tokens - wanted
local wait = 0
if after < 0 then
  wait = math.ceil(-after * 1000 / rate)
end
if wait > max_wait then
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
  redis.call('PEXPIRE', KEYS[1], 3600000)
  return {-1, wait}
end
redis.call('HSET', KEYS[1], 'tokens', tostring(after), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], 3600000)
return {0, wait}
"""

_PENALISE = """
local factor = tonumber(redis.call('GET', KEYS[1]) or '1') / 2
if factor < tonumber(ARGV[1]) then factor = tonumber(ARGV[1]) end
redis.call('SET', KEYS[1], tostring(factor), 'EX', tonumber(ARGV[2]))
return tostring(factor)
"""


class RateLimited(Exception):
    """The batch would wait longer than MAX_WAIT_SECONDS: retry the task after `wait` seconds."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"send rate limit: retry in {wait:.1f}s")
        self.wait = wait


@dataclass(frozen=True)
class Reservation:
    tokens: int
    waited: float


def rate_per_second() -> float:
    return float(conf.settings().SEND_RATE_PER_SECOND)


def reserve(
    tokens: int,
    *,
    max_wait: float = MAX_WAIT_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] | None = None,
) -> Reservation:
    """Take `tokens` from the shared bucket, sleeping (in small steps) until they are due.

    Raises RateLimited, taking nothing, when that would be longer than max_wait. `clock`
    (seconds) replaces Redis's TIME, so tests can move time by hand instead of waiting."""
    rate = rate_per_second()
    if rate <= 0 or tokens <= 0:
        return Reservation(tokens, 0.0)
    # Burst of one second's (effective) quota, so a fresh bucket starts at once.
    burst = 1.0
    args: list[float | int] = [rate, burst, tokens, int(max_wait * 1000)]
    if clock is not None:
        args.append(int(clock() * 1000))
    flag, wait_ms = script(_RESERVE)(keys=[BUCKET_KEY, PENALTY_KEY], args=args)
    wait = int(wait_ms) / 1000
    if int(flag) == -1:
        raise RateLimited(wait)
    remaining = wait
    while remaining > 0:  # small steps: a stopping worker is not stuck in one long sleep
        step = min(remaining, 0.25)
        sleep(step)
        remaining -= step
    return Reservation(tokens, wait)


def penalise() -> float:
    """The ESP answered 429: halve the shared rate for a while. Returns the new factor."""
    return float(script(_PENALISE)(keys=[PENALTY_KEY], args=[MIN_FACTOR, THROTTLE_PENALTY_SECONDS]))
