"""Erasure leaves no address behind: not in the admin's history, not in ESP event texts, and a
subscriber's text form never carries the address (newsletter.privacy)."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.utils import timezone

from newsletter import privacy
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery, DeliveryEvent
from newsletter.subscribers import addresses
from newsletter.subscribers.models import Subscriber
from tests.integration.helpers import make_digest

pytestmark = pytest.mark.django_db
ADDRESS = "erase.me@example.com"


def test_erase_scrubs_the_admin_history_and_esp_event_texts(admin_user) -> None:
    reader = Subscriber.objects.create(email=ADDRESS, status=Subscriber.Status.ACTIVE)
    assert ADDRESS not in str(reader)
    LogEntry.objects.log_actions(admin_user.pk, [reader], CHANGE, change_message=f"changed {ADDRESS}")
    digest = make_digest()
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    delivery = Delivery.objects.get(subscriber=reader)
    bounce = f"550 5.1.1 <{ADDRESS}>: Recipient address rejected: User unknown"
    DeliveryEvent.objects.create(
        esp="mailgun",
        event_id="e1",
        event_type="bounced",
        delivery=delivery,
        timestamp=timezone.now(),
        description=bounce,
    )
    DeliveryEvent.objects.create(  # an event the tracking could not tie to a delivery
        esp="mailgun",
        event_id="e2",
        event_type="complained",
        recipient_hash=addresses.email_hash(ADDRESS),
        timestamp=timezone.now(),
        description=bounce,
    )
    other = DeliveryEvent.objects.create(
        esp="mailgun", event_id="e3", event_type="bounced", timestamp=timezone.now(), description="550 <x@example.com>"
    )

    privacy.erase(subscriber=reader)

    assert not Subscriber.objects.filter(email=ADDRESS).exists()
    assert addresses.is_suppressed(ADDRESS)
    assert DeliveryEvent.objects.count() == 3  # the events stay (reports count them)
    leftovers = [
        *LogEntry.objects.values_list("object_repr", "change_message"),
        *DeliveryEvent.objects.values_list("description", "event_id"),
    ]
    assert not any(ADDRESS in text for row in leftovers for text in row), leftovers
    other.refresh_from_db()
    assert other.description == "550 <x@example.com>"  # someone else's event is left alone
