"""Import articles from a feed of an existing CMS: RSS 2.0, Atom or JSON Feed.

Upsert by GUID, else by canonical URL; categories become tags; bodies are sanitised like an
editor's (articles.content.services); titles are stored as plain text (a title of type HTML loses its
markup: readers would otherwise see `<img src=...>` as text). An entry whose content is unchanged
is not saved, so re-running an import changes nothing (not even updated_at).

What is refused, and what is mended, before any entry is read: articles.content.feed_parse (entity
declarations are refused; HTML named references and stray "&" are mended; a feed that is still
not well-formed is refused whole). A refused feed raises FeedError and imports nothing.

One bad entry does not block the good ones: an entry without an identifier (GUID or http(s)
link) or without a title is skipped and reported (ImportResult.skipped_entries, with a reason
each, articles.content.feed_reports); every other entry is upserted, all in one transaction. An entry's
link becomes the article's canonical URL only when it is an absolute http(s) URL
(articles.content.urls_safety); otherwise the link is dropped (ImportResult.warnings), and the entry is
skipped when that link was its only identifier. Every import, refused or not, replaces the
feed's FeedImport row, which editors read in the admin.

Fetching over HTTP refuses private and loopback addresses, follows redirects under the same
check and stops at a deadline (articles.content.feed_fetch).
"""

from __future__ import annotations

import calendar
import dataclasses
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import feedparser
from django.db import transaction
from django.utils import timezone

from . import conf, feed_reports, services
from .arabic import html_to_text, tag_key
from .feed_fetch import FetchError, fetch_url
from .feed_parse import FeedError, parse
from .feed_reports import SkippedEntry
from .models import Article
from .urls_safety import safe_http_url

__all__ = ["FeedError", "ImportResult", "fetch", "import_entry", "import_feed", "parse"]

MAX_FEED_BYTES = 10 * 1024 * 1024
USER_AGENT = "newsletter-feed-import/1.0 (+feedparser)"


HTML_TYPES = ("text/html", "application/xhtml+xml")
_SPACES = re.compile(r"[ \t\r\n]+")


class EntrySkipped(Exception):
    """This entry cannot be imported safely; the rest of the feed can. `reason` is a key of
    feed_reports.SKIP_REASONS."""

    def __init__(self, reason: str, *, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped_entries: list[SkippedEntry] = dataclasses.field(default_factory=list)
    # Entries imported with something left out (a link that is not http(s)), in English.
    warnings: list[str] = dataclasses.field(default_factory=list)

    @property
    def skipped(self) -> int:
        return len(self.skipped_entries)


def fetch(source: str) -> bytes:
    """Bytes of a feed from an http(s) URL or a local file path."""
    if source.startswith(("http://", "https://")):
        try:
            data = fetch_url(
                source,
                max_bytes=MAX_FEED_BYTES,
                deadline_seconds=conf.settings().FEED_FETCH_DEADLINE_SECONDS,
                allowed_hosts=conf.settings().FEED_ALLOWED_HOSTS,
                user_agent=USER_AGENT,
            )
        except FetchError as error:
            raise FeedError(str(error), kind="unreachable") from error
    else:
        path = Path(source.removeprefix("file://"))
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_FEED_BYTES + 1)
        except OSError as error:
            raise FeedError(f"cannot read {source}: {error.strerror or error}", kind="unreachable") from error
    if len(data) > MAX_FEED_BYTES:
        raise FeedError(f"{source} is larger than {MAX_FEED_BYTES} bytes", kind="unreachable")
    return data


def _entry_datetime(entry: feedparser.FeedParserDict) -> datetime | None:
    for field in ("published_parsed", "updated_parsed"):
        value = entry.get(field)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    return None


def _as_html(value: str, kind: str) -> str:
    # Plain text (Atom type="text", JSON Feed's content_text) is text: "a <b>" is not markup.
    if kind in HTML_TYPES or not kind:
        return value
    return "".join(f"<p>{html.escape(line)}</p>" for line in value.split("\n\n") if line.strip())


def _entry_body(entry: feedparser.FeedParserDict) -> str:
    contents = entry.get("content") or []
    for content in contents:
        if content.get("value"):
            return _as_html(content["value"], content.get("type", ""))
    return _as_html(entry.get("summary", ""), (entry.get("summary_detail") or {}).get("type", ""))


def _entry_title(entry: feedparser.FeedParserDict) -> str:
    title = entry.get("title") or ""
    if (entry.get("title_detail") or {}).get("type") in HTML_TYPES:
        title = services.plain_text(title)
    # Line breaks and runs of spaces collapse; a no-break space is the writer's choice and stays.
    return _SPACES.sub(" ", title).strip()[:300]


def _entry_summary(entry: feedparser.FeedParserDict) -> str:
    if entry.get("content") and entry.get("summary"):
        return html_to_text(entry["summary"]).strip()[:1000]
    return ""


def _entry_link(entry: feedparser.FeedParserDict, warnings: list[str]) -> str | None:
    raw = (entry.get("link") or "").strip()
    link = safe_http_url(raw)
    if raw and not link:
        if not (entry.get("id") or "").strip():
            raise EntrySkipped("unsafe_link", detail=raw[:80])
        warnings.append(f"entry {entry['id'][:80]!r}: link {raw[:80]!r} is not an http(s) URL; imported without it")
    return link[:500] or None


def import_entry(entry: feedparser.FeedParserDict, *, warnings: list[str] | None = None) -> str:
    """Create, update or leave one article; returns "created", "updated" or "unchanged".
    Raises EntrySkipped for an entry that cannot be imported safely."""
    link = _entry_link(entry, warnings if warnings is not None else [])
    guid = (entry.get("id") or link or "").strip()[:500] or None
    title = _entry_title(entry)
    if not guid:
        raise EntrySkipped("no_id")
    if not title:
        raise EntrySkipped("no_title")
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


def _label(entry: feedparser.FeedParserDict) -> str:
    """How an editor finds the entry in the feed: its title, else its id or link."""
    for text in (_entry_title(entry), entry.get("id") or "", entry.get("link") or ""):
        text = _SPACES.sub(" ", str(text)).strip()
        if text:
            return text[: feed_reports.MAX_LABEL]
    return ""


def import_feed(source: str) -> ImportResult:
    """Fetch and parse the feed, upsert every entry that can be imported and skip the rest
    (module docstring); record the import in the feed's FeedImport row either way."""
    try:
        parsed = parse(fetch(source), source=source)
    except FeedError as error:
        feed_reports.record_import(source=source, refusal=error.kind, error=str(error))
        raise
    result = ImportResult()
    with transaction.atomic():
        for position, entry in enumerate(parsed.entries, start=1):
            try:
                outcome = import_entry(entry, warnings=result.warnings)
            except EntrySkipped as skipped:
                result.skipped_entries.append(
                    SkippedEntry(position=position, label=_label(entry), reason=skipped.reason, detail=skipped.detail)
                )
                continue
            setattr(result, outcome, getattr(result, outcome) + 1)
        feed_reports.record_import(
            source=source,
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            skipped=result.skipped_entries,
        )
    return result
