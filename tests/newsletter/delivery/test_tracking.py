"""Tracking webhooks (Mailgun's payload format and signature, through anymail's view) and the
receiver: events stored once, first occurrence kept, bounces/complaints suppress at once."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery, DeliveryEvent
from newsletter.delivery.tracking import check_webhook_secret
from newsletter.subscribers import addresses
from newsletter.subscribers.models import Subscriber
from tests.integration.helpers import make_digest, make_subscribers

pytestmark = pytest.mark.django_db
SIGNING_KEY = "mailgun-signing-key"
SECRET = "hooks:s3cret-pass"
URL = "/anymail/mailgun/tracking/"


@pytest.fixture
def webhook_settings(settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    return settings


@pytest.fixture
def sent_delivery(webhook_settings) -> Delivery:
    digest = make_digest()
    make_subscribers(2)
    dispatch.send_all_sync(digest_id=digest.id)
    return Delivery.objects.select_related("subscriber").order_by("id").first()  # type: ignore[return-value]


def mailgun_payload(
    event: str,
    delivery: Delivery | None,
    *,
    recipient: str,
    token: str | None = None,
    timestamp: float | None = None,
    **extra: object,
) -> dict:
    token = token or uuid.uuid4().hex
    stamp = str(int(time.time()))
    signature = hmac.new(SIGNING_KEY.encode(), f"{stamp}{token}".encode(), hashlib.sha256).hexdigest()
    data = {
        "event": event,
        "id": uuid.uuid4().hex[:20],
        "timestamp": timestamp or time.time(),
        "recipient": recipient,
        "message": {"headers": {"message-id": "20300101.1@example.com"}},
        "user-variables": {"digest_id": str(delivery.digest_id), "delivery_id": str(delivery.id)} if delivery else {},
        **extra,
    }
    return {"signature": {"timestamp": stamp, "token": token, "signature": signature}, "event-data": data}


def basic(auth: str | None) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}


def post(client, payload: dict, *, auth: str | None = SECRET):
    return client.post(URL, data=json.dumps(payload), content_type="application/json", **basic(auth))


def test_hard_bounce_suppresses_at_once(client, sent_delivery) -> None:
    sub = sent_delivery.subscriber
    response = post(
        client,
        mailgun_payload(
            "failed",
            sent_delivery,
            recipient=sub.email,
            severity="permanent",
            reason="bounce",
            **{"delivery-status": {"code": 550, "message": "no such user"}},
        ),
    )
    assert response.status_code == 200
    sub.refresh_from_db()
    sent_delivery.refresh_from_db()
    assert sub.status == Subscriber.Status.BOUNCED and sub.bounced_at is not None
    assert sent_delivery.bounced_at is not None
    assert addresses.is_suppressed(sub.email)
    assert DeliveryEvent.objects.get().delivery_id == sent_delivery.id


def test_temporary_failure_is_recorded_and_does_not_suppress(client, sent_delivery) -> None:
    sub = sent_delivery.subscriber
    response = post(client, mailgun_payload("failed", sent_delivery, recipient=sub.email, severity="temporary"))
    assert response.status_code == 200
    # Processed, not ignored: the event is stored against this delivery as a deferral...
    stored = DeliveryEvent.objects.get()
    assert (stored.delivery_id, stored.event_type) == (sent_delivery.id, "deferred")
    # ...and only that: no bounce on the row, the subscriber stays active and unsuppressed.
    sub.refresh_from_db()
    sent_delivery.refresh_from_db()
    assert sent_delivery.bounced_at is None
    assert sub.status == Subscriber.Status.ACTIVE and not addresses.is_suppressed(sub.email)


def test_complaint_suppresses(client, sent_delivery) -> None:
    sub = sent_delivery.subscriber
    assert post(client, mailgun_payload("complained", sent_delivery, recipient=sub.email)).status_code == 200
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.COMPLAINED and sub.complained_at is not None
    assert addresses.is_suppressed(sub.email)


def test_esp_unsubscribe_unsubscribes(client, sent_delivery) -> None:
    sub = sent_delivery.subscriber
    post(client, mailgun_payload("unsubscribed", sent_delivery, recipient=sub.email))
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.UNSUBSCRIBED and sub.unsubscribed_at is not None


def test_same_event_twice_is_stored_once(client, sent_delivery) -> None:
    payload = mailgun_payload("opened", sent_delivery, recipient=sent_delivery.subscriber.email)
    assert post(client, payload).status_code == 200
    assert post(client, payload).status_code == 200
    assert DeliveryEvent.objects.count() == 1
    sent_delivery.refresh_from_db()
    assert sent_delivery.opened_at is not None


def test_out_of_order_events_keep_the_first_occurrence(client, sent_delivery) -> None:
    email = sent_delivery.subscriber.email
    late, early = time.time(), time.time() - 3600
    post(client, mailgun_payload("delivered", sent_delivery, recipient=email, timestamp=late))
    post(client, mailgun_payload("delivered", sent_delivery, recipient=email, timestamp=early))
    post(client, mailgun_payload("delivered", sent_delivery, recipient=email, timestamp=late + 60))
    sent_delivery.refresh_from_db()
    assert abs(sent_delivery.delivered_at.timestamp() - early) < 1
    assert DeliveryEvent.objects.count() == 3


def test_unauthenticated_webhook_is_rejected_and_nothing_stored(client, sent_delivery) -> None:
    sub = sent_delivery.subscriber
    payload = mailgun_payload("complained", sent_delivery, recipient=sub.email)
    assert post(client, payload, auth=None).status_code == 400
    assert post(client, payload, auth="hooks:wrong").status_code == 400
    bad_signature = {**payload, "signature": {**payload["signature"], "signature": "0" * 64}}
    assert post(client, bad_signature).status_code == 400
    assert DeliveryEvent.objects.count() == 0
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.ACTIVE and not addresses.is_suppressed(sub.email)
    # The same payload, properly authenticated, is processed: the refusals above were the auth.
    assert post(client, payload).status_code == 200
    sub.refresh_from_db()
    assert DeliveryEvent.objects.count() == 1 and sub.status == Subscriber.Status.COMPLAINED


def test_deploy_check_warns_when_the_webhook_secret_is_unset(settings) -> None:
    """Anymail accepts unauthenticated webhooks when WEBHOOK_SECRET is unset; `check --deploy`
    must say so (newsletter.W001), and stay quiet once it is set."""
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY}
    warnings = check_webhook_secret()
    assert [w.id for w in warnings] == ["newsletter.W001"]
    output = io.StringIO()
    with pytest.raises(SystemCheckError):  # --fail-level WARNING: the warning fails the check
        call_command("check", "--deploy", "--fail-level", "WARNING", stdout=output, stderr=output)
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET}
    assert check_webhook_secret() == []


def test_event_found_by_message_id_and_recipient_without_metadata(client, sent_delivery) -> None:
    Delivery.objects.filter(id=sent_delivery.id).update(esp_message_id="<20300101.1@example.com>")
    payload = mailgun_payload("clicked", None, recipient=sent_delivery.subscriber.email.upper(), url="https://x.test/")
    post(client, payload)
    sent_delivery.refresh_from_db()
    assert sent_delivery.clicked_at is not None


def test_rejected_bad_mailbox_suppresses_but_policy_rejection_does_not(sent_delivery) -> None:
    from anymail.signals import AnymailTrackingEvent

    from newsletter.delivery.tracking import record_event

    sub = sent_delivery.subscriber
    meta = {"delivery_id": str(sent_delivery.id)}
    record_event(
        event=AnymailTrackingEvent(
            event_type="rejected",
            reject_reason="spam",
            recipient=sub.email,
            metadata=meta,
            event_id=None,
            message_id="m1",
        ),
        esp_name="Test",
    )
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.ACTIVE
    invalid = AnymailTrackingEvent(
        event_type="rejected",
        reject_reason="invalid",
        recipient=sub.email,
        metadata=meta,
        event_id=None,
        message_id="m1",
    )
    assert record_event(event=invalid, esp_name="Test")
    assert not record_event(event=invalid, esp_name="Test")  # derived event id: stored once
    sub.refresh_from_db()
    assert sub.status == Subscriber.Status.BOUNCED and addresses.is_suppressed(sub.email)


def test_one_receiver_stores_the_delivery_event_before_analytics_sees_it(monkeypatch) -> None:
    """anymail's tracking signal has one receiver of ours (newsletter.esp_tracking), which calls
    delivery first and analytics second, in that order, also for a duplicate event."""
    from anymail.signals import AnymailTrackingEvent, EventType, tracking

    from newsletter import esp_tracking

    calls: list[str] = []
    monkeypatch.setattr(esp_tracking.delivery_tracking, "record_event", lambda **kw: calls.append("delivery") or False)
    monkeypatch.setattr(esp_tracking.events, "record_event", lambda **kw: calls.append("analytics"))
    event = AnymailTrackingEvent(event_type=EventType.OPENED, message_id="m1", recipient="a@example.com")
    tracking.send(sender=object, event=event, esp_name="Mailgun")
    assert calls == ["delivery", "analytics"]
