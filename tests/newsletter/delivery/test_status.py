"""The operator's send status (newsletter.delivery.status, `manage.py send_status`)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from celery import current_app
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from kombu import Queue

from newsletter.delivery import dispatch, status
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.django_db
D = Delivery.Status


def test_status_reports_queues_oldest_queued_rate_and_progress(settings) -> None:
    settings.SEND_BATCH_SIZE = 5
    digest = make_digest()
    make_subscribers(10)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    now = timezone.now()
    first = Delivery.objects.filter(digest=digest).order_by("id")
    sent_ids = list(first.values_list("id", flat=True)[:4])
    Delivery.objects.filter(id__in=sent_ids).update(status=D.SENT, sent_at=now - timedelta(seconds=10))
    Delivery.objects.filter(id=sent_ids[0]).update(sent_at=now - timedelta(minutes=5))  # outside the minute
    oldest = now - timedelta(minutes=3)
    Delivery.objects.filter(id=first.filter(status=D.QUEUED).first().id).update(queued_at=oldest)
    Digest.objects.filter(id=digest.id).update(sent_count=4, sending_started_at=now - timedelta(seconds=20))

    with current_app.connection_for_write() as conn:  # two messages wait in the send queue
        producer = conn.Producer()
        for _ in range(2):
            producer.publish({"x": 1}, routing_key="send", declare=[Queue("send")], serializer="json")

    report = status.send_status(now=now)

    assert report.queues == {"celery": 0, "send": 2}
    assert report.oldest_queued_at == oldest
    assert report.sent_last_minute == 3
    [edition] = report.editions
    assert (edition.settled, edition.audience) == (4, 10)
    assert edition.rate_per_second(now=now) == pytest.approx(0.2)
    assert edition.estimated_finish(now=now) == now + timedelta(seconds=30)

    out = io.StringIO()
    call_command("send_status", stdout=out)
    assert "4/10 (40%)" in out.getvalue() and "queue send:" in out.getvalue()


def test_the_admin_counts_of_a_sending_edition_read_its_counters_not_its_rows(admin_client, settings) -> None:
    digest = make_digest()
    make_subscribers(4)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    Digest.objects.filter(id=digest.id).update(sent_count=3)
    with CaptureQueriesContext(connection) as captured:
        page = admin_client.get(f"/admin/newsletter/digest/{digest.id}/change/")
    assert page.status_code == 200
    table = Delivery._meta.db_table
    assert not any(f'FROM "{table}"' in q["sql"] and "COUNT(" in q["sql"] for q in captured.captured_queries)
    assert "<th>أُرسل</th><td>٣</td>" in page.content.decode()
