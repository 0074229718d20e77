"""WSGI fast path for the click redirect: answers `/c/...` before Django's middleware stack; every
other path goes to the wrapped application. config.wsgi puts it in front of Django (the one entry
point).

Same logic as the Django view (newsletter.clicks.redirect.handle); no SQL while Redis holds the
click targets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from articles.reading import visitors

from . import redirect

_PATH_RE = re.compile(r"^/c/([A-Za-z0-9]{1,80})/([A-Za-z0-9:_-]{1,200})/?$")


class ClickFastPath:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        match = _PATH_RE.match(path) if path.startswith("/c/") else None
        if match is None:
            return self.app(environ, start_response)
        result = redirect.handle(
            method=environ.get("REQUEST_METHOD", "GET"),
            story=match.group(1),
            token=match.group(2),
            meta=environ,
            cookie=visitors.cookie_from_header(environ.get("HTTP_COOKIE", "")),
        )
        headers = [
            ("Location", result.location),
            ("Cache-Control", "no-store"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Length", "0"),
        ]
        if result.set_visitor:
            secure = environ.get("wsgi.url_scheme") == "https" or environ.get("HTTP_X_FORWARDED_PROTO") == "https"
            headers.append(("Set-Cookie", visitors.cookie_header(result.set_visitor, secure=secure)))
        start_response("302 Found", headers)
        return [b""]
