"""The consent history (issue 22): every status change appends its row in the same transaction,
the export tells the truth about a reader who left and came back, erase deletes the history,
and no raw IP or user agent is kept (newsletter.subscribers.consent)."""

from __future__ import annotations

import csv
import io
import json
from contextlib import nullcontext
from datetime import timedelta

import pytest
from anymail.signals import AnymailTrackingEvent
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from newsletter import privacy
from newsletter.delivery import dispatch, tracking
from newsletter.delivery.models import Delivery, DeliveryEvent
from newsletter.hygiene import rules
from newsletter.subscribers import addresses, consent, csv_io, lifecycle, signup, token_links
from newsletter.subscribers.models import ConsentEvent, Subscriber, SubscriberActivity, Suppression
from tests.integration.helpers import make_digest

pytestmark = pytest.mark.django_db

Kind = ConsentEvent.Kind
CHANGELIST = "/admin/newsletter/subscriber/"
IP = "198.51.100.23"
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"


def kinds(subscriber: Subscriber) -> list[str]:
    return [row.kind for row in consent.history(subscriber)]


def path_of(url: str) -> str:
    return url.removeprefix("http://testserver")


@pytest.fixture
def boss(client):
    client.force_login(User.objects.create_superuser("boss", "boss@example.com", "pw"))
    return client


def test_a_reader_who_left_and_came_back_is_exported_as_they_are(
    boss, time_machine, django_capture_on_commit_callbacks
):
    """Confirmed, left, came back: the export used to keep `unsubscribed_at` on the active reader
    and overwrite `confirmed_at` with the return."""
    start = timezone.now().replace(microsecond=0)
    time_machine.move_to(start, tick=False)
    reader = Client(HTTP_USER_AGENT=UA, REMOTE_ADDR=IP)
    with django_capture_on_commit_callbacks(execute=True):
        reader.post("/newsletter/", {"email": "back@example.com", "frequency": "daily"})
    subscriber = Subscriber.objects.get()
    confirmed = start + timedelta(hours=1)
    time_machine.move_to(confirmed, tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.confirm(subscriber_uuid=subscriber.uuid, ip=IP)
    left = start + timedelta(days=10)
    time_machine.move_to(left, tick=False)
    unsubscribe = path_of(token_links.unsubscribe_url(subscriber.uuid))
    assert (
        Client(enforce_csrf_checks=True)
        .post(unsubscribe, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
        .status_code
        == 200
    )
    back = start + timedelta(days=12)
    time_machine.move_to(back, tick=False)
    reader.post(unsubscribe + "resubscribe/")

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at == confirmed  # when they confirmed, not when they came back
    assert subscriber.unsubscribed_at is None  # not out any more
    assert [(row.kind, row.at, row.source, row.status) for row in consent.history(subscriber)] == [
        (Kind.SIGNED_UP, start, "form", "pending"),
        (Kind.CONFIRMED, confirmed, "link", "active"),
        (Kind.UNSUBSCRIBED, left, "link", "unsubscribed"),
        (Kind.RESUBSCRIBED, back, "link", "active"),
    ]

    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(boss.get(f"{CHANGELIST}export/").streaming_content).decode().lstrip("\ufeff"))
        )
    )
    [row] = rows
    assert row["status"] == "active" and row["confirmed_at"] == confirmed.isoformat() and row["unsubscribed_at"] == ""
    assert row["consent_history"] == "|".join(
        [
            f"signed_up@{start.isoformat()}",
            f"confirmed@{confirmed.isoformat()}",
            f"unsubscribed@{left.isoformat()}",
            f"resubscribed@{back.isoformat()}",
        ]
    )
    data = json.loads(boss.get(f"{CHANGELIST}{subscriber.pk}/export-json/").content)
    assert [(event["event"], event["at"]) for event in data["consent_history"]] == [
        ("signed_up", start.isoformat()),
        ("confirmed", confirmed.isoformat()),
        ("unsubscribed", left.isoformat()),
        ("resubscribed", back.isoformat()),
    ]
    # Keyed hashes only: the address and browser never appear in the history.
    signed_up = data["consent_history"][0]
    assert signed_up["ip_hash"] == addresses.keyed_hash(IP, purpose="consent-ip") and IP not in json.dumps(data)
    assert signed_up["user_agent_hash"] and "Firefox" not in json.dumps(data["consent_history"])
    assert signed_up["consent_text_version"]
    # The change page shows the history, read-only.
    page = boss.get(f"{CHANGELIST}{subscriber.pk}/change/").content.decode()
    assert 'class="consent-history"' in page and "عاد إلى القائمة" in page and "أكّد الاشتراك" in page


def test_every_signup_channel_writes_its_row_and_the_new_address_stays_one_statement(
    client, django_assert_num_queries, is_postgres
):
    client.get("/newsletter/")
    # One statement is PostgreSQL's data-modifying CTE; SQLite (the embedded default) writes the
    # history row apart inside a transaction, so only PostgreSQL's count is pinned.
    with django_assert_num_queries(1) if is_postgres else nullcontext():
        client.post("/newsletter/", {"email": "fast@example.com", "frequency": "daily", "source": "article_box"})
    [row] = ConsentEvent.objects.all()
    assert (row.kind, row.source, row.status) == (Kind.SIGNED_UP, "article_box", "pending")
    # The same address again (pending): a second signed-up row, the consent now on record.
    signup.subscribe(email="fast@example.com", source="embed", ip=IP)
    assert [(row.kind, row.source) for row in ConsentEvent.objects.order_by("id")] == [
        (Kind.SIGNED_UP, "article_box"),
        (Kind.SIGNED_UP, "embed"),
    ]
    # An active reader signing up again changes nothing, so nothing is written.
    subscriber = Subscriber.objects.get()
    lifecycle.confirm(subscriber_uuid=subscriber.uuid)
    signup.subscribe(email="fast@example.com", ip=IP)
    assert kinds(subscriber) == [Kind.SIGNED_UP, Kind.SIGNED_UP, Kind.CONFIRMED]


def test_a_failed_signup_leaves_no_history_row(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("topic rows could not be written")

    monkeypatch.setattr(Subscriber.topics.through.objects, "bulk_create", fail)
    with pytest.raises(RuntimeError):
        signup.subscribe(email="half@example.com", topics=[1], ip=IP)
    assert not ConsentEvent.objects.exists() and not Subscriber.objects.exists()


def test_import_and_the_admin_write_rows_with_the_administrator(boss):
    preview = boss.post(f"{CHANGELIST}import/", {"file": SimpleUploadedFile("s.csv", b"email\nlist@example.com\n")})
    boss.post(f"{CHANGELIST}import/", {"import_key": preview.context["import_key"]})
    imported = Subscriber.objects.get(email="list@example.com")
    [row] = consent.history(imported)
    assert (row.kind, row.source, row.status, row.actor.username) == (Kind.IMPORTED, "import", "active", "boss")

    form = {"email": "desk@example.com", "name": "", "status": "active", "frequency": "daily", "language": "ar"}
    assert boss.post(f"{CHANGELIST}add/", form).status_code == 302
    added = Subscriber.objects.get(email="desk@example.com")
    [row] = consent.history(added)
    assert (row.kind, row.source, row.status, row.actor.username) == (Kind.ADDED_BY_ADMIN, "admin", "active", "boss")

    # A status changed on the change page is a row too, and stamps its date column.
    boss.post(f"{CHANGELIST}{added.pk}/change/", {**form, "status": "unsubscribed"})
    added.refresh_from_db()
    assert added.status == "unsubscribed" and added.unsubscribed_at is not None
    assert [(r.kind, r.source, r.actor.username) for r in consent.history(added)][-1] == (
        Kind.UNSUBSCRIBED,
        "admin",
        "boss",
    )
    boss.post(f"{CHANGELIST}{added.pk}/change/", {**form, "status": "unsubscribed", "name": "Desk"})
    assert len(consent.history(added)) == 2  # a save that changes no status writes nothing


def _event(kind: str, delivery: Delivery, **extra) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(
        event_type=kind,
        event_id=f"{kind}-{delivery.pk}",
        timestamp=timezone.now(),
        recipient=delivery.subscriber.email,
        metadata={"delivery_id": str(delivery.pk), "digest_id": str(delivery.digest_id)},
        **extra,
    )


def test_bounces_complaints_and_esp_unsubscribes_are_rows_once(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    now = timezone.now()
    readers = [
        Subscriber.objects.create(email=f"t{i}@example.com", status="active", confirmed_at=now) for i in range(3)
    ]
    digest = make_digest()
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    deliveries = {d.subscriber_id: d for d in Delivery.objects.select_related("subscriber")}
    for reader, kind in zip(readers, ("bounced", "complained", "unsubscribed"), strict=True):
        assert tracking.record_event(event=_event(kind, deliveries[reader.pk]), esp_name="mailgun")
        assert not tracking.record_event(event=_event(kind, deliveries[reader.pk]), esp_name="mailgun")  # twice
    assert [[(r.kind, r.source, r.status) for r in consent.history(reader)] for reader in readers] == [
        [(Kind.BOUNCED, "esp", "bounced")],
        [(Kind.COMPLAINED, "esp", "complained")],
        [(Kind.UNSUBSCRIBED, "esp", "unsubscribed")],
    ]


def test_soft_bounces_and_the_sunset_write_their_rows(settings):
    now = timezone.now().replace(microsecond=0)
    soft = Subscriber.objects.create(email="soft@example.com", status="active", confirmed_at=now)
    quiet = Subscriber.objects.create(
        email="quiet@example.com",
        status="active",
        confirmed_at=now - timedelta(days=400),
        created_at=now - timedelta(days=400),
    )
    for n in range(settings.HYGIENE_SOFT_BOUNCE_LIMIT):
        digest = make_digest()
        delivery = Delivery.objects.create(digest=digest, subscriber=soft, status="sent")
        DeliveryEvent.objects.create(
            esp="mailgun", event_id=f"d{n}", event_type="deferred", delivery=delivery, timestamp=now - timedelta(days=n)
        )
    assert rules.suppress_soft_bounces(now=now) == 1
    assert [(r.kind, r.source) for r in consent.history(soft)] == [(Kind.BOUNCED, "hygiene")]
    rules.run_sunset(now=now)
    later = now + timedelta(days=settings.SUNSET_GRACE_DAYS + 1)
    assert rules.run_sunset(now=later).unsubscribed == 1
    [row] = consent.history(quiet)
    assert (row.kind, row.source, row.reason, row.at) == (Kind.UNSUBSCRIBED, "hygiene", "inactive", later)
    assert SubscriberActivity.objects.get(subscriber=quiet).unsubscribe_reason == "inactive"


def test_erase_deletes_the_history_and_keeps_only_the_suppression_hash():
    subscriber = Subscriber.objects.create(email="gone@example.com", status="active", confirmed_at=timezone.now())
    lifecycle.unsubscribe(subscriber=subscriber)
    other = Subscriber.objects.create(email="stays@example.com")
    consent.append(subscriber_id=other.pk, kind=Kind.ADDED_BY_ADMIN, source="admin", status="pending")
    assert ConsentEvent.objects.filter(subscriber=subscriber).exists()
    privacy.erase(subscriber=subscriber)
    assert list(ConsentEvent.objects.values_list("subscriber_id", flat=True)) == [other.pk]
    assert Suppression.objects.get().reason == "erased" and addresses.is_suppressed("gone@example.com")


def test_a_reason_is_written_once_on_the_latest_unsubscribe():
    subscriber = Subscriber.objects.create(email="why@example.com", status="active", confirmed_at=timezone.now())
    assert not consent.give_unsubscribe_reason(subscriber=subscriber, reason="too_many")  # still subscribed
    lifecycle.unsubscribe(subscriber=subscriber)
    for refused in ("inactive", "bored", ""):  # the system's reason, or none of the choices
        with pytest.raises(ValueError):
            consent.give_unsubscribe_reason(subscriber=subscriber, reason=refused)
    assert consent.give_unsubscribe_reason(subscriber=subscriber, reason="too_many")
    assert not consent.give_unsubscribe_reason(subscriber=subscriber, reason="other")  # once
    assert [(r.kind, r.reason) for r in consent.history(subscriber)] == [(Kind.UNSUBSCRIBED, "too_many")]


def test_csv_export_pins_its_columns():
    assert csv_io.EXPORT_COLUMNS[-1] == "consent_history" and set(csv_io.IMPORT_COLUMNS) <= set(csv_io.EXPORT_COLUMNS)


@pytest.fixture
def back_to_the_latest_migrations():
    """The test migrates the schema back and forth: leave it at every app's latest migration
    (migrating to 0013 alone would leave the migrations after it unapplied for later tests)."""
    yield
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_the_latest_migrations")
def test_migration_0013_rebuilds_the_history_the_columns_tell():
    """Subscribers from before the history get the rows their columns still tell."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before, after = ("newsletter", "0012_snapshot_without_subscriber_fk_check"), ("newsletter", "0013_consent_history")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    old = executor.loader.project_state([before]).apps
    OldSubscriber = old.get_model("newsletter", "Subscriber")
    t0 = timezone.now().replace(microsecond=0)
    days = [t0 + timedelta(days=n) for n in range(4)]
    came_back = OldSubscriber.objects.create(
        email="old@example.com",
        status="unsubscribed",
        source="article_box",
        consent_text_version="2026-11",
        signup_ip_hash="i" * 64,
        created_at=days[0],
        confirmed_at=days[1],
        confirm_ip_hash="c" * 64,
        unsubscribed_at=days[2],
    )
    imported = OldSubscriber.objects.create(
        email="imp@example.com", status="bounced", source="import", created_at=days[0], bounced_at=days[3]
    )
    quiet = OldSubscriber.objects.create(
        email="quiet@example.com", status="unsubscribed", source="form", created_at=days[0], unsubscribed_at=days[3]
    )
    old.get_model("newsletter", "SubscriberActivity").objects.create(
        subscriber_id=quiet.pk, unsubscribe_reason="inactive"
    )
    executor = MigrationExecutor(connection)
    executor.migrate([after])

    def rows(pk):
        events = ConsentEvent.objects.filter(subscriber_id=pk).order_by("at", "id")
        return [(r.kind, r.at, r.source, r.reason, r.ip_hash[:1]) for r in events]

    assert rows(came_back.pk) == [
        (Kind.SIGNED_UP, days[0], "history", "", "i"),
        (Kind.CONFIRMED, days[1], "history", "", "c"),
        (Kind.UNSUBSCRIBED, days[2], "history", "", ""),
    ]
    assert rows(imported.pk) == [
        (Kind.IMPORTED, days[0], "history", "", ""),
        (Kind.BOUNCED, days[3], "history", "", ""),
    ]
    assert rows(quiet.pk)[-1] == (Kind.UNSUBSCRIBED, days[3], "history", "inactive", "")
