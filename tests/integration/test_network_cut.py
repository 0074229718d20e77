"""A worker cut off from PostgreSQL, Redis and the broker in the middle of a send (issue: surviving
a million). The worker talks to them through tests/integration/tcp_proxy.py; the test stalls
every byte for INTEGRATION_CUT_SECONDS (30 by default), then lets the traffic through again.
On Redis the broker is that Redis; on RabbitMQ (issue 26) its connection gets a proxy too.

What must hold afterwards: nobody accepted twice by the ESP; nobody silently lost (every
subscriber the ESP did not accept is recorded `unknown` or was sent after the cut, and every
`sent` row was really accepted); the run finishes (the edition is `sent`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import pytest
from django.conf import settings as django_settings

from config import broker as brokers
from newsletter.delivery import counts, dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from tests.integration.conftest import database_url, wait_for
from tests.integration.helpers import make_digest, make_subscribers
from tests.integration.tcp_proxy import CuttableProxy
from tests.integration.test_faults import sweep_until_finished

pytestmark = pytest.mark.integration
D = Delivery.Status
CUT_SECONDS = float(os.environ.get("INTEGRATION_CUT_SECONDS", "30"))


def _via(url: str, port: int) -> str:
    parts = urlparse(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunparse(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture
def proxies(is_postgres, celery_broker) -> Iterator[dict[str, tuple[CuttableProxy, str]]]:
    """The variable naming each server the worker talks to -> (a proxy to it, its URL)."""
    if not is_postgres:
        pytest.skip("SQLite is a file, not a server a worker can be cut off from")
    urls = {"DATABASE_URL": database_url(), "REDIS_URL": django_settings.REDIS_URL}
    if celery_broker == brokers.RABBITMQ:
        urls["CELERY_BROKER_URL"] = django_settings.CELERY_BROKER_URL
    ports = {"postgres": 5432, "redis": 6379, "amqp": 5672}
    proxied = {}
    for name, url in urls.items():
        parts = urlparse(url)
        proxied[name] = (CuttableProxy(parts.hostname or "127.0.0.1", parts.port or ports[parts.scheme]), url)
    yield proxied
    for proxy, _url in proxied.values():
        proxy.close()


def test_worker_cut_off_from_postgres_and_redis_mid_send_nobody_twice_nobody_lost(
    proxies, start_worker, emulator, settings
) -> None:
    settings.SEND_STUCK_AFTER_SECONDS = 5
    settings.SEND_BATCH_SIZE = 250
    digest = make_digest()
    make_subscribers(3_000)
    worker = start_worker(
        "w1",
        **{name: _via(url, proxy.port) for name, (proxy, url) in proxies.items()},
        SEND_BATCH_SIZE="250",
        SEND_RATE_PER_SECOND="600",  # the send lasts a few seconds, so the cut lands inside it
    )
    assert len(dispatch.dispatch(digest_id=digest.id).batches) == 12
    wait_for(
        lambda: Delivery.objects.filter(digest=digest, status=D.SENT).count() >= 500,
        timeout=60,
        what="the first batches",
        workers=[worker],
    )

    for proxy, _url in proxies.values():
        proxy.cut()
    accepted_at_cut = emulator.state.stats()["recipients"]
    time.sleep(CUT_SECONDS)
    for proxy, _url in proxies.values():
        proxy.restore()
    assert accepted_at_cut < 3_000, "the send finished before the cut"

    sweep_until_finished(digest.id, timeout=180, workers=[worker])

    stats = emulator.state.stats()
    assert stats["duplicates"] == 0, stats["duplicate_sample"]
    accepted = {record["to"] for record in emulator.state.records}
    rows = list(Delivery.objects.filter(digest=digest).values_list("subscriber__email", "status"))
    assert len(rows) == 3_000
    assert {status for _, status in rows} <= {D.SENT, D.UNKNOWN}
    sent = {email for email, status in rows if status == D.SENT}
    assert sent <= accepted  # no row says sent for an address the ESP never took
    lost = {email for email, status in rows if email not in accepted and status != D.UNKNOWN}
    assert lost == set()  # whoever was not accepted is recorded unknown, never silently dropped
    report = counts.report(digest_id=digest.id)
    assert report.sent + report.unknown == 3_000 and report.queued == 0
    assert Digest.objects.get(id=digest.id).status == Digest.Status.SENT
