"""Migration 0005 (HOT status updates): no index on newsletter_delivery may cover a column the
status updates write, and the sweeper, now scoped to live editions, still finds stuck rows of
paused and cancelled editions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from newsletter.delivery import controls, dispatch, sweeper
from newsletter.delivery.claims import claim, to_sending
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from tests.integration.helpers import make_digest, make_subscribers
from tests.requirements import require_postgres

pytestmark = pytest.mark.django_db
D = Delivery.Status

# Every column the claim / sending / sent / requeue / sweeper UPDATEs write.
WRITTEN = {"status", "claimed_at", "attempts", "queued_at", "sending_at", "sent_at", "esp_message_id", "error"}


def _index_definitions() -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'newsletter_delivery'")
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'newsletter_delivery'"
            )
        return {name: definition or "" for name, definition in cursor.fetchall()}


def test_no_index_covers_a_column_the_status_updates_write() -> None:
    definitions = _index_definitions()
    assert definitions, "the table has indexes"
    for name, definition in definitions.items():
        # Key columns and partial-index predicates both make an UPDATE of that column non-HOT.
        assert not {c for c in WRITTEN if f'"{c}"' in definition or f"({c}" in definition or f" {c}" in definition}, (
            name,
            definition,
        )
    constraints = connection.introspection.get_constraints(connection.cursor(), "newsletter_delivery")
    indexed = {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["unique"]}
    assert ("digest_id", "subscriber_id") in indexed and ("digest_id", "batch") in indexed


def test_status_updates_are_hot_on_postgresql() -> None:
    require_postgres("fillfactor and HOT updates")
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'newsletter_delivery'")
        assert "fillfactor=75" in (cursor.fetchone()[0] or [])
    with connection.cursor() as cursor:
        # Fresh pages (undone at the end of the test's transaction): whether 40 new row versions
        # fit beside 20 rows depends on how full the page they land on already is, which the
        # earlier tests' rolled-back rows decided (autovacuum is off here): 28 of 40 once (issue 21).
        cursor.execute("TRUNCATE newsletter_delivery, newsletter_deliveryevent")
    digest = make_digest()
    make_subscribers(20)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    with connection.cursor() as cursor:
        # Counters of the current transaction (the test's), so no wait for the stats collector.
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated('newsletter_delivery'::regclass), "
            "pg_stat_get_xact_tuples_hot_updated('newsletter_delivery'::regclass)"
        )
        before = cursor.fetchone()
        token = timezone.now()
        claimed = claim(digest_id=digest.id, batch=0, token=token)
        assert len(claimed) == 20
        assert to_sending([delivery_id for delivery_id, _ in claimed], token=token)
        cursor.execute(
            "SELECT pg_stat_get_xact_tuples_updated('newsletter_delivery'::regclass), "
            "pg_stat_get_xact_tuples_hot_updated('newsletter_delivery'::regclass)"
        )
        after = cursor.fetchone()
    updated, hot = after[0] - before[0], after[1] - before[1]
    assert updated == 40 and hot == 40


def test_sweeper_still_settles_stuck_rows_of_cancelled_and_paused_editions(settings) -> None:
    old = timezone.now() - timedelta(minutes=5)
    cancelled, paused, long_cancelled = make_digest(), make_digest(), make_digest()
    make_subscribers(4)
    for digest in (cancelled, paused, long_cancelled):
        dispatch.dispatch(digest_id=digest.id, enqueue=False)
        rows = list(Delivery.objects.filter(digest=digest).order_by("id").values_list("id", flat=True))
        Delivery.objects.filter(id__in=rows[:2]).update(status=D.SENDING, claimed_at=old, sending_at=old)
        Delivery.objects.filter(id__in=rows[2:]).update(status=D.CLAIMED, claimed_at=old)
    controls.cancel(digest_id=cancelled.id)
    controls.pause(digest_id=paused.id)
    # Cancelled two days ago: outside the sweeper's window, its rows are left as they are.
    controls.cancel(digest_id=long_cancelled.id)
    Digest.objects.filter(id=long_cancelled.id).update(updated_at=timezone.now() - timedelta(days=2))
    report = sweeper.sweep()
    assert (report.settled_unknown, report.requeued_claimed) == (4, 2)

    def statuses(digest: Digest) -> list[str]:
        return sorted(Delivery.objects.filter(digest=digest).values_list("status", flat=True))

    # Sending rows may have reached the ESP: unknown, never resent. Claimed rows never did:
    # queued again in the paused edition (resume sends them), skipped in the cancelled one.
    assert statuses(paused) == [D.QUEUED, D.QUEUED, D.UNKNOWN, D.UNKNOWN]
    assert statuses(cancelled) == [D.SKIPPED, D.SKIPPED, D.UNKNOWN, D.UNKNOWN]
    assert statuses(long_cancelled) == [D.CLAIMED, D.CLAIMED, D.SENDING, D.SENDING]
