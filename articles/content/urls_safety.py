"""Which URLs from elsewhere (feeds, editors, imports) may become a link or a fetch target.

Only absolute http(s) URLs with a host pass. Everything else -- `javascript:`, `data:`,
`vbscript:`, `file:`, relative or scheme-relative links, and URLs with control characters or
whitespace that browsers strip before reading the scheme (`java\\tscript:`) -- is refused, at
import and again wherever a link is built, so a value stored before a check existed is still
harmless.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# ASCII controls, space and DEL: browsers remove or choke on them; a real URL has them encoded.
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x20\x7f]")


def safe_http_url(url: str | None) -> str:
    """`url` (surrounding whitespace removed) when it is an absolute http(s) URL, else ""."""
    candidate = (url or "").strip()
    if not candidate or _UNSAFE_CHARACTERS.search(candidate):
        return ""
    try:
        parts = urlsplit(candidate)
        hostname, _port = parts.hostname, parts.port
    except ValueError:  # an invalid IPv6 literal or port
        return ""
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        return ""
    return candidate
