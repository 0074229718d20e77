"""Admin login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one username
from one client IP, even the right password is refused; the key is the client IP behind the
trusted proxy, not the proxy's address."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "the-right-password-9f8e7d"


def attempt(password: str, *, remote: str = "198.51.100.20", forwarded: str | None = None, username: str = "chief"):
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    client = Client(**extra)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return response, client


@pytest.fixture
def chief(db) -> User:
    return User.objects.create_superuser("chief", "chief@example.com", PASSWORD)


@pytest.mark.django_db
def test_after_the_failure_limit_the_right_password_is_refused(chief: User) -> None:
    assert settings.AXES_FAILURE_LIMIT == 5  # the documented default
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response, _client = attempt("wrong")
        assert response.status_code in (200, 429)
    response, client = attempt(PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # still sent to the login page
    # Keyed by (client IP, username): the editor from another address is not locked out.
    response, client = attempt(PASSWORD, remote="198.51.100.21")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(chief.pk)


@pytest.mark.django_db
def test_behind_the_proxy_the_lockout_follows_the_client_ip(chief: User, settings) -> None:
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt("wrong", remote="10.0.0.2", forwarded="203.0.113.50")
    assert attempt(PASSWORD, remote="10.0.0.2", forwarded="203.0.113.50")[0].status_code == 429
    # Another reader behind the same proxy is not locked out with the attacker.
    response, client = attempt(PASSWORD, remote="10.0.0.2", forwarded="203.0.113.51")
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(chief.pk)


@pytest.mark.django_db
def test_a_success_before_the_limit_resets_the_count(chief: User) -> None:
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt("wrong")
    assert attempt(PASSWORD)[0].status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt("wrong")
    assert attempt(PASSWORD)[0].status_code == 302
