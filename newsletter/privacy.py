"""Personal data rights: erase a subscriber (keeping only a keyed hash on the suppression list)
and export everything held about one subscriber, consent history and reading history included
(the reading history and profile of personal editions and the reader's "more / less like this"
go with the row: ON DELETE CASCADE).

Erase is the one way the product removes a subscriber who ever consented: the admin offers no
plain delete (newsletter.admin.subscribers), and list hygiene deletes only pending signups that
never consented (newsletter.hygiene.rules). Whatever the subscriber's status, the address
stays suppressed afterwards, so no import, signup or admin add brings it back."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet

from .delivery.models import DeliveryEvent
from .personal import history as personal_history
from .subscribers import consent, feedback
from .subscribers.addresses import email_hash, suppress
from .subscribers.models import Subscriber, Suppression

logger = logging.getLogger(__name__)

ERASED_REPR = "-"  # what the admin history shows for an erased subscriber


def erase(*, subscriber: Subscriber) -> None:
    """Right to be forgotten: delete the row (its deliveries and consent history cascade) and
    keep only a keyed hash of the address in the suppression list so no import or signup can
    add it again.

    What else held the address is scrubbed in the same transaction: the ESP events' descriptions
    (MTA bounce text quotes the address; the events themselves stay, counted, for the reports)
    and the admin's history entries for this subscriber (their object text and change message)."""
    with transaction.atomic():
        suppress(subscriber.email, reason=Suppression.Reason.ERASED)
        DeliveryEvent.objects.filter(
            Q(delivery__subscriber_id=subscriber.pk) | Q(recipient_hash=email_hash(subscriber.email))
        ).update(description="")
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Subscriber), object_id=str(subscriber.pk)
        ).update(object_repr=ERASED_REPR, change_message="")
        Subscriber.objects.filter(pk=subscriber.pk).delete()
    logger.info("subscriber erased")


def erase_many(*, subscribers: QuerySet[Subscriber]) -> int:
    count = 0
    for subscriber in subscribers.iterator(chunk_size=500):
        erase(subscriber=subscriber)
        count += 1
    return count


def export_subscriber_data(*, subscriber: Subscriber) -> dict[str, Any]:
    """Everything we hold about one subscriber (data subject access request), JSON-ready."""

    def iso(value: Any) -> str | None:
        return value.isoformat() if value else None

    deliveries = subscriber.deliveries.select_related("digest").order_by("id")
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status,
        "frequency": subscriber.frequency,
        "language": subscriber.language,
        "alerts": subscriber.alerts,
        "topics": list(subscriber.topics.order_by("position", "name").values_list("slug", flat=True)),
        "consent": {
            "source": subscriber.source,
            "consent_text_version": subscriber.consent_text_version,
            "signup_ip_hash": subscriber.signup_ip_hash,
            "signup_user_agent_hash": subscriber.signup_user_agent_hash,
            "confirm_ip_hash": subscriber.confirm_ip_hash,
        },
        "created_at": iso(subscriber.created_at),
        "confirmed_at": iso(subscriber.confirmed_at),
        "unsubscribed_at": iso(subscriber.unsubscribed_at),
        "bounced_at": iso(subscriber.bounced_at),
        "complained_at": iso(subscriber.complained_at),
        "consent_history": consent.as_export(subscriber),
        "deliveries": [
            {
                "edition": str(delivery.digest),
                "status": delivery.status,
                "sent_at": iso(delivery.sent_at),
                "opened_at": iso(delivery.opened_at),
                "clicked_at": iso(delivery.clicked_at),
            }
            for delivery in deliveries
        ],
        "personal_order": subscriber.personal_order,
        "reading_history": [
            {"article": title, "url": url, "kind": kind, "at": iso(at)}
            for title, url, kind, at in personal_history.for_export(subscriber_id=subscriber.pk)
        ],
        # "More / less like this" (issue 27): each story's choice and what they asked for less of.
        "story_feedback": feedback.for_export(subscriber_id=subscriber.pk),
    }
