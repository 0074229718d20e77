"""The read beacon, framework-free: parse a beacon request, validate the article against the
Redis index, count the read. Used by the Django view (articles.views.beacon) and by the WSGI
fast path (articles.reading.wsgi), which answers /r/ before Django's middleware stack runs.

Accepted: GET /r/?id=123 or ?url=<article URL> (answers a 1x1 GIF), POST /r/ with a
text/plain or form body `id=123`, `url=...`, a bare id or a bare URL (answers 204) -- what
`navigator.sendBeacon(url, data)` sends. Bad input is a 4xx, an unknown article 404, nothing
stored; never any SQL. The reader is identified by articles.reading.visitors (signed `rid` cookie, else
the client IP behind trusted proxies + User-Agent); the beacon sets no cookie (it is usually
called from another site, where a cookie of ours would be third-party).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from articles.content import published

from . import reads, visitors

MAX_BEACON_BYTES = 2048
# The smallest transparent GIF (43 bytes).
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


@dataclass(frozen=True)
class BeaconResult:
    status: int
    body: bytes = b""
    content_type: str | None = None


def _target(
    method: str, query_string: str, content_length: str, read_body: Callable[[int], bytes]
) -> tuple[int | None, int]:
    """(article_id, error status); an id still has to be checked against the index."""
    values: dict[str, str] = {}
    if method == "POST":
        length = content_length or "0"
        if not length.isdigit() or int(length) > MAX_BEACON_BYTES:
            return None, 413
        raw = read_body(int(length)) if int(length) else b""
        if len(raw) > MAX_BEACON_BYTES:
            return None, 413
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return None, 400
        if "=" in text and not text.startswith("http"):
            try:
                values = dict(parse_qsl(text, errors="strict"))
            except (ValueError, UnicodeDecodeError):
                return None, 400
        elif text.isdigit():
            values = {"id": text}
        elif text:
            values = {"url": text}
    else:
        if len(query_string) > MAX_BEACON_BYTES:
            return None, 414
        try:
            values = dict(parse_qsl(query_string, errors="strict"))
        except (ValueError, UnicodeDecodeError):
            return None, 400
    raw_id, raw_url = values.get("id", ""), values.get("url", "")
    if raw_id:
        if not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 18:
            return None, 400
        return int(raw_id), 0
    if raw_url:
        if len(raw_url) > 1000 or not published.normalise_url(raw_url):
            return None, 400
        found = published.resolve_published(url=raw_url)
        return (found, 0) if found else (None, 404)
    return None, 400


def handle(
    *,
    method: str,
    meta: Mapping[str, str],
    cookie: str,
    query_string: str,
    content_length: str,
    read_body: Callable[[int], bytes],
) -> BeaconResult:
    if method == "HEAD":
        return BeaconResult(200, b"", "image/gif")
    if method not in ("GET", "POST"):
        return BeaconResult(405)
    article_id, status = _target(method, query_string, content_length, read_body)
    if article_id is not None:
        # Validate and count in one Redis round trip; bots and prefetches only validate.
        day = reads.today()
        visitor = visitors.identify(meta, cookie, day=day) if reads.should_count_meta(method, meta) else None
        counted = reads.record_read_if_published(
            article_id, visitor.id if visitor else None, network=visitor.network if visitor else "", day=day
        )
        if not counted:
            article_id, status = None, 404
    if article_id is None:
        return BeaconResult(status)
    return BeaconResult(200, PIXEL, "image/gif") if method == "GET" else BeaconResult(204)
