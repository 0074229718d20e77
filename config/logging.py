"""Request and task ids on every log line, so an operator can grep one request or one task."""

from __future__ import annotations

import contextvars
import logging
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
