"""Retention (newsletter.retention.pruning, `manage.py prune_deliveries`): done-means 3 of
issue 15. The reports of a pruned edition (the admin's per-edition counts, the edition report,
its CSV) show the numbers they showed before the prune; pruning twice is harmless; suppression
and consent data and subscribers are untouched; chunks never exceed DELIVERY_PRUNE_CHUNK."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletter.analytics import rollup
from newsletter.analytics.models import EditionStats, Engagement, StoryClick, StoryClickStats
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery, DeliveryEvent, Receipt
from newsletter.editions.models import Digest, DigestItem
from newsletter.retention import pruning
from newsletter.subscribers.models import Subscriber, Suppression
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.django_db
D = Delivery.Status
DAYS = 90


def sent_edition(count: int = 12, *, facts: bool = True) -> Digest:
    """An edition sent to `count` more readers, with tracking facts, opens and clicks rolled up."""
    digest = make_digest(stories=4)
    make_subscribers(count)
    dispatch.send_all_sync(digest_id=digest.id)
    rows = list(Delivery.objects.filter(digest=digest).order_by("id"))
    if not facts:
        return digest
    now = timezone.now()
    Delivery.objects.filter(id__in=[r.id for r in rows[:9]]).update(delivered_at=now)
    Delivery.objects.filter(id__in=[r.id for r in rows[:5]]).update(opened_at=now)
    Delivery.objects.filter(id__in=[r.id for r in rows[:3]]).update(clicked_at=now)
    Delivery.objects.filter(id=rows[9].id).update(bounced_at=now, status=D.FAILED)
    Delivery.objects.filter(id=rows[10].id).update(complained_at=now, unsubscribed_at=now)
    Delivery.objects.filter(id=rows[11].id).update(status=D.UNKNOWN)
    items = list(DigestItem.objects.filter(digest=digest).order_by("position"))
    for row in rows[:3]:
        Engagement.objects.create(digest=digest, subscriber_id=row.subscriber_id, human_open_at=now, clicked_at=now)
        StoryClick.objects.create(
            digest=digest,
            subscriber_id=row.subscriber_id,
            article_id=items[0].article_id,
            position=1,
            segment=row.segment,  # the segment the send marked the row with, as the roll-up takes it
            clicked_at=now,
        )
    StoryClick.objects.create(
        digest=digest,
        subscriber_id=rows[0].subscriber_id,
        article_id=items[1].article_id,
        position=2,
        segment=rows[0].segment,
        clicked_at=now,
    )
    DeliveryEvent.objects.create(
        esp="mailgun", event_id="ev-1", event_type="bounced", delivery=rows[9], timestamp=now, recipient_hash="h"
    )
    assert rollup.rollup_edition(digest_id=digest.id)
    return digest


def age(digest: Digest, days: int = DAYS + 1) -> None:
    """Move the send `days` back (the unsubscribe an hour after it) and roll up as the beat did."""
    start = timezone.now() - timedelta(days=days)
    Digest.objects.filter(id=digest.id).update(sending_started_at=start)
    Delivery.objects.filter(digest=digest, unsubscribed_at__isnull=False).update(
        unsubscribed_at=start + timedelta(hours=1)
    )
    assert rollup.rollup_edition(digest_id=digest.id)


def table(html: str, marker: str, tag: str = "table") -> str:
    found = re.search(rf"<{tag} {marker}.*?</{tag}>", html, re.S)
    assert found, marker
    return found.group(0)


def shown(admin: Client, digest: Digest) -> dict[str, Any]:
    """Everything a reader of the reports sees for the edition."""
    change = admin.get(reverse("admin:newsletter_digest_change", args=[digest.id])).content.decode()
    report = admin.get(reverse("admin:newsletter_digest_report", args=[digest.id])).content.decode()
    csv = admin.get(reverse("admin:newsletter_digest_report_csv", args=[digest.id])).content.decode()
    return {
        "send report": pruning.send_report(digest_id=digest.id),
        "admin counts": table(change, 'dir="rtl"'),
        "edition figures": table(report, 'id="edition-figures"'),
        "story clicks": table(report, 'id="story-clicks"', tag="div"),
        "csv": csv,
    }


@pytest.fixture
def admin(admin_client: Client, settings) -> Client:
    settings.DELIVERY_RETENTION_DAYS = DAYS
    return admin_client


def test_reports_of_a_pruned_edition_show_the_same_numbers(admin: Client) -> None:
    digest = sent_edition()
    age(digest)
    before = shown(admin, digest)
    assert before["send report"].audience == 12 and before["send report"].delivered == 9  # the figures are real
    assert (before["send report"].failed, before["send report"].unknown, before["send report"].opened) == (1, 1, 5)
    assert "<td>٣</td>" in before["story clicks"]
    assert EditionStats.objects.get(digest=digest).unsubscribes_72h == 1

    result = pruning.prune()

    assert (result.editions, result.deliveries, result.receipts) == (1, 12, 12)
    assert not Delivery.objects.filter(digest=digest).exists()
    assert not Receipt.objects.filter(digest=digest).exists()
    assert EditionStats.objects.get(digest=digest).pruned_at is not None
    assert shown(admin, digest) == before


def test_pruning_twice_and_the_roll_up_afterwards_change_nothing(admin: Client) -> None:
    digest = sent_edition()
    age(digest)
    before = shown(admin, digest)
    pruning.prune()
    again = pruning.prune()
    call_command("prune_deliveries", stdout=io.StringIO())
    rollup.rollup(now=timezone.now())
    assert rollup.rollup_edition(digest_id=digest.id) is False

    assert again.as_dict() == {"editions": 0, "deliveries": 0, "receipts": 0, "chunks": 0}
    assert shown(admin, digest) == before


def test_a_prune_cut_short_resumes_without_refreezing_from_the_remainder(admin: Client) -> None:
    digest = sent_edition()
    age(digest)
    before = shown(admin, digest)
    now = timezone.now()
    pruning.freeze(digest_id=digest.id, now=now)
    pruning._delete_chunk(Delivery, digest_id=digest.id, chunk=5)  # the run dies after one chunk

    assert Delivery.objects.filter(digest=digest).count() == 7
    assert rollup.rollup_edition(digest_id=digest.id) is False  # the 5-minute roll-up leaves it alone
    assert shown(admin, digest) == before
    assert pruning.freeze(digest_id=digest.id, now=now) is False
    pruning.prune()
    assert not Delivery.objects.filter(digest=digest).exists()
    assert shown(admin, digest) == before


def test_suppression_consent_subscribers_and_events_are_kept(admin: Client) -> None:
    digest = sent_edition()
    age(digest)
    Suppression.objects.create(email_hash="x" * 64, reason=Suppression.Reason.BOUNCED)
    Subscriber.objects.update(consent_text_version="v3", signup_ip_hash="ip", confirm_ip_hash="cip")
    subscribers = list(Subscriber.objects.order_by("id").values())
    clicks, engagement = StoryClick.objects.count(), Engagement.objects.count()

    pruning.prune()

    assert list(Subscriber.objects.order_by("id").values()) == subscribers
    assert Suppression.objects.filter(email_hash="x" * 64).exists()
    event = DeliveryEvent.objects.get(event_id="ev-1")
    assert event.delivery_id is None  # kept, detached from the deleted row
    assert (StoryClick.objects.count(), Engagement.objects.count()) == (clicks, engagement)
    assert StoryClickStats.objects.filter(digest=digest).count() == 4


def chunk_ids(sql: str) -> list[str]:
    """The ids one DELETE names: an array parameter on PostgreSQL (`unnest('{1,2}')`), a plain
    `IN (1, 2)` list elsewhere."""
    listed = sql.split("unnest(")[1].split("}")[0] if "unnest(" in sql else sql.split(" IN (")[1].split(")")[0]
    return re.findall(r"\d+", listed)


def test_chunks_are_bounded_and_recent_or_live_editions_are_kept(admin: Client, settings) -> None:
    settings.DELIVERY_PRUNE_CHUNK = 5
    settings.DELIVERY_PRUNE_PAUSE_SECONDS = 0.5
    old = sent_edition()
    age(old)
    recent = sent_edition(3, facts=False)  # 15 readers by now
    age(recent, days=DAYS - 1)
    live = sent_edition(3, facts=False)  # 18
    age(live)
    Digest.objects.filter(id=live.id).update(status=Digest.Status.PAUSED)
    pauses: list[float] = []

    with CaptureQueriesContext(connection) as queries:
        result = pruning.prune(sleep=pauses.append)

    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("DELETE FROM")]
    for table_name in ("newsletter_delivery", "newsletter_receipt"):  # 12 rows each, 5 at a time
        chunks = [sql for sql in deletes if sql.startswith(f"DELETE FROM {table_name} ")]
        assert [len(chunk_ids(sql)) for sql in chunks] == [5, 5, 2]
    assert result.chunks == 6 and pauses == [0.5] * 6
    assert Delivery.objects.filter(digest=recent).count() == 15
    assert Delivery.objects.filter(digest=live).count() == 18


def test_retention_off_and_the_dry_run_change_nothing(admin: Client, settings) -> None:
    digest = sent_edition(3, facts=False)
    age(digest)
    out = io.StringIO()
    call_command("prune_deliveries", "--dry-run", stdout=out)
    assert f"edition {digest.id}" in out.getvalue() and "3 rows" in out.getvalue()
    assert Delivery.objects.filter(digest=digest).count() == 3
    assert not EditionStats.objects.filter(digest=digest, pruned_at__isnull=False).exists()

    settings.DELIVERY_RETENTION_DAYS = 0
    call_command("prune_deliveries", stdout=io.StringIO())
    assert pruning.prune().editions == 0
    assert Delivery.objects.filter(digest=digest).count() == 3
