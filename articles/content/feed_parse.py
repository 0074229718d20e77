"""Reading a feed's bytes into entries, safely: RSS and Atom through feedparser, JSON Feed here.

Refused before any parser sees the document (FeedError, kind "dangerous"): an entity declaration
(`<!ENTITY`) anywhere, or a DOCTYPE with an internal subset (`<!DOCTYPE rss [ ... ]>`).
feedparser keeps the declared entities whose value has no "&", and when expat refuses the
document (its limit on entity amplification) it parses it again with its loose SGML parser,
which expands them without any limit: a 78 KB feed took 12.9 s and 945 MB (issue 23), and at
the 10 MB cap it runs a worker out of memory. No honest feed needs a declaration. A DOCTYPE
without an internal subset (RSS 0.91's Netscape DTD) is harmless and stays: nothing fetches an
external DTD. The check reads the text feedparser will parse, decoded by feedparser's own
encoding rules, so a UTF-16 or UTF-7 document cannot hide a declaration from a byte search.

Messy but honest markup is mended first, outside CDATA sections, comments and processing
instructions (alternative: let feedparser's loose parser guess, which also re-opens the
expansion above and turns a broken document into a partial feed without saying so):
- an HTML named character reference (`&aacute;`, `&nbsp;`: common in CMS output, undefined in
  XML) becomes the numeric reference of the same characters;
- an "&" that starts no reference (`AT&T`, `a=1&b=2` in a link, `&doesnotexist;`) becomes
  `&amp;`, so the text reads as written; an out-of-range numeric reference becomes U+FFFD.
A document that is still not well-formed XML after that is refused whole (kind "malformed"):
a truncated document would otherwise import as if it were the whole feed.

A JSON Feed (https://jsonfeed.org, versions 1 and 1.1; feedparser 6 does not read it) is mapped
here to the entry fields feedparser gives for RSS and Atom (id, link, title and title_detail,
content, summary and summary_detail, published_parsed, updated_parsed, tags, author), so the
import treats every format alike.
"""

from __future__ import annotations

import html.entities
import json
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser
from feedparser.encodings import convert_to_utf8

JSON_FEED_VERSIONS = {"https://jsonfeed.org/version/1": "json1", "https://jsonfeed.org/version/1.1": "json11"}
_DECLARATION = re.compile(r"<!ENTITY|<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
# Left as they are: markup where "&" is not a reference (CDATA, comments, processing instructions).
_VERBATIM = re.compile(r"<!\[CDATA\[.*?\]\]>|<!--.*?-->|<\?.*?\?>", re.DOTALL)
_AMPERSAND = re.compile(r"&(?:#([xX][0-9a-fA-F]+|[0-9]+);|([A-Za-z][A-Za-z0-9]*);)?")
_XML_NAMED = {"amp", "lt", "gt", "quot", "apos"}


class FeedError(Exception):
    """The feed could not be fetched or parsed; nothing was imported.

    `kind` names the cause for the import report editors read: "unreachable" (fetching failed or
    was refused), "dangerous" (entity declarations), "malformed" (not well-formed XML or JSON),
    "not_a_feed" (well-formed, but neither RSS, Atom nor JSON Feed)."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def parse(data: bytes, *, source: str = "feed") -> feedparser.FeedParserDict:
    """The feed in `data` (RSS, Atom or JSON Feed) under the rules of the module docstring."""
    if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{":
        return _json_feed(data, source=source)
    probe: dict[str, Any] = {}
    utf8 = convert_to_utf8({}, data, probe)
    if not probe.get("encoding"):
        raise FeedError(f"{source} is not a well-formed RSS/Atom feed: {probe.get('bozo_exception')}", kind="malformed")
    text = utf8.decode("utf-8")
    declaration = _DECLARATION.search(text)
    if declaration:
        raise FeedError(
            f"{source} was refused: it declares entities or a DTD ({declaration.group()!r}), which can expand "
            "a small feed into gigabytes; no feed needs them",
            kind="dangerous",
        )
    parsed = feedparser.parse(mend_references(text).encode("utf-8"))
    error = parsed.get("bozo_exception")
    if parsed.get("bozo") and not isinstance(error, feedparser.CharacterEncodingOverride):
        raise FeedError(f"{source} is not a well-formed RSS/Atom feed: {error}", kind="malformed")
    if not parsed.get("version"):
        raise FeedError(f"{source} is not an RSS, Atom or JSON feed", kind="not_a_feed")
    return parsed


def mend_references(text: str) -> str:
    """`text` with HTML named references made numeric and stray "&" escaped (module docstring)."""
    parts, position = [], 0
    for verbatim in _VERBATIM.finditer(text):
        parts.append(_AMPERSAND.sub(_mended, text[position : verbatim.start()]))
        parts.append(verbatim.group())
        position = verbatim.end()
    parts.append(_AMPERSAND.sub(_mended, text[position:]))
    return "".join(parts)


def _mended(match: re.Match[str]) -> str:
    number, name = match.groups()
    if number:
        code = int(number[1:], 16) if number[0] in "xX" else int(number)
        return f"&#{code if _xml_character(code) else 0xFFFD};"
    if name in _XML_NAMED:
        return match.group()
    if name and f"{name};" in html.entities.html5:
        return "".join(f"&#{ord(character)};" for character in html.entities.html5[f"{name};"])
    return "&amp;" + match.group()[1:]


def _xml_character(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


# --- JSON Feed ---------------------------------------------------------------------------------


def _json_feed(data: bytes, *, source: str) -> feedparser.FeedParserDict:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as error:  # RecursionError: nesting deeper than Python's stack
        raise FeedError(f"{source} is not well-formed JSON: {error}", kind="malformed") from None
    version = document.get("version") if isinstance(document, dict) else None
    if version not in JSON_FEED_VERSIONS:
        raise FeedError(
            f"{source} is JSON but not a JSON Feed (its version must be one of {', '.join(JSON_FEED_VERSIONS)})",
            kind="not_a_feed",
        )
    items = document.get("items")
    if not isinstance(items, list):
        raise FeedError(f"{source} is a JSON Feed without an items list", kind="malformed")
    return feedparser.FeedParserDict(
        version=JSON_FEED_VERSIONS[version],
        feed=feedparser.FeedParserDict(title=_text(document, "title"), link=_text(document, "home_page_url")),
        entries=[_json_entry(item if isinstance(item, dict) else {}) for item in items],
        bozo=False,
    )


def _json_entry(item: dict[str, Any]) -> feedparser.FeedParserDict:
    entry = feedparser.FeedParserDict()
    # The spec says a string; some generators write a number.
    identifier = item.get("id")
    if isinstance(identifier, str | int) and not isinstance(identifier, bool):
        entry["id"] = str(identifier)
    entry["link"] = _text(item, "url")
    entry["title"] = _text(item, "title")
    entry["title_detail"] = feedparser.FeedParserDict(type="text/plain", value=entry["title"])
    if _text(item, "content_html"):
        entry["content"] = [feedparser.FeedParserDict(type="text/html", value=_text(item, "content_html"))]
    elif _text(item, "content_text"):
        entry["content"] = [feedparser.FeedParserDict(type="text/plain", value=_text(item, "content_text"))]
    if _text(item, "summary"):
        entry["summary"] = _text(item, "summary")
        entry["summary_detail"] = feedparser.FeedParserDict(type="text/plain", value=entry["summary"])
    for field, key in (("published_parsed", "date_published"), ("updated_parsed", "date_modified")):
        moment = _json_date(_text(item, key))
        if moment:
            entry[field] = moment
    tags = item.get("tags")
    if isinstance(tags, list):
        entry["tags"] = [feedparser.FeedParserDict(term=tag) for tag in tags if isinstance(tag, str)]
    # Version 1.1 has a list of authors, version 1 one author.
    authors = item.get("authors")
    if not isinstance(authors, list):
        authors = [item.get("author")]
    names = [_text(author, "name") for author in authors if isinstance(author, dict)]
    if any(names):
        entry["author"] = ", ".join(name for name in names if name)
    return entry


def _text(mapping: dict[str, Any], key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def _json_date(value: str) -> time.struct_time | None:
    """An RFC 3339 date (JSON Feed's format) as the UTC struct_time feedparser gives."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).timetuple()
