"""The five-minute roll-up re-aggregates an edition past its first days only when it changed
(newsletter.analytics.changes), so its cost does not grow with every recent edition's size."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.utils import timezone

from newsletter.analytics import changes, rollup
from newsletter.analytics.models import EditionStats
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.django_db


def edition_sent_days_ago(days: float, *, subscribers: int = 4) -> Digest:
    digest = make_digest(stories=3)
    make_subscribers(subscribers, prefix=f"d{days}")
    dispatch.send_all_sync(digest_id=digest.id)
    Digest.objects.filter(id=digest.id).update(sending_started_at=timezone.now() - timedelta(days=days))
    return digest


def delivered(digest: Digest) -> int | None:
    return EditionStats.objects.values_list("delivered", flat=True).filter(digest=digest).first()


def deliver_one(digest: Digest) -> None:
    row = Delivery.objects.filter(digest=digest, delivered_at__isnull=True).first()
    assert row is not None
    Delivery.objects.filter(id=row.id).update(delivered_at=timezone.now())


def test_an_old_edition_is_rolled_up_again_only_when_an_event_names_it(django_capture_on_commit_callbacks) -> None:
    old, fresh = edition_sent_days_ago(5), edition_sent_days_ago(1)
    rollup.rollup()
    assert delivered(old) == 0 and delivered(fresh) == 0  # first figures for both
    deliver_one(old)
    deliver_one(fresh)
    rollup.rollup()
    assert delivered(fresh) == 1  # in its first 73 hours: every run
    assert delivered(old) == 0  # unchanged as far as the roll-up knows: not re-aggregated
    event = AnymailTrackingEvent(
        event_type=EventType.DELIVERED, event_id="ev-changes-1", metadata={"digest_id": str(old.id)}
    )
    with django_capture_on_commit_callbacks(execute=True):
        tracking.send(sender=object, event=event, esp_name="Mailgun")
    assert old.id in changes.changed(before=time.time())
    rollup.rollup()
    assert delivered(old) == 1
    assert old.id not in changes.changed(before=time.time())  # the mark is used up


def test_a_change_during_a_roll_up_keeps_its_mark(django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        changes.mark(7)
    started = time.time()
    time.sleep(0.01)
    with django_capture_on_commit_callbacks(execute=True):
        changes.mark(7)  # a new event while the roll-up of edition 7 was running
        changes.mark(8)
    changes.forget({7, 8}, before=started)
    assert changes.changed(before=time.time()) == {7, 8}
    changes.forget({7, 8}, before=time.time())
    assert changes.changed(before=time.time()) == set()


def test_every_recent_edition_is_rolled_up_once_a_day_even_without_a_mark() -> None:
    old = edition_sent_days_ago(5)
    rollup.rollup()
    deliver_one(old)
    rollup.rollup()
    assert delivered(old) == 0
    rollup.rollup(now=timezone.now() + rollup.FULL_ROLLUP_EVERY + timedelta(minutes=1))
    assert delivered(old) == 1  # the daily pass catches a change whose mark Redis lost


def test_a_mark_is_written_only_when_the_change_commits() -> None:
    changes.mark(9)  # inside the test's transaction, which never commits
    assert changes.changed(before=time.time()) == set()
