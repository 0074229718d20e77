"""Import articles from an RSS 2.0 or Atom feed (an existing CMS) with feedparser.

Upsert by GUID, else by canonical URL; categories become tags; bodies are sanitised like an
editor's. The whole feed is one transaction: a malformed or unreachable feed raises FeedError
and changes nothing. An entry whose content is unchanged is not saved, so re-running an import
changes nothing (not even updated_at).

Feeds are content from elsewhere: an entry's link becomes the article's canonical URL only when
it is an absolute http(s) URL (articles.urls_safety); otherwise the link is dropped, and the entry
is skipped when that link was its only identifier. Each is reported in ImportResult.warnings.
Fetching over HTTP refuses private and loopback addresses, follows redirects under the same
check and stops at a deadline (articles.feed_fetch).
"""

from __future__ import annotations

import calendar
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import services
from .arabic import tag_key
from .feed_fetch import FetchError, fetch_url
from .models import Article
from .urls_safety import safe_http_url

MAX_FEED_BYTES = 10 * 1024 * 1024
USER_AGENT = "newsletter-feed-import/1.0 (+feedparser)"


class FeedError(Exception):
    """The feed could not be fetched or parsed; nothing was imported."""


class EntrySkipped(Exception):
    """This entry cannot be imported safely; the rest of the feed can."""


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    warnings: list[str] = dataclasses.field(default_factory=list)


def fetch(source: str) -> bytes:
    """Bytes of a feed from an http(s) URL or a local file path."""
    if source.startswith(("http://", "https://")):
        try:
            data = fetch_url(
                source,
                max_bytes=MAX_FEED_BYTES,
                deadline_seconds=settings.FEED_FETCH_DEADLINE_SECONDS,
                allowed_hosts=settings.FEED_ALLOWED_HOSTS,
                user_agent=USER_AGENT,
            )
        except FetchError as error:
            raise FeedError(str(error)) from error
    else:
        path = Path(source.removeprefix("file://"))
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FEED_BYTES + 1)
        except OSError as error:
            raise FeedError(f"cannot read {source}: {error.strerror or error}") from error
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(f"{source} is larger than {MAX_FEED_BYTES} bytes")
    return data


def parse(data: bytes, *, source: str = "feed") -> feedparser.FeedParserDict:
    parsed = feedparser.parse(data)
    error = parsed.get("bozo_exception")
    # feedparser is lenient: it recovers from broken XML with a partial feed. A partial import
    # would silently lose entries, so anything but a charset mismatch is refused.
    if parsed.get("bozo") and not isinstance(error, feedparser.CharacterEncodingOverride):
        raise FeedError(f"{source} is not a well-formed RSS/Atom feed: {error}")
    if not parsed.get("version"):
        raise FeedError(f"{source} is not an RSS or Atom feed")
    return parsed


def _entry_datetime(entry: feedparser.FeedParserDict) -> datetime | None:
    for field in ("published_parsed", "updated_parsed"):
        value = entry.get(field)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _entry_body(entry: feedparser.FeedParserDict) -> str:
    contents = entry.get("content") or []
    for content in contents:
        if content.get("value"):
            return content["value"]
    return entry.get("summary", "")


def _entry_summary(entry: feedparser.FeedParserDict) -> str:
    from .arabic import html_to_text

    if entry.get("content") and entry.get("summary"):
        return html_to_text(entry["summary"]).strip()[:1000]
    return ""


def _entry_link(entry: feedparser.FeedParserDict, warnings: list[str]) -> str | None:
    raw = (entry.get("link") or "").strip()
    link = safe_http_url(raw)
    if raw and not link:
        if not entry.get("id"):
            raise EntrySkipped(
                f"skipped entry {entry.get('title', '')[:80]!r}: its link {raw[:80]!r} is not an http(s) URL"
            )
        warnings.append(f"entry {entry['id'][:80]!r}: link {raw[:80]!r} is not an http(s) URL; imported without it")
    return link[:500] or None


def import_entry(entry: feedparser.FeedParserDict, *, warnings: list[str] | None = None) -> str:
    """Create, update or leave one article; returns "created", "updated" or "unchanged".
    Raises EntrySkipped for an entry that cannot be imported safely."""
    link = _entry_link(entry, warnings if warnings is not None else [])
    guid = (entry.get("id") or link or "").strip()[:500] or None
    title = (entry.get("title") or "").strip()[:300]
    if not guid or not title:
        raise FeedError("an entry has neither a GUID nor a link, or no title")
    article = Article.objects.filter(guid=guid).first()
    if article is None and link:
        article = Article.objects.filter(canonical_url=link).first()
    created = article is None
    if article is None:
        article = Article(status=Article.Status.PUBLISHED)
    categories = [t.get("term", "").strip() for t in entry.get("tags", []) if t.get("term", "").strip()]
    new_values = {
        "title": title,
        "summary": _entry_summary(entry),
        "body": services.sanitise_html(_entry_body(entry)),
        "author": (entry.get("author") or "").strip()[:200],
        "guid": guid,
        "canonical_url": link,
        "published_at": _entry_datetime(entry) or article.published_at or timezone.now(),
    }
    current_tags = {t.key for t in article.tags.all()} if not created else set()
    wanted_tag_keys = {tag_key(name) for name in categories}
    changed = created or any(getattr(article, field) != value for field, value in new_values.items())
    if not changed and wanted_tag_keys <= current_tags:
        return "unchanged"
    for field, value in new_values.items():
        setattr(article, field, value)
    services.save_article(article, extra_tag_names=categories)
    return "created" if created else "updated"


def import_feed(source: str) -> ImportResult:
    """Fetch, parse and upsert every entry of the feed, all or nothing."""
    parsed = parse(fetch(source), source=source)
    result = ImportResult()
    with transaction.atomic():
        for entry in parsed.entries:
            try:
                outcome = import_entry(entry, warnings=result.warnings)
            except EntrySkipped as skipped:
                result.skipped += 1
                result.warnings.append(str(skipped))
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
    return result
