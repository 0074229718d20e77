"""No secret token in a log line (issue 23): Django logs the path of every 4xx response
(`django.request`), and a 400 on a preferences link wrote the reader's valid token to the log."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client

from newsletter.subscribers.models import Subscriber
from newsletter.subscribers.token_links import preferences_url
from sitewide.logging import TokenRedactingFilter, redact


@pytest.fixture
def log_lines():
    """What the product's own stdout handler (config/settings.py LOGGING) writes."""
    [handler] = [h for h in logging.getLogger().handlers if any(isinstance(f, TokenRedactingFilter) for f in h.filters)]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    yield buffer
    handler.setStream(previous)


@pytest.mark.django_db
def test_a_bad_request_on_a_preferences_link_logs_no_token(log_lines) -> None:
    reader = Subscriber.objects.create(email="r@example.com", status=Subscriber.Status.ACTIVE)
    url = preferences_url(reader.uuid).removeprefix("http://testserver")
    token = url.rstrip("/").rsplit("/", 1)[-1]
    response = Client().post(url, {"frequency": "monthly", "language": "xx"})
    assert response.status_code == 400
    written = log_lines.getvalue()
    assert "/newsletter/preferences/[token]/" in written
    assert token not in written


def test_click_links_and_confirm_links_are_redacted_too() -> None:
    assert redact("Not Found: /c/abc123/s01:def/") == "Not Found: /c/[token]/[token]/"
    assert redact("Gone: /newsletter/confirm/s0x:y/resend/") == "Gone: /newsletter/confirm/[token]/resend/"
    assert redact("Bad Request: /newsletter/") == "Bad Request: /newsletter/"
