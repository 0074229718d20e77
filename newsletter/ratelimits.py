"""Abuse limits for the signup endpoints, kept in Redis (shared by every web process).

Two kinds of limit:
- per client IP: how many signup submissions an IP may make per hour (a bot hammering the form);
- per address: how many confirmation / "already subscribed" emails one address may receive,
  at most SIGNUP_EMAILS_PER_10_MIN per 10 minutes and SIGNUP_EMAILS_PER_DAY per day, however many
  submissions name it (subscription bombing, listmonk#308).

Keys hold keyed hashes, never an address or an IP. Fixed windows are enough here: the limits are
small and a burst at a window edge is still bounded by the daily window. The address check is one
Lua script so that "check both windows, then count the email" cannot race between two requests.

Written as a small module instead of django-ratelimit because the per-address rule counts
*emails sent* across two windows atomically (not requests), which django-ratelimit's decorator
does not express; the per-IP rule then costs one more INCR and no extra dependency.

If Redis is unreachable we fail closed for emails (send nothing rather than risk bombing) and
open for the IP limit (the form keeps working; the address limit still protects inboxes).
"""
from __future__ import annotations

import logging

import redis
from django.conf import settings

from config.redis_client import get_redis

from .addresses import keyed_hash

logger = logging.getLogger(__name__)

_PREFIX = "rl:signup"

# KEYS: one counter per window; ARGV: limit1, ttl1, limit2, ttl2, ...
# Counts the email only if every window still has room; returns 1 (allowed) or 0.
_CHECK_AND_COUNT = """
for i = 1, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if current >= tonumber(ARGV[2 * i - 1]) then
    return 0
  end
end
for i = 1, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i]))
  end
end
return 1
"""


def ip_key_hash(ip: str) -> str:
    return keyed_hash(ip or "unknown", purpose="ratelimit-ip")


def allow_submission(*, ip: str) -> bool:
    """Count one signup submission from this IP; False once the hourly limit is passed."""
    limit = settings.SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR
    if limit <= 0:
        return True
    key = f"{_PREFIX}:ip:{ip_key_hash(ip)}"
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, 3600, nx=True)
        count, _ = pipe.execute()
    except redis.RedisError:
        logger.warning("rate limit store unavailable; allowing the submission")
        return True
    return int(count) <= limit


def allow_email(*, address_hash: str) -> bool:
    """Reserve one subscriber email for this address if both windows have room."""
    windows = [
        ("10m", settings.SIGNUP_EMAILS_PER_10_MIN, 600),
        ("1d", settings.SIGNUP_EMAILS_PER_DAY, 86400),
    ]
    keys = [f"{_PREFIX}:addr:{name}:{address_hash}" for name, _limit, _ttl in windows]
    args: list[int] = []
    for _name, limit, ttl in windows:
        args += [limit, ttl]
    try:
        allowed = get_redis().eval(_CHECK_AND_COUNT, len(keys), *keys, *args)
    except redis.RedisError:
        logger.warning("rate limit store unavailable; not sending a subscriber email")
        return False
    return bool(allowed)
