"""The one receiver of anymail's `tracking` signal (sent by the ESP webhook views,
newsletter.delivery.webhooks), calling the two rooms that hear back from the ESP in a fixed order:

1. newsletter.delivery.tracking.record_event: the event stored once per event id on its
   Delivery, bounces and complaints suppressed;
2. newsletter.analytics.events.record_event: the edition marked changed for the roll-up, opens
   (human or machine) and ESP-reported clicks; it runs for a webhook delivered twice as well
   (its writes keep the earliest time, so the second copy changes nothing).
An error in the first stops the second, and the webhook answers 500 so the ESP sends it again.
"""

from __future__ import annotations

from anymail.signals import AnymailTrackingEvent, tracking
from django.dispatch import receiver

from .analytics import events
from .delivery import tracking as delivery_tracking


@receiver(tracking, dispatch_uid="newsletter.tracking.handle_tracking")
def handle_tracking(sender: object, event: AnymailTrackingEvent, esp_name: str, **kwargs: object) -> None:
    delivery_tracking.record_event(event=event, esp_name=esp_name)
    events.record_event(event=event)
