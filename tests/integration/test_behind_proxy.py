"""Behind the documented reverse proxy, through gunicorn (issue: production as it really runs).

gunicorn serves the site on 127.0.0.1 the way nginx would reach it; the test plays the proxy by
sending X-Forwarded-For. With TRUSTED_PROXIES=127.0.0.1, forty readers behind the proxy are forty
clients (forty confirmation emails), and one client is limited after
SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR; without it (the proxy's address not trusted), the header is
ignored and the forty count as one client.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings

from tests.integration.conftest import ROOT, database_url

pytestmark = pytest.mark.integration
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SIGNUPS = 40


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def gunicorn(transactional_db, tmp_path) -> Iterator[Callable[..., tuple[str, Path]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(*, trusted_proxies: str) -> tuple[str, Path]:
        port = _free_port()
        outbox = tmp_path / f"outbox-{port}"
        outbox.mkdir()
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.integration.proxy_settings",
            "DATABASE_URL": database_url(),
            "TEST_REDIS_DB": os.environ.get("TEST_REDIS_DB", "15"),
            "TRUSTED_PROXIES": trusted_proxies,
            "PROXY_TEST_OUTBOX": str(outbox),
            "PYTHONPATH": str(ROOT),
        }
        process = subprocess.Popen(
            [GUNICORN, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        started.append(process)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code in (200, 503):
                    return base, outbox
            except (requests.ConnectionError, requests.Timeout):
                pass
            assert process.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

    yield start
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def sign_up(base: str, email: str, *, forwarded_for: str) -> int:
    """A reader's browser through the proxy: the form page, then the POST with its CSRF token."""
    session = requests.Session()
    headers = {"X-Forwarded-For": forwarded_for, "User-Agent": "Mozilla/5.0 (proxy test)"}
    page = session.get(f"{base}/newsletter/", headers=headers, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    response = session.post(
        f"{base}/newsletter/",
        data={"csrfmiddlewaretoken": token.group(1), "email": email, "frequency": "daily"},
        headers={**headers, "Referer": f"{base}/newsletter/"},
        timeout=10,
    )
    return response.status_code


def confirmations(outbox: Path) -> int:
    return len(list(outbox.glob("*.eml")))


def test_forty_readers_behind_a_trusted_proxy_are_forty_clients_and_one_client_is_limited(gunicorn) -> None:
    limit = django_settings.SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR
    assert limit < SIGNUPS
    base, outbox = gunicorn(trusted_proxies="127.0.0.1")
    for n in range(SIGNUPS):
        assert sign_up(base, f"reader{n}@example.com", forwarded_for=f"198.51.100.{n + 1}") == 200
    assert confirmations(outbox) == SIGNUPS  # before: the limit was one for the whole site

    for n in range(SIGNUPS):
        assert sign_up(base, f"same{n}@example.com", forwarded_for="203.0.113.50") == 200
    assert confirmations(outbox) == SIGNUPS + limit


def test_a_forwarded_header_from_an_untrusted_peer_is_ignored(gunicorn) -> None:
    limit = django_settings.SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR
    base, outbox = gunicorn(trusted_proxies="192.0.2.1")  # some other proxy: 127.0.0.1 is not it
    for n in range(SIGNUPS):
        assert sign_up(base, f"spoof{n}@example.com", forwarded_for=f"198.51.100.{n + 1}") == 200
    assert confirmations(outbox) == limit  # forty "addresses" were one client
