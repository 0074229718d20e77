"""The growth roll-up: subscribers' signups, confirmations, unsubscribes, bounces and complaints
per local day into DailyGrowth, today included.

It runs with every analytics roll-up (every 5 minutes, newsletter.analytics.rollup) and on its
own hourly beat row, so a signup, an unsubscribe or an import shows on the dashboard after the
next roll-up, not after the day ends or an hour after the beat started (django-celery-beat runs
an interval task first one interval after it starts). Each run counts the last `days` local days
in one pass over the subscribers (conditional counts per day and field, instead of a scan per
field: only `created_at` is indexed, and the roll-up now runs twelve times as often) and stamps
every day it wrote with the run's time, which the dashboard shows.

A day's figures are kept at their highest value: a pending signup purged later or a subscriber
erased never lowers a day that counted them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from newsletter.subscribers.models import Subscriber

from .models import DailyGrowth

GROWTH_FIELDS = {
    "signups": "created_at",
    "confirmations": "confirmed_at",
    "unsubscribes": "unsubscribed_at",
    "bounces": "bounced_at",
    "complaints": "complained_at",
}


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def rollup_growth(*, now: datetime | None = None, days: int = 3) -> int:
    """DailyGrowth for the last `days` local days, today included; returns the days written."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    window = [today - timedelta(days=days - 1 - offset) for offset in range(days)]
    counts: dict[str, Count] = {}
    for index, day in enumerate(window):
        start, end = _local_midnight(day), _local_midnight(day + timedelta(days=1))
        for metric, field in GROWTH_FIELDS.items():
            counts[f"{metric}_{index}"] = Count("id", filter=Q(**{f"{field}__gte": start, f"{field}__lt": end}))
    since = _local_midnight(window[0])
    recent = Q()
    for field in GROWTH_FIELDS.values():
        recent |= Q(**{f"{field}__gte": since})
    values = Subscriber.objects.filter(recent).aggregate(**counts)
    with transaction.atomic():
        for index, day in enumerate(window):
            row, _ = DailyGrowth.objects.select_for_update().get_or_create(day=day)
            for metric in GROWTH_FIELDS:
                setattr(row, metric, max(getattr(row, metric), values[f"{metric}_{index}"] or 0))
            row.updated_at = now
            row.save()
    return len(window)
