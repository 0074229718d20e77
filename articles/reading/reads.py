"""Read counting in Redis (the hot path). The roll-up into ArticleDailyStats is
articles.reading.rollup.

Guarantees, in one place:

* Counting a read is ONE Redis script call and zero SQL: HINCRBY the article's views in the
  day's hash, PFADD the reader id to the article's day HyperLogLog (distinct readers) unless the
  client's network already added READS_MAX_READERS_PER_IP_PER_DAY readers to it that day, EXPIRE.
  "Day" is the local date in TIME_ZONE. Keys live READS_RETENTION_DAYS + READS_KEY_MARGIN_DAYS.
* Who the reader is (signed cookie, else a daily IP+UA hash; never a raw IP) and which network
  a read is capped under: articles.reading.visitors.
* Bots, link-preview fetchers, HEAD and prefetch requests are not counted (`should_count`).
  Staff previews are filtered by the article view, which can afford a session lookup.
* The beacon validates article ids and canonical URLs against the Redis index of published
  articles (articles.content.published), so an unknown id is refused without SQL.
* Losing Redis loses at most the reads since the last roll-up (articles.reading.rollup says how).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from redis.client import Pipeline

from articles.content.published import PUBLISHED_KEY, rebuild_index
from sitewide.redis_client import get_redis, script

from . import conf, visitors

PREFIX = "reads"
KEY_MARGIN_DAYS = 2
EPOCH_KEY = f"{PREFIX}:epoch"

# Crawlers, monitors and link-preview fetchers (chat apps and social networks unfurling a link).
_BOT_UA = re.compile(
    r"bot\b|bot/|crawl|spider|slurp|archiver|facebookexternalhit|facebookcatalog|embedly|"
    r"whatsapp|telegram|skypeuripreview|slack|discord|vkshare|pinterest|quora link preview|"
    r"linkedin|redditbot|applebot|bingpreview|preview|headless|phantomjs|lighthouse|"
    r"pingdom|uptime|monitor|curl/|wget/|python-requests|python-urllib|httpx|aiohttp|go-http-client|"
    r"java/|okhttp|libwww|scrapy|feedfetcher|feedparser|rss|^$",
    re.IGNORECASE,
)


def views_key(day: date) -> str:
    return f"{PREFIX}:v:{day.isoformat()}"


def readers_key(day: date, article_id: int) -> str:
    return f"{PREFIX}:u:{day.isoformat()}:{article_id}"


def networks_key(day: date, article_id: int) -> str:
    """New readers each client network added to the article that day (the per-IP cap)."""
    return f"{PREFIX}:n:{day.isoformat()}:{article_id}"


def offsets_key(day: date) -> str:
    """Readers rolled up before a Redis restart (see module docstring), per article."""
    return f"{PREFIX}:r0:{day.isoformat()}"


def key_ttl_seconds() -> int:
    return (conf.settings().READS_RETENTION_DAYS + KEY_MARGIN_DAYS) * 86400


def today() -> date:
    return timezone.localdate()


# --- Who and what counts ----------------------------------------------------------------------


def is_bot(user_agent: str) -> bool:
    return bool(_BOT_UA.search(user_agent))


def is_prefetch(meta: Mapping[str, str]) -> bool:
    purpose = (meta.get("HTTP_SEC_PURPOSE", "") + " " + meta.get("HTTP_PURPOSE", "")).lower()
    return "prefetch" in purpose or "preview" in purpose or meta.get("HTTP_X_MOZ", "").lower() == "prefetch"


def should_count_meta(method: str, meta: Mapping[str, str]) -> bool:
    """Header-only checks (no SQL) on a WSGI environ / request.META: a human GET or POST that
    is not a prefetch."""
    if method not in ("GET", "POST"):
        return False
    if is_prefetch(meta):
        return False
    return not is_bot(meta.get("HTTP_USER_AGENT", ""))


def should_count(request: HttpRequest) -> bool:
    return should_count_meta(request.method or "", request.META)


def count_request(request: HttpRequest, article_id: int) -> bool:
    """Count the read this request represents, if it should count. Returns whether it did."""
    if not should_count(request):
        return False
    day = today()
    visitor = visitors.identify_request(request, day=day)
    record_read(article_id, visitor.id, network=visitor.network, day=day)
    return True


# --- Counting (hot path: Redis only) ----------------------------------------------------------

# One script for both paths: the article page counts directly (check=0), the beacon counts only
# if the id is in the published index (check=1); atomic, so an unknown id stores nothing.
# A network (the client's IP or IPv6 /64, hashed) adds a reader only while it has added fewer
# than the cap to this article today; PFADD answers 1 only when the HyperLogLog changed, so a
# returning reader costs nothing against the cap. Views are counted regardless.
# A reader some service follows (`follow`: a browser a newsletter click identified) also has the
# read appended to the followed log, for that service to collect (`drain_followed`).
# KEYS: published index, day's views hash, article-day readers HLL, article-day networks hash,
# the reader's follow key, the followed log.
# ARGV: article id, visitor ('' = only check), TTL, check, network ('' = uncapped), cap (0 = none),
# networks TTL, the Unix time.
_COUNT = """
if ARGV[4] == '1' and redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
  return 0
end
if ARGV[2] == '' then return 1 end
local followed = redis.call('GET', KEYS[5])
if followed then redis.call('RPUSH', KEYS[6], followed .. ' ' .. ARGV[1] .. ' ' .. ARGV[8]) end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('EXPIRE', KEYS[2], ARGV[3])
local cap = tonumber(ARGV[6])
if ARGV[5] ~= '' and cap > 0 then
  if tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or '0') >= cap then return 1 end
  if redis.call('PFADD', KEYS[3], ARGV[2]) == 1 then
    redis.call('HINCRBY', KEYS[4], ARGV[5], 1)
    redis.call('EXPIRE', KEYS[4], ARGV[7])
  end
else
  redis.call('PFADD', KEYS[3], ARGV[2])
end
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""
NETWORKS_TTL_SECONDS = 2 * 86400  # the cap is per day: the key outlives its day, then goes


def _count(article_id: int, visitor: str | None, *, check: bool, network: str, day: date) -> int:
    keys = [
        PUBLISHED_KEY,
        views_key(day),
        readers_key(day, article_id),
        networks_key(day, article_id),
        follow_key(visitor or "-"),
        FOLLOWED_LOG,
    ]
    args: list[str | int] = [
        article_id,
        visitor or "",
        key_ttl_seconds(),
        1 if check else 0,
        network,
        conf.settings().READS_MAX_READERS_PER_IP_PER_DAY,
        NETWORKS_TTL_SECONDS,
        int(time.time()),
    ]
    return int(script(_COUNT)(keys=keys, args=args))


def record_read(article_id: int, visitor: str, *, network: str = "", day: date | None = None) -> None:
    """Count one read: one Redis round trip, no SQL. network="" is not capped (imports, demos)."""
    _count(article_id, visitor, check=False, network=network, day=day or today())


def record_read_if_published(
    article_id: int, visitor: str | None, *, network: str = "", day: date | None = None
) -> bool:
    """Validate against the published index and count, in one Redis round trip (no SQL).
    visitor=None only checks. Returns whether the article is published.

    If the index itself is missing (Redis restarted and no roll-up ran yet), it is rebuilt
    once from the database (one process does it, under a short lock) instead of refusing
    every read until the next roll-up."""
    if article_id <= 0:
        return False
    day = day or today()
    outcome = _count(article_id, visitor, check=True, network=network, day=day)
    if outcome == -1 and get_redis().set(f"{PREFIX}:rebuilding", 1, nx=True, ex=30):
        rebuild_index()
        outcome = _count(article_id, visitor, check=True, network=network, day=day)
    return outcome == 1


# --- Followed readers ---------------------------------------------------------------------------

FOLLOW_PREFIX = f"{PREFIX}:follow:"
FOLLOWED_LOG = f"{PREFIX}:followed"


@dataclass(frozen=True)
class FollowedRead:
    tag: str  # what the follower named the reader with
    article_id: int
    at: int  # Unix time


def follow_key(visitor: str) -> str:
    return f"{FOLLOW_PREFIX}{visitor}"


def follow(pipe: Pipeline, *, visitor: str, tag: str, seconds: int) -> None:
    """Follow this reader's reads for `seconds`: each read they make is appended to the followed
    log with `tag` (a newsletter click names the browser with the subscriber; nothing else is
    kept). In the caller's pipeline: no round trip of its own."""
    pipe.set(follow_key(visitor), tag, ex=max(int(seconds), 1))


def drain_followed(*, limit: int = 10_000) -> list[FollowedRead]:
    """Take up to `limit` entries off the followed log, oldest first (each is taken once)."""
    taken: list[bytes] = get_redis().lpop(FOLLOWED_LOG, limit) or []  # type: ignore[assignment]
    reads: list[FollowedRead] = []
    for entry in taken:
        tag, article, at = entry.decode().split(" ")
        reads.append(FollowedRead(tag, int(article), int(at)))
    return reads
