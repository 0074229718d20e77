"""ESP tracking events for analytics (`record_event`, called by the one receiver of anymail's
`tracking` signal, newsletter.esp_tracking, after newsletter.delivery.tracking stored the event
and suppressed bounces):

- an open is classified human or machine (newsletter.analytics.heuristics) and recorded as the
  first human / first machine open of the recipient's Engagement row; a human open also moves
  the subscriber's SubscriberActivity.last_open_at (the sunset policy reads it);
- a click reported by the ESP is logged like a first-party click (newsletter.clicks.clicklog)
  when first-party tracking is off (ANALYTICS_CLICK_TRACKING=0); with it on, story links go
  through /c/ and ESP click events would count the same click twice.
Every write keeps the earliest time, so a webhook delivered twice or late changes nothing.
Every event naming an edition (`digest_id` metadata) marks it changed for the roll-up
(newsletter.analytics.changes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType
from django.db.models import Q
from django.utils import timezone

from articles.content import published
from articles.content.models import Article
from articles.reading import reads
from newsletter.clicks import clicklog
from newsletter.delivery.models import Delivery, EditionSegment
from newsletter.delivery.tracking import find_delivery
from newsletter.editions.models import DigestItem
from newsletter.email import conf as email_conf
from newsletter.email.links import absolute_url
from newsletter.subscribers.models import SubscriberActivity

from . import changes, heuristics
from .models import Engagement


def record_event(*, event: AnymailTrackingEvent) -> None:
    digest_id = str((event.metadata or {}).get("digest_id", "")).strip()
    if digest_id.isdigit() and len(digest_id) < 19:
        changes.mark(int(digest_id))  # its figures may move: the roll-up looks at it again
    if event.event_type == EventType.OPENED:
        record_open(event=event)
    elif event.event_type == EventType.CLICKED and not email_conf.settings().ANALYTICS_CLICK_TRACKING:
        record_esp_click(event=event)


def _client_ip(event: AnymailTrackingEvent) -> str | None:
    raw: Any = event.esp_event
    if isinstance(raw, dict):
        data = raw.get("event-data", raw)
        if isinstance(data, dict) and isinstance(data.get("ip"), str):
            return str(data["ip"])
    return None


def first_time(keys: dict[str, int], field: str, when: datetime) -> None:
    """Create the recipient's Engagement row if needed, then keep the earliest `when` in `field`."""
    Engagement.objects.bulk_create([Engagement(**keys)], ignore_conflicts=True)
    Engagement.objects.filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": when}), **keys).update(
        **{field: when}
    )


def latest_time(subscriber_id: int, field: str, when: datetime) -> None:
    keys = {"subscriber_id": subscriber_id}
    SubscriberActivity.objects.bulk_create([SubscriberActivity(**keys)], ignore_conflicts=True)
    SubscriberActivity.objects.filter(Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": when}), **keys).update(
        **{field: when}
    )


def record_open(*, event: AnymailTrackingEvent) -> bool | None:
    """Returns whether the open was a machine open (None: no delivery found)."""
    delivery = find_delivery(event)
    if delivery is None:
        return None
    when = event.timestamp or timezone.now()
    delivered = Delivery.objects.filter(id=delivery.id).values_list("delivered_at", "sent_at").first()
    delivered_at = (delivered[0] or delivered[1]) if delivered else None
    machine = heuristics.is_machine_open(
        user_agent=event.user_agent, ip=_client_ip(event), opened_at=when, delivered_at=delivered_at
    )
    keys = {"digest_id": delivery.digest_id, "subscriber_id": delivery.subscriber_id}
    first_time(keys, "machine_open_at" if machine else "human_open_at", when)
    if not machine:
        latest_time(delivery.subscriber_id, "last_open_at", when)
    return machine


def record_esp_click(*, event: AnymailTrackingEvent) -> bool:
    """Log an ESP-reported click on a story of the edition; False when it is not one."""
    if event.user_agent and reads.is_bot(event.user_agent):
        return False
    clicked = published.normalise_url(event.click_url or "")
    delivery = find_delivery(event) if clicked else None
    if delivery is None:
        return False
    # The stories of the email this recipient got: their segment's (newsletter.editions.segments
    # .record), else the edition's general list (editions sent before segments were recorded).
    segment = None
    if delivery.segment is not None:
        segment = EditionSegment.objects.filter(pk=delivery.segment, digest_id=delivery.digest_id).first()
    if segment is not None:
        article_ids = list(segment.stories)
    else:
        items = DigestItem.objects.filter(digest_id=delivery.digest_id, removed=False).order_by("position", "id")
        article_ids = list(items.values_list("article_id", flat=True))
    articles = Article.objects.in_bulk(article_ids)
    for position, article_id in enumerate(article_ids, start=1):
        article = articles.get(article_id)
        if article is None:
            continue
        urls = {
            published.normalise_url(article.canonical_url or ""),
            published.normalise_url(absolute_url(article.get_absolute_url())),
        }
        if clicked in urls:
            uuid_hex = delivery.subscriber.uuid.hex
            clicklog.record(
                digest_id=delivery.digest_id,
                article_id=article.pk,
                position=position,
                uuid_hex=uuid_hex,
                reader=clicklog.reader_for(uuid_hex),
            )
            return True
    return False
