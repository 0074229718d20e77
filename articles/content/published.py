"""The index of published articles in Redis (`reads:pub`, the ids; `reads:url`, their normalised
URLs), which the read beacon and the article page validate a read against without SQL
(articles.reading.reads). Kept on every save and publish (articles.content.services.after_change)
and rebuilt from the database by every read roll-up (articles.reading.rollup), so it survives a
Redis restart within one roll-up interval."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.conf import settings

from sitewide.redis_client import get_redis

from .models import Article

PUBLISHED_KEY = "reads:pub"
URLS_KEY = "reads:url"


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
