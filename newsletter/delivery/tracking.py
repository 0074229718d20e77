"""ESP tracking events on deliveries: record them and suppress bounces/complaints.

Anymail's webhook views (under /anymail/, basic auth from ANYMAIL["WEBHOOK_SECRET"] plus the
ESP's own signature when it has one) validate the request, normalise the ESP payload and send
the `tracking` signal; a request that fails validation is answered 400 before any receiver
runs, so nothing is stored. The signal's one receiver (newsletter.esp_tracking) calls
`record_event()` first, which:

- stores the event once per (esp, event id) in DeliveryEvent (a unique constraint, so a webhook
  delivered twice is stored once; an ESP without event ids gets a stable hash of the event);
- finds the Delivery from the metadata we sent (delivery_id), else by ESP message id + recipient;
- sets the first-occurrence timestamp for the event type (earliest wins, so events arriving out
  of order change nothing);
- suppresses at once on a hard bounce, on `rejected` for a bad mailbox, or on a complaint
  (subscriber status + timestamp + the hashed suppression list), and unsubscribes on an ESP-side
  unsubscribe; each subscriber it changes gets its consent history row (bounced, complained,
  unsubscribed at the ESP) in the same transaction.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from datetime import datetime

from anymail.signals import AnymailTrackingEvent, EventType
from django.conf import settings
from django.core import checks
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from newsletter.subscribers import consent
from newsletter.subscribers.addresses import by_address, email_hash, suppress
from newsletter.subscribers.models import Subscriber, Suppression

from .models import Delivery, DeliveryEvent

log = logging.getLogger(__name__)

# Normalised event type -> the Delivery column holding its first occurrence.
EVENT_FIELDS: dict[str, str] = {
    EventType.DELIVERED: "delivered_at",
    EventType.OPENED: "opened_at",
    EventType.CLICKED: "clicked_at",
    EventType.BOUNCED: "bounced_at",
    EventType.COMPLAINED: "complained_at",
    EventType.UNSUBSCRIBED: "unsubscribed_at",
    EventType.REJECTED: "rejected_at",
}
# `rejected` suppresses only when the mailbox itself is bad (not for spam/policy/rate reasons).
BAD_MAILBOX_REJECT_REASONS = {"bounced", "invalid"}
# Statuses a tracking event may overwrite (an erased or already-suppressed row stays as is).
_CHANGEABLE = [Subscriber.Status.PENDING, Subscriber.Status.ACTIVE, Subscriber.Status.UNSUBSCRIBED]


def event_id_for(event: AnymailTrackingEvent, *, esp_name: str) -> str:
    """The ESP's event id, or a stable hash of what identifies the event when it has none."""
    if event.event_id:
        return str(event.event_id)[:255]
    basis = json.dumps(
        [
            esp_name,
            event.event_type,
            event.message_id,
            event.recipient,
            event.timestamp.isoformat() if event.timestamp else None,
            event.click_url,
            event.reject_reason,
            event.description,
            event.mta_response,
        ],
        default=str,
        sort_keys=True,
    )
    return "sha256:" + hashlib.sha256(basis.encode()).hexdigest()


def record_event(*, event: AnymailTrackingEvent, esp_name: str) -> bool:
    """Store one tracking event and apply it. Returns False for a duplicate (nothing changed)."""
    when = event.timestamp or timezone.now()
    recipient = (event.recipient or "").strip()
    with transaction.atomic():
        delivery = find_delivery(event)
        try:
            with transaction.atomic():
                DeliveryEvent.objects.create(
                    esp=esp_name[:30],
                    event_id=event_id_for(event, esp_name=esp_name),
                    event_type=str(event.event_type)[:20],
                    delivery=delivery,
                    recipient_hash=email_hash(recipient) if recipient else "",
                    timestamp=when,
                    # PostgreSQL text cannot hold NUL; the ESP's wording is informative only.
                    description=str(event.description or event.mta_response or "").replace("\x00", "")[:500],
                )
        except IntegrityError:
            return False  # seen before: the first copy already did everything
        column = EVENT_FIELDS.get(event.event_type)
        if delivery is not None and column:
            # First occurrence wins: an earlier event arriving late moves the time back.
            Delivery.objects.filter(
                Q(**{f"{column}__isnull": True}) | Q(**{f"{column}__gt": when}), id=delivery.id
            ).update(**{column: when})
        _apply_to_subscriber(event, delivery=delivery, recipient=recipient, when=when)
    return True


def find_delivery(event: AnymailTrackingEvent) -> Delivery | None:
    metadata = event.metadata or {}
    delivery_id = str(metadata.get("delivery_id", "")).strip()
    if delivery_id.isdigit():
        query = Delivery.objects.filter(id=int(delivery_id))
        digest_id = str(metadata.get("digest_id", "")).strip()
        if digest_id.isdigit():
            query = query.filter(digest_id=int(digest_id))
        found = query.select_related("subscriber").first()
        if found is not None:
            return found
    if event.message_id and event.recipient:
        # Mailgun gives one message id to a whole batch: the recipient picks the row.
        # Through the subscriber (LOWER(email) index, then the subscriber_id index): the
        # deliveries table has no esp_message_id index, to keep status updates HOT (migration 0005).
        subscriber_ids = by_address(str(event.recipient)).values("id")
        return (
            Delivery.objects.filter(subscriber_id__in=subscriber_ids, esp_message_id=event.message_id)
            .select_related("subscriber")
            .order_by("-id")
            .first()
        )
    return None


def _apply_to_subscriber(
    event: AnymailTrackingEvent, *, delivery: Delivery | None, recipient: str, when: datetime
) -> None:
    kind = event.event_type
    hard_bounce = kind == EventType.BOUNCED or (
        kind == EventType.REJECTED and event.reject_reason in BAD_MAILBOX_REJECT_REASONS
    )
    if not (hard_bounce or kind in (EventType.COMPLAINED, EventType.UNSUBSCRIBED)):
        return
    subscribers = Subscriber.objects.all()
    if delivery is not None:
        subscribers = subscribers.filter(id=delivery.subscriber_id)
        address = delivery.subscriber.email
    elif recipient:
        subscribers = by_address(recipient)
        address = recipient
    else:
        return
    if hard_bounce:
        _change(subscribers, _CHANGEABLE, Subscriber.Status.BOUNCED, kind=consent.Kind.BOUNCED, when=when)
        suppress(address, reason=Suppression.Reason.BOUNCED)
        log.info("suppressed a bounced address (event %s)", event.event_id)
    elif kind == EventType.COMPLAINED:
        _change(subscribers, _CHANGEABLE, Subscriber.Status.COMPLAINED, kind=consent.Kind.COMPLAINED, when=when)
        suppress(address, reason=Suppression.Reason.COMPLAINED)
        log.info("suppressed a complaining address (event %s)", event.event_id)
    else:
        leaving = [Subscriber.Status.PENDING, Subscriber.Status.ACTIVE]
        _change(subscribers, leaving, Subscriber.Status.UNSUBSCRIBED, kind=consent.Kind.UNSUBSCRIBED, when=when)


# The subscriber column each status the ESP reports is dated in.
_DATED: dict[str, str] = {
    Subscriber.Status.BOUNCED: "bounced_at",
    Subscriber.Status.COMPLAINED: "complained_at",
    Subscriber.Status.UNSUBSCRIBED: "unsubscribed_at",
}


def _change(
    subscribers: QuerySet[Subscriber], from_statuses: Sequence[str], status: str, *, kind: str, when: datetime
) -> None:
    """Move the subscribers still in `from_statuses` to `status`, each with a history row
    (inside record_event's transaction; the rows are locked so a concurrent change waits)."""
    ids = list(subscribers.filter(status__in=from_statuses).select_for_update().values_list("id", flat=True))
    if not ids:
        return
    Subscriber.objects.filter(id__in=ids).update(status=status, **{_DATED[status]: when})
    consent.append_many(
        consent.event(subscriber_id=pk, kind=kind, source=consent.Source.ESP, status=status, at=when) for pk in ids
    )


@checks.register(checks.Tags.security, deploy=True)
def check_webhook_secret(app_configs: object = None, **kwargs: object) -> list[checks.CheckMessage]:
    """Anymail only enforces webhook basic auth when WEBHOOK_SECRET is set: without it anyone
    could post fake bounces and cut readers off."""
    if settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return []
    return [
        checks.Warning(
            "ANYMAIL_WEBHOOK_SECRET is not set: tracking webhooks under /anymail/ accept unauthenticated posts.",
            hint="Set ANYMAIL_WEBHOOK_SECRET to 'user:password' and use it in the ESP's webhook URL.",
            id="newsletter.W001",
        )
    ]
