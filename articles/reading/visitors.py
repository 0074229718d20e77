"""Who a read comes from, for the most-read ranking: the reader id, and the network whose
contribution of new readers is capped (articles.reading.reads counts both in one Redis script).

* The reader id is our first-party cookie `rid` when it carries a valid signature, else an HMAC
  of the client IP (sitewide.client_ip) and User-Agent under a random salt that rotates daily (the
  salt lives in Redis for two days, then yesterday's hashes cannot be recomputed). No raw IP is
  ever stored.
* The cookie is `<id>.<mac>`: the MAC is HMAC-SHA256 under a key derived from HASH_KEY (kept
  across SECRET_KEY rotations, so a year-long cookie survives them), truncated to 128 bits, which
  is plenty to stop guessing and keeps the cookie short. An unsigned, truncated or tampered
  cookie counts as no cookie: the reader is the IP+UA hash and the page hands out a fresh signed
  cookie. Without the signature any string of the right shape was a new distinct reader, so one
  client could buy a place in the ranking.
* Signed cookies can still be collected by fetching pages, so each client network (the IP, or
  the /64 for IPv6: sitewide.client_ip.limit_key) may add at most READS_MAX_READERS_PER_IP_PER_DAY
  new readers to one article per day. The network is kept only as an HMAC under the daily salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

from sitewide.client_ip import client_ip, limit_key
from sitewide.redis_client import get_redis

VISITOR_COOKIE = "rid"
VISITOR_COOKIE_AGE = 365 * 86400
COOKIE_VALUE_PATTERN = r"[A-Za-z0-9_-]{16,64}\.[A-Za-z0-9_-]{22}"
_COOKIE_VALUE_RE = re.compile(rf"^{COOKIE_VALUE_PATTERN}$")
# The WSGI fast paths (articles.reading.wsgi, newsletter.clicks.wsgi) find the cookie in
# the raw Cookie header with this one regex.
_COOKIE_IN_HEADER_RE = re.compile(rf"(?:^|;\s*){VISITOR_COOKIE}=({COOKIE_VALUE_PATTERN})(?:;|$)")
SALT_KEY_PREFIX = "reads:salt"


@dataclass(frozen=True)
class Visitor:
    id: str
    from_cookie: bool
    network: str  # HMAC of the client's limit_key under the daily salt; "" when no address


@lru_cache(maxsize=4)
def _cookie_key(hash_key: str) -> bytes:
    return hashlib.sha256(b"articles.visitors.cookie\n" + hash_key.encode()).digest()


def _mac(visitor_id: str) -> str:
    digest = hmac.new(_cookie_key(settings.HASH_KEY), visitor_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


def sign_cookie(visitor_id: str) -> str:
    """The cookie value for a reader id (16-64 characters of [A-Za-z0-9_-])."""
    return f"{visitor_id}.{_mac(visitor_id)}"


def read_cookie(value: str) -> str | None:
    """The reader id of a correctly signed cookie, else None."""
    if not value or not _COOKIE_VALUE_RE.match(value):
        return None
    visitor_id, _, mac = value.partition(".")
    return visitor_id if hmac.compare_digest(mac, _mac(visitor_id)) else None


def cookie_from_header(header: str) -> str:
    """The `rid` cookie's value in a raw Cookie header, "" when there is none of its shape."""
    match = _COOKIE_IN_HEADER_RE.search(header)
    return match.group(1) if match else ""


def set_cookie(response: HttpResponseBase, value: str, *, secure: bool) -> None:
    """Set the `rid` cookie (a signed value, `sign_cookie`) on a Django response: the one place
    its attributes are chosen; `cookie_header` writes the same for the WSGI fast path."""
    response.set_cookie(VISITOR_COOKIE, value, max_age=VISITOR_COOKIE_AGE, httponly=True, samesite="Lax", secure=secure)


def cookie_header(value: str, *, secure: bool) -> str:
    """The Set-Cookie header value of `set_cookie`, for a response written without Django."""
    header = f"{VISITOR_COOKIE}={value}; Max-Age={VISITOR_COOKIE_AGE}; Path=/; HttpOnly; SameSite=Lax"
    return header + "; Secure" if secure else header


_salt_cache: tuple[date, bytes] | None = None


def daily_salt(day: date) -> bytes:
    """Random per-day salt shared by all processes through Redis, cached in the process.
    One extra round trip per process per day, outside the counting script."""
    global _salt_cache
    if _salt_cache is not None and _salt_cache[0] == day:
        return _salt_cache[1]
    key = f"{SALT_KEY_PREFIX}:{day.isoformat()}"
    pipe = get_redis().pipeline(transaction=False)
    pipe.set(key, secrets.token_hex(32), nx=True, ex=2 * 86400)
    pipe.get(key)
    _, salt = pipe.execute()
    _salt_cache = (day, salt)
    return salt


def identify(meta: Mapping[str, str], cookie: str, *, day: date | None = None) -> Visitor:
    """The reader and network of a request, from its WSGI environ / request.META and the raw
    `rid` cookie value. No SQL; Redis only for the first salt of the day in this process."""
    salt = daily_salt(day or timezone.localdate())
    ip = client_ip(meta)
    # A keyed BLAKE2b: one C call (HMAC-SHA256 is two layers of Python), on every read.
    network = hashlib.blake2b(limit_key(ip).encode(), key=salt[:64], digest_size=8).hexdigest() if ip else ""
    signed = read_cookie(cookie)
    if signed is not None:
        return Visitor(id=signed, from_cookie=True, network=network)
    ua = meta.get("HTTP_USER_AGENT", "")
    hashed = hmac.new(salt, f"{ip}\n{ua}".encode(), hashlib.sha256).hexdigest()[:32]
    return Visitor(id=hashed, from_cookie=False, network=network)


def identify_request(request: HttpRequest, *, day: date | None = None) -> Visitor:
    return identify(request.META, request.COOKIES.get(VISITOR_COOKIE, ""), day=day)
