"""/healthz and request ids."""

from __future__ import annotations

import pytest
from django.test import Client

from sitewide.redis_client import reset_redis


@pytest.mark.django_db
def test_healthz_is_ok_when_database_and_redis_answer(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "redis": True}


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_down(client: Client, settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    reset_redis()
    assert response.status_code == 503
    assert response.json()["redis"] is False


@pytest.mark.django_db
def test_every_response_carries_a_request_id(client: Client) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    generated = client.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert generated["X-Request-ID"] != "bad id\nwith newline"
    assert len(generated["X-Request-ID"]) == 32
