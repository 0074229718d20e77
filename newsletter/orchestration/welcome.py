"""The welcome email, sent once right after a subscriber confirms (lifecycle.confirm enqueues it
on the pending -> active transition): what they will receive (frequency, topics) and when, in
THEIR time zone, a link to the latest edition in the archive and one to their preferences.

It lives above the timetable (it reads the edition hour the editors set), so it is not one of
newsletter.subscribers.emails' kinds; it reuses that module's builder and templates pattern
(`welcome.subject.txt`, `welcome.txt`, `welcome.html`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils import timezone, translation

from newsletter.editions.models import Digest, Frequency
from newsletter.email.links import absolute_url, archive_url
from newsletter.email.render import render_email
from newsletter.subscribers import token_links
from newsletter.subscribers.addresses import is_suppressed
from newsletter.subscribers.models import Subscriber
from sitewide import conf as site_conf
from sitewide import zones
from sitewide.dates import format_date, format_time, weekday_name

from . import conf, timetable

WELCOME = "welcome"


@dataclass(frozen=True)
class Timing:
    """When the subscriber's edition reaches them, in their zone."""

    zone: str  # the IANA name the times are in
    place: str  # that zone's city in the subscriber's language: "الدار البيضاء" (sitewide.zones)
    time: str  # "07:00", in the configured numerals
    weekday: str  # "السبت" for the weekly edition, "" for the daily one
    first: str  # the date of the first edition they will receive, "السبت ٥ ديسمبر"


def subscriber_zone(subscriber: Subscriber) -> ZoneInfo:
    """Blank or unknown names mean the site's TIME_ZONE (as for the waves)."""
    try:
        return ZoneInfo(subscriber.time_zone) if subscriber.time_zone else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def next_edition_at(subscriber: Subscriber, *, now: datetime) -> datetime:
    """The moment the subscriber's next scheduled edition reaches them, in their zone. With
    DIGEST_LOCAL_TIME the edition hour is theirs; without it, the newsroom's hour converted."""
    zone = subscriber_zone(subscriber)
    if not conf.settings().DIGEST_LOCAL_TIME:
        return timetable.next_run(subscriber.frequency, now=now).astimezone(zone)
    slot = timetable.current_slot(subscriber.frequency)
    local_now = now.astimezone(zone)
    candidate = local_now.replace(hour=slot.hour, minute=slot.minute, second=0, microsecond=0)
    while candidate <= local_now or (slot.weekday is not None and candidate.weekday() != slot.weekday):
        candidate = (candidate + timedelta(days=1)).replace(hour=slot.hour, minute=slot.minute)
    return candidate


def timing(subscriber: Subscriber, *, now: datetime) -> Timing:
    at = next_edition_at(subscriber, now=now)
    language = subscriber.language
    weekly = subscriber.frequency == Frequency.WEEKLY
    return Timing(
        zone=str(at.tzinfo),
        place=zones.place(str(at.tzinfo), language=language),
        time=format_time(at.replace(tzinfo=None), language=language),
        weekday=weekday_name(at.weekday(), language=language) if weekly else "",
        first=format_date(at.date(), language=language, with_year=False),
    )


def latest_edition_url(subscriber: Subscriber) -> str:
    """The archive page of the latest edition sent (of their frequency when there is one), else
    the archive's list."""
    sent = Digest.objects.filter(status=Digest.Status.SENT, frequency__in=Frequency.values).order_by(
        "-edition_date", "-pk"
    )
    latest = sent.filter(frequency=subscriber.frequency).first() or sent.first()
    return archive_url(latest) if latest is not None else absolute_url(reverse("archive:list"))


def build_welcome_email(subscriber: Subscriber, *, now: datetime | None = None) -> EmailMultiAlternatives:
    language = subscriber.language
    with translation.override(language):
        topics = [section.name_in(language) for section in subscriber.topics.order_by("name")]
        frequency = Frequency(subscriber.frequency).label
        context = {
            "timing": timing(subscriber, now=now or timezone.now()),
            "frequency_label": str(frequency),
            "is_weekly": subscriber.frequency == Frequency.WEEKLY,
            "topics": ("، " if language.startswith("ar") else ", ").join(topics),
            "latest_url": latest_edition_url(subscriber),
            "preferences_url": token_links.preferences_url(subscriber.uuid),
            "unsubscribe_url": token_links.unsubscribe_url(subscriber.uuid),
            "SENDER_NAME": site_conf.site().SENDER_NAME,
            "SENDER_POSTAL_ADDRESS": site_conf.site().SENDER_POSTAL_ADDRESS,
            "SITE_URL": settings.SITE_URL,
            "language": language,
        }
    rendered = render_email(WELCOME, context, language=language)
    message = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, from_email=settings.DEFAULT_FROM_EMAIL, to=[subscriber.email]
    )
    message.attach_alternative(rendered.html, "text/html")
    return message


def send_welcome_email(*, subscriber_id: int) -> bool:
    """Send the welcome if the subscriber is still active; True if handed to the backend."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.ACTIVE).first()
    if subscriber is None or is_suppressed(subscriber.email):
        return False  # erased or left between confirming and this task
    build_welcome_email(subscriber).send()
    return True
