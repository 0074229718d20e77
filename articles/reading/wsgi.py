"""WSGI fast path for the read beacon: answers `/r/` without Django's middleware stack
(sessions, CSRF, locale, messages... none of which a beacon needs), every other path goes to
the wrapped application. config.wsgi puts it in front of Django (the one entry point).

It serves the same logic as the Django view (articles.reading.beacon.handle) and runs no SQL. The client
IP is read from the environ with the same rule as everywhere (sitewide.client_ip: X-Forwarded-For
only from TRUSTED_PROXIES).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from . import beacon, visitors

BEACON_PATH = "/r/"
_STATUS = {
    200: "200 OK",
    204: "204 No Content",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    414: "414 URI Too Long",
}


class BeaconFastPath:
    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != BEACON_PATH:
            return self.app(environ, start_response)
        stream = environ["wsgi.input"]
        result = beacon.handle(
            method=environ.get("REQUEST_METHOD", "GET"),
            meta=environ,
            cookie=visitors.cookie_from_header(environ.get("HTTP_COOKIE", "")),
            query_string=environ.get("QUERY_STRING", ""),
            content_length=environ.get("CONTENT_LENGTH", ""),
            read_body=lambda size: stream.read(min(size, beacon.MAX_BEACON_BYTES + 1)),
        )
        headers = [
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Length", str(len(result.body))),
        ]
        if result.content_type:
            headers.append(("Content-Type", result.content_type))
        if result.status == 405:
            headers.append(("Allow", "GET, POST, HEAD"))
        start_response(_STATUS.get(result.status, f"{result.status} Error"), headers)
        return [result.body]
