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

The signup form uses `check_signup`: both limits in ONE round trip (one EVALSHA), the email slot
reserved up front. A slot reserved for an address that then turns out to be blocked (bounced,
complained, suppressed) is simply never used: that only makes the address limit stricter.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import redis

from sitewide.client_ip import limit_key
from sitewide.redis_client import script

from . import conf
from .addresses import keyed_hash

logger = logging.getLogger(__name__)

_PREFIX = "rl:signup"

# KEYS[1]: the IP counter, KEYS[2..]: the address windows; ARGV[1], ARGV[2]: IP limit (<= 0: none)
# and its TTL, then limit, ttl per address window. Returns {submission allowed, email reserved};
# an IP over its limit reserves nothing. The email is counted only if every window has room.
_SIGNUP_CHECK = """
local ip_limit = tonumber(ARGV[1])
if ip_limit > 0 then
  local n = redis.call('INCR', KEYS[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]), 'NX')
  if n > ip_limit then
    return {0, 0}
  end
end
for i = 2, #KEYS do
  local current = tonumber(redis.call('GET', KEYS[i]) or '0')
  if current >= tonumber(ARGV[2 * i - 1]) then
    return {1, 0}
  end
end
for i = 2, #KEYS do
  local n = redis.call('INCR', KEYS[i])
  if n == 1 then
    redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i]))
  end
end
return {1, 1}
"""


@dataclass(frozen=True)
class SignupAllowance:
    submission_allowed: bool  # False: the IP is over its hourly limit, nothing else was counted
    email_reserved: bool  # one subscriber email for this address fits both windows (and is counted)


def _address_windows() -> list[tuple[str, int, int]]:
    return [
        ("10m", conf.settings().SIGNUP_EMAILS_PER_10_MIN, 600),
        ("1d", conf.settings().SIGNUP_EMAILS_PER_DAY, 86400),
    ]


def _check(*, ip_key: str, ip_limit: int, address_hash: str) -> tuple[bool, bool]:
    windows = _address_windows()
    keys = [ip_key] + [f"{_PREFIX}:addr:{name}:{address_hash}" for name, _limit, _ttl in windows]
    args: list[int] = [ip_limit, 3600]
    for _name, limit, ttl in windows:
        args += [limit, ttl]
    submission, email = script(_SIGNUP_CHECK)(keys=keys, args=args)
    return bool(submission), bool(email)


def check_signup(*, ip: str, address_hash: str) -> SignupAllowance:
    """Count one submission from this IP and, if allowed, reserve one email for the address."""
    try:
        submission, email = _check(
            ip_key=f"{_PREFIX}:ip:{ip_key_hash(ip)}",
            ip_limit=conf.settings().SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR,
            address_hash=address_hash,
        )
    except redis.RedisError:
        logger.warning("rate limit store unavailable; allowing the submission, sending no email")
        return SignupAllowance(submission_allowed=True, email_reserved=False)
    if not submission:
        # The network, never the address: logs keep no personal data.
        logger.warning(
            "signup limit reached for a client network (%s/hour)", conf.settings().SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR
        )
    return SignupAllowance(submission_allowed=submission, email_reserved=email)


def ip_key_hash(ip: str) -> str:
    """The IP limit's key: per address for IPv4, per /64 for IPv6 (sitewide.client_ip.limit_key)."""
    return keyed_hash(limit_key(ip) if ip else "unknown", purpose="ratelimit-ip")


def allow_email(*, address_hash: str) -> bool:
    """Reserve one subscriber email for this address if both windows have room (no IP counted)."""
    try:
        _submission, email = _check(ip_key=f"{_PREFIX}:ip:none", ip_limit=0, address_hash=address_hash)
    except redis.RedisError:
        logger.warning("rate limit store unavailable; not sending a subscriber email")
        return False
    return email
