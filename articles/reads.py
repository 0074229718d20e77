"""Read counting in Redis (the hot path) and its roll-up into ArticleDailyStats.

Guarantees, in one place:

* Counting a read is ONE Redis pipeline and zero SQL: HINCRBY the article's views in the day's
  hash, PFADD the visitor id to the article's day HyperLogLog (distinct readers), EXPIRE both.
  "Day" is the local date in TIME_ZONE. Keys live READS_RETENTION_DAYS + READS_KEY_MARGIN_DAYS.
* The visitor id is never a raw IP: it is our random first-party cookie when the browser sends
  one, else an HMAC of IP + User-Agent under a random salt that rotates daily (the salt lives in
  Redis for two days and is then gone, so yesterday's hashes cannot be recomputed).
* Bots, link-preview fetchers, HEAD and prefetch requests are not counted (`should_count`).
  Staff previews are filtered by the article view, which can afford a session lookup.
* The beacon validates article ids and canonical URLs against a Redis index of published
  articles (`reads:pub`, `reads:url`), kept on save/publish and rebuilt by every roll-up, so an
  unknown id is refused without SQL.
* `flush_to_database` writes absolute per-day values with GREATEST(existing, new): running it
  twice, or two at once, never double-counts.
* What a Redis restart (without persistence) loses: the reads counted since the last roll-up
  (5 minutes by default). The next roll-up notices the restart (the `reads:epoch` marker is
  gone) and first loads the database figures of the retained days back into Redis (views as
  counters, readers as per-day offsets), so counting continues from the rolled-up totals instead
  of restarting at zero; a reader seen both before and after the restart may count twice that day.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone

from config.redis_client import get_redis

log = logging.getLogger(__name__)

PREFIX = "reads"
KEY_MARGIN_DAYS = 2
VISITOR_COOKIE = "rid"
VISITOR_COOKIE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
PUBLISHED_KEY = f"{PREFIX}:pub"
URLS_KEY = f"{PREFIX}:url"
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


def offsets_key(day: date) -> str:
    """Readers rolled up before a Redis restart (see module docstring), per article."""
    return f"{PREFIX}:r0:{day.isoformat()}"


def key_ttl_seconds() -> int:
    return (settings.READS_RETENTION_DAYS + KEY_MARGIN_DAYS) * 86400


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


_salt_cache: tuple[date, bytes] | None = None


def _daily_salt(day: date) -> bytes:
    """Random per-day salt shared by all processes through Redis, cached in the process.
    One extra round trip per process per day, outside the counting pipeline."""
    global _salt_cache
    if _salt_cache is not None and _salt_cache[0] == day:
        return _salt_cache[1]
    key = f"{PREFIX}:salt:{day.isoformat()}"
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    pipe.set(key, secrets.token_hex(32), nx=True, ex=2 * 86400)
    pipe.get(key)
    _, salt = pipe.execute()
    _salt_cache = (day, salt)
    return salt


def visitor_id_from(meta: Mapping[str, str], cookie: str, *, day: date | None = None) -> tuple[str, bool]:
    """(id, from_cookie). The cookie id when valid, else HMAC(daily salt, IP + User-Agent)."""
    if cookie and VISITOR_COOKIE_RE.match(cookie):
        return cookie, True
    ip = meta.get("REMOTE_ADDR", "")
    ua = meta.get("HTTP_USER_AGENT", "")
    digest = hmac.new(_daily_salt(day or today()), f"{ip}\n{ua}".encode(), hashlib.sha256)
    return digest.hexdigest()[:32], False


def visitor_id(request: HttpRequest, *, day: date | None = None) -> tuple[str, bool]:
    return visitor_id_from(request.META, request.COOKIES.get(VISITOR_COOKIE, ""), day=day)


# --- Counting (hot path: Redis only) ----------------------------------------------------------


def record_read(article_id: int, visitor: str, *, day: date | None = None) -> None:
    """Count one read: one pipeline, no SQL."""
    day = day or today()
    vkey, ukey = views_key(day), readers_key(day, article_id)
    ttl = key_ttl_seconds()
    pipe = get_redis().pipeline(transaction=False)
    pipe.hincrby(vkey, str(article_id), 1)
    pipe.pfadd(ukey, visitor)
    pipe.expire(vkey, ttl)
    pipe.expire(ukey, ttl)
    pipe.execute()


# The beacon's check-and-count in one round trip: count only if the id is in the published
# index. Same writes as record_read; atomic, so an unknown id stores nothing.
_COUNT_IF_PUBLISHED = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then
  if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
  return 0
end
if ARGV[2] == '' then return 1 end
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('PFADD', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
redis.call('EXPIRE', KEYS[3], ARGV[3])
return 1
"""
_count_script = None


def record_read_if_published(article_id: int, visitor: str | None, *, day: date | None = None) -> bool:
    """Validate against the published index and count, in one Redis round trip (no SQL).
    visitor=None only checks. Returns whether the article is published.

    If the index itself is missing (Redis restarted and no roll-up ran yet), it is rebuilt
    once from the database (one process does it, under a short lock) instead of refusing
    every read until the next roll-up."""
    global _count_script
    if article_id <= 0:
        return False
    client = get_redis()
    if _count_script is None or _count_script.registered_client is not client:
        _count_script = client.register_script(_COUNT_IF_PUBLISHED)
    day = day or today()
    keys = [PUBLISHED_KEY, views_key(day), readers_key(day, article_id)]
    args: list[str | int] = [article_id, visitor or "", key_ttl_seconds()]
    outcome = _count_script(keys=keys, args=args)
    if outcome == -1 and client.set(f"{PREFIX}:rebuilding", 1, nx=True, ex=30):
        rebuild_index()
        outcome = _count_script(keys=keys, args=args)
    return outcome == 1


def count_request(request: HttpRequest, article_id: int) -> bool:
    """Count the read this request represents, if it should count. Returns whether it did."""
    if not should_count(request):
        return False
    visitor, _ = visitor_id(request)
    record_read(article_id, visitor)
    return True


# --- Index of published articles, for the beacon ----------------------------------------------


def normalise_url(url: str) -> str | None:
    """Comparable form of an article URL: lower-case scheme and host, decoded path without a
    trailing slash, no query or fragment. None when it is not an http(s) URL."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    path = unquote(parts.path).rstrip("/")
    return f"{parts.netloc.lower()}{path}"


@dataclass(frozen=True)
class IndexEntry:
    article_id: int
    urls: tuple[str, ...]


def index_entry(article) -> IndexEntry:  # type: ignore[no-untyped-def]
    urls = [settings.SITE_URL + article.get_absolute_url()]
    if article.canonical_url:
        urls.append(article.canonical_url)
    normalised = tuple(u for u in (normalise_url(url) for url in urls) if u)
    return IndexEntry(article_id=article.pk, urls=normalised)


def index_articles(*, published: Iterable[IndexEntry], unpublished: Iterable[int] = ()) -> None:
    """Add published articles to the beacon's index and drop unpublished ones."""
    pipe = get_redis().pipeline(transaction=False)
    for entry in published:
        pipe.sadd(PUBLISHED_KEY, entry.article_id)
        for url in entry.urls:
            pipe.hset(URLS_KEY, url, entry.article_id)
    gone = [int(i) for i in unpublished]
    if gone:
        pipe.srem(PUBLISHED_KEY, *gone)
    pipe.execute()


def rebuild_index() -> int:
    """Replace the index from the database (atomically, by RENAME of freshly built keys)."""
    from .models import Article

    client = get_redis()
    tmp_pub, tmp_url = f"{PUBLISHED_KEY}:tmp:{secrets.token_hex(4)}", f"{URLS_KEY}:tmp:{secrets.token_hex(4)}"
    count = 0
    pipe = client.pipeline(transaction=False)
    for article in Article.objects.published().only("id", "slug", "canonical_url").iterator(chunk_size=2000):
        entry = index_entry(article)
        pipe.sadd(tmp_pub, entry.article_id)
        for url in entry.urls:
            pipe.hset(tmp_url, url, entry.article_id)
        count += 1
        if count % 2000 == 0:
            pipe.execute()
    pipe.execute()
    pipe = client.pipeline(transaction=True)
    # Redis never stores an empty set or hash, and RENAME of a missing key fails: a sentinel
    # member keeps both keys alive (no article has id 0; resolve_published refuses 0).
    pipe.sadd(tmp_pub, 0)
    pipe.hset(tmp_url, "-", 0)
    pipe.rename(tmp_pub, PUBLISHED_KEY)
    pipe.rename(tmp_url, URLS_KEY)
    pipe.execute()
    return count


def resolve_published(*, article_id: int | None = None, url: str | None = None) -> int | None:
    """The id of a published article from its id or URL, by Redis lookup (no SQL)."""
    client = get_redis()
    if article_id is not None:
        return article_id if article_id > 0 and client.sismember(PUBLISHED_KEY, str(article_id)) else None
    if url is not None:
        normalised = normalise_url(url)
        if not normalised:
            return None
        found = client.hget(URLS_KEY, normalised)
        if found is None:
            return None
        candidate = int(found)
        return candidate if candidate > 0 and client.sismember(PUBLISHED_KEY, str(candidate)) else None
    return None


# --- Roll-up into the database ----------------------------------------------------------------


def retained_days(*, now: datetime | None = None) -> list[date]:
    """Days whose counters Redis still holds, newest first."""
    current = timezone.localdate(now) if now else today()
    return [current - timedelta(days=i) for i in range(settings.READS_RETENTION_DAYS)]


def _restore_after_restart(days: list[date]) -> None:
    """Redis lost its data (no epoch marker): load rolled-up figures back as counters/offsets."""
    from .models import ArticleDailyStats

    client = get_redis()
    if not client.set(EPOCH_KEY, secrets.token_hex(8), nx=True):
        return
    rows = ArticleDailyStats.objects.filter(day__in=days).values_list("article_id", "day", "views", "readers")
    pipe = client.pipeline(transaction=False)
    ttl = key_ttl_seconds()
    touched = set()
    for article_id, day, views, readers in rows.iterator(chunk_size=5000):
        pipe.hincrby(views_key(day), str(article_id), views)
        pipe.hset(offsets_key(day), str(article_id), readers)
        touched.add(day)
    for day in touched:
        pipe.expire(views_key(day), ttl)
        pipe.expire(offsets_key(day), ttl)
    pipe.execute()
    if touched:
        log.warning(
            "no read-counter epoch in Redis (first roll-up, or Redis lost its data): "
            "restored %d day(s) of counters from the database",
            len(touched),
        )


def read_day(day: date) -> dict[int, tuple[int, int]]:
    """{article_id: (views, readers)} for one day, from Redis."""
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(views_key(day))
    pipe.hgetall(offsets_key(day))
    raw_views, raw_offsets = pipe.execute()
    if not raw_views:
        return {}
    ids = [int(k) for k in raw_views]
    pipe = client.pipeline(transaction=False)
    for article_id in ids:
        pipe.pfcount(readers_key(day, article_id))
    counts = pipe.execute()
    result = {}
    for article_id, readers in zip(ids, counts, strict=True):
        offset = int(raw_offsets.get(str(article_id).encode(), 0))
        result[article_id] = (int(raw_views[str(article_id).encode()]), int(readers) + offset)
    return result


_UPSERT = {
    "postgresql": (
        "INSERT INTO {table} (article_id, day, views, readers) VALUES {values} "
        "ON CONFLICT (article_id, day) DO UPDATE SET "
        "views = GREATEST({table}.views, EXCLUDED.views), "
        "readers = GREATEST({table}.readers, EXCLUDED.readers)"
    ),
    # SQLite's scalar MAX() is GREATEST; ON CONFLICT upsert needs SQLite 3.24+.
    "sqlite": (
        "INSERT INTO {table} (article_id, day, views, readers) VALUES {values} "
        "ON CONFLICT (article_id, day) DO UPDATE SET "
        "views = MAX({table}.views, excluded.views), "
        "readers = MAX({table}.readers, excluded.readers)"
    ),
}


def upsert_stats(rows: list[tuple[int, date, int, int]], *, chunk: int = 500) -> None:
    """Write absolute (article, day, views, readers), keeping the larger of stored and new."""
    from .models import ArticleDailyStats

    if not rows:
        return
    template = _UPSERT.get(connection.vendor)
    if template is None:
        raise NotImplementedError(f"read roll-up has no upsert for {connection.vendor}")
    table = connection.ops.quote_name(ArticleDailyStats._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
            params: list[int | str | date] = []
            for article_id, day, views, readers in part:
                params.extend([article_id, day.isoformat() if connection.vendor == "sqlite" else day, views, readers])
            cursor.execute(template.format(table=table, values=values), params)


def flush_to_database(*, now: datetime | None = None) -> int:
    """Roll the Redis counters of the retained days into ArticleDailyStats; rebuild the beacon
    index. Returns the number of (article, day) rows written. Idempotent."""
    from .models import Article

    days = retained_days(now=now)
    _restore_after_restart(days)
    collected: list[tuple[int, date, int, int]] = []
    for day in days:
        for article_id, (views, readers) in read_day(day).items():
            collected.append((article_id, day, views, readers))
    existing = (
        set(Article.objects.filter(id__in={row[0] for row in collected}).values_list("id", flat=True))
        if collected
        else set()
    )
    rows = [row for row in collected if row[0] in existing]  # deleted articles are dropped
    upsert_stats(rows)
    rebuild_index()
    return len(rows)
