"""Request and task ids on every log line, so an operator can grep one request or one task, and
no secret token in any line: the signed tokens in the subscriber links (confirm, preferences,
unsubscribe) and the click links are replaced by `[token]` (`TokenRedactingFilter`). Django
logs the path of every 4xx response (`django.request`): a 400 or 410 on a preferences link wrote
a valid token to the log, which anyone reading the logs could use (issue 23)."""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


class RequestIdMiddleware:
    """Takes X-Request-ID from the proxy (or makes one) and echoes it in the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        # Only a short token from the proxy: a log line must not carry arbitrary client text.
        request_id = (
            incoming
            if 0 < len(incoming) <= 64 and incoming.isascii() and incoming.replace("-", "").isalnum()
            else uuid.uuid4().hex
        )
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds record.request_id: the HTTP request id, else the running Celery task id, else '-'."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = _request_id.get()
        if request_id == "-":
            try:
                from celery import current_task

                if current_task and current_task.request.id:
                    request_id = f"task:{current_task.request.id}"
            except Exception:  # noqa: BLE001 - logging must never fail because Celery is absent
                pass
        record.request_id = request_id
        return True


# A path segment after one of the token-carrying prefixes; the click link's two parts.
_TOKEN_PATH = re.compile(r"(/newsletter/(?:confirm|preferences|unsubscribe)/)[^/\s?\"']+")
_CLICK_PATH = re.compile(r"(/c/)[^/\s?\"']+/[^/\s?\"']+")


def redact(text: str) -> str:
    """`text` with every subscriber-link token and click-link part replaced by [token]."""
    if "/newsletter/" not in text and "/c/" not in text:
        return text
    return _CLICK_PATH.sub(r"\1[token]/[token]", _TOKEN_PATH.sub(r"\1[token]", text))


class TokenRedactingFilter(logging.Filter):
    """Redacts tokens in a record's message and its string arguments (see the module docstring)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
