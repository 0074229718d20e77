"""List hygiene with a controlled clock (done-means 5 of issue 14): one reminder after 48 hours,
pending purge after 30 days, soft-bounce suppression, and each stage of the sunset policy; every
run twice to show it is idempotent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from newsletter.delivery.models import Delivery, DeliveryEvent
from newsletter.hygiene import rules
from newsletter.hygiene.emails import stay_url
from newsletter.subscribers import addresses
from newsletter.subscribers.models import Subscriber, SubscriberActivity
from tests.integration.helpers import make_digest

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


@pytest.fixture(autouse=True)
def committed(django_capture_on_commit_callbacks, monkeypatch):
    """Each hygiene run's on-commit callbacks (the enqueued emails) run when it returns, as
    after a real commit (the test itself runs inside one transaction)."""
    for name in ("remind_pending", "run_sunset"):
        original = getattr(rules, name)

        def wrapped(*args, _original=original, **kwargs):
            with django_capture_on_commit_callbacks(execute=True):
                return _original(*args, **kwargs)

        monkeypatch.setattr(rules, name, wrapped)


def subscriber(email: str, *, status: str = Subscriber.Status.ACTIVE, age: timedelta = timedelta(days=1)) -> Subscriber:
    created = NOW - age
    confirmed = created if status == Subscriber.Status.ACTIVE else None
    return Subscriber.objects.create(email=email, status=status, created_at=created, confirmed_at=confirmed)


def subjects(outbox) -> list[tuple[str, str]]:
    return [(str(m["To"]), str(m["Subject"])) for m in outbox()]


def test_one_reminder_to_a_pending_subscriber_after_48_hours(outbox) -> None:
    young = subscriber("young@example.com", status=Subscriber.Status.PENDING, age=timedelta(hours=47))
    due = subscriber("due@example.com", status=Subscriber.Status.PENDING, age=timedelta(hours=49))
    subscriber("active@example.com", age=timedelta(days=3))
    assert rules.remind_pending(now=NOW) == 1
    assert rules.remind_pending(now=NOW) == 0  # idempotent
    assert rules.remind_pending(now=NOW + timedelta(days=5)) == 1  # the young one, once, later
    sent = subjects(outbox)
    assert [to for to, _ in sent] == ["due@example.com", "young@example.com"]
    assert "تذكير" in sent[0][1]
    assert "/newsletter/confirm/" in outbox()[0].get_body(("plain",)).get_content()
    assert SubscriberActivity.objects.get(subscriber=due).reminded_at == NOW
    assert SubscriberActivity.objects.get(subscriber=young).reminded_at == NOW + timedelta(days=5)


def test_no_reminder_once_confirmed_before_the_task_runs(outbox, settings) -> None:
    settings.CELERY_TASK_ALWAYS_EAGER = True
    due = subscriber("late@example.com", status=Subscriber.Status.PENDING, age=timedelta(hours=49))
    Subscriber.objects.filter(id=due.id).update(status=Subscriber.Status.ACTIVE)
    assert rules.remind_pending(now=NOW) == 0
    assert outbox() == []


def test_pending_signups_are_deleted_after_30_days() -> None:
    old = subscriber("old@example.com", status=Subscriber.Status.PENDING, age=timedelta(days=31))
    recent = subscriber("recent@example.com", status=Subscriber.Status.PENDING, age=timedelta(days=29))
    active = subscriber("kept@example.com", age=timedelta(days=400))
    assert rules.purge_pending(now=NOW) == 1
    assert rules.purge_pending(now=NOW) == 0
    assert set(Subscriber.objects.values_list("id", flat=True)) == {recent.id, active.id}
    assert not Subscriber.objects.filter(id=old.id).exists()


def soft_bounce(delivery: Delivery, when, number: int) -> None:
    DeliveryEvent.objects.create(
        esp="mailgun", event_id=f"soft-{delivery.id}-{number}", event_type="deferred", delivery=delivery, timestamp=when
    )


def test_three_soft_bounces_within_30_days_suppress() -> None:
    reader = subscriber("soft@example.com", age=timedelta(days=100))
    other = subscriber("two@example.com", age=timedelta(days=100))
    digests = [make_digest(stories=3) for _ in range(4)]
    mine = [Delivery.objects.create(digest=d, subscriber=reader, status="sent") for d in digests]
    theirs = [Delivery.objects.create(digest=d, subscriber=other, status="sent") for d in digests]
    # One message deferred five times is one soft bounce; an old one is out of the window.
    for attempt in range(5):
        soft_bounce(theirs[0], NOW - timedelta(days=1), attempt)
    soft_bounce(theirs[1], NOW - timedelta(days=2), 0)
    soft_bounce(theirs[2], NOW - timedelta(days=40), 0)
    for index, delivery in enumerate(mine[:3]):
        soft_bounce(delivery, NOW - timedelta(days=index * 10), 0)
    assert rules.suppress_soft_bounces(now=NOW) == 1
    assert rules.suppress_soft_bounces(now=NOW) == 0
    reader.refresh_from_db()
    other.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED and reader.bounced_at == NOW
    assert addresses.is_suppressed("soft@example.com")
    assert other.status == Subscriber.Status.ACTIVE and not addresses.is_suppressed("two@example.com")


def test_sunset_stages(outbox, settings) -> None:
    settings.SUNSET_INACTIVE_DAYS, settings.SUNSET_GRACE_DAYS = 180, 14
    sleeper = subscriber("sleeper@example.com", age=timedelta(days=200))
    stayer = subscriber("stayer@example.com", age=timedelta(days=200))
    newcomer = subscriber("new@example.com", age=timedelta(days=100))
    reader = subscriber("reader@example.com", age=timedelta(days=300))
    SubscriberActivity.objects.create(subscriber=reader, last_open_at=NOW - timedelta(days=20))
    assert rules.sunset_stages(now=NOW)["inactive"] == 2

    # Stage 1: inactive for 180 days -> one "still want this?" email each.
    assert rules.run_sunset(now=NOW).reengaged == 2
    assert rules.run_sunset(now=NOW + timedelta(days=1)).reengaged == 0  # asked once
    assert sorted(to for to, _ in subjects(outbox)) == ["sleeper@example.com", "stayer@example.com"]
    assert rules.sunset_stages(now=NOW)["reengagement_sent"] == 2

    # Stage 2: the stay link (one click) keeps the subscriber.
    link = stay_url(stayer).replace("http://127.0.0.1:8000", "")
    response = Client().get(link, HTTP_USER_AGENT=UA)
    assert response.status_code == 200
    assert Client().get(link[:-3] + "00/", HTTP_USER_AGENT=UA).status_code == 404

    # Stage 3: no click within 14 days -> unsubscribed, reason "inactive".
    result = rules.run_sunset(now=NOW + timedelta(days=15))
    assert (result.stayed, result.unsubscribed) == (1, 1)
    assert rules.run_sunset(now=NOW + timedelta(days=16)).unsubscribed == 0
    sleeper.refresh_from_db()
    stayer.refresh_from_db()
    assert sleeper.status == Subscriber.Status.UNSUBSCRIBED and sleeper.unsubscribed_at == NOW + timedelta(days=15)
    assert SubscriberActivity.objects.get(subscriber=sleeper).unsubscribe_reason == "inactive"
    assert stayer.status == Subscriber.Status.ACTIVE
    stages = rules.sunset_stages(now=NOW + timedelta(days=16))
    assert stages["unsubscribed_inactive"] == 1 and stages["reengagement_sent"] == 0
    for person in (newcomer, reader):
        person.refresh_from_db()
        assert person.status == Subscriber.Status.ACTIVE


def test_sunset_can_be_switched_off(outbox, settings) -> None:
    settings.SUNSET_ENABLED = False
    subscriber("sleeper@example.com", age=timedelta(days=400))
    assert rules.run_sunset(now=NOW).as_dict() == {"stayed": 0, "reengaged": 0, "unsubscribed": 0}
    assert outbox() == []
