"""The roll-up (beat, every 5 minutes): clicks from Redis into StoryClick, then the
pre-aggregated EditionStats, StoryClickStats and EditionArmStats of recent editions;
DailyGrowth (hourly).

- `ingest_clicks`: settled clicks from the Redis log (newsletter.clicks.clicklog), judged per
  recipient and edition by the scanner heuristic (newsletter.analytics.heuristics). A click by
  someone who has no Delivery row for that edition is dropped. Human clicks become StoryClick
  rows (first click per story; the unique constraint makes a second run harmless), move
  Engagement.clicked_at and SubscriberActivity.last_click_at, and count as a read of the article
  by that reader on the click's day (articles.reading.reads, once per reader and day), only for rows
  that are new, so a re-run never counts a read twice.
- `rollup_edition`: absolute figures of one edition from Delivery (one aggregate grouped by the
  segment each row was sent, newsletter.editions.segments.record, and its reader's arm),
  Engagement and StoryClick, its story rows per segment (newsletter.analytics.story_stats) and
  its figures per arm of the personal editions (newsletter.analytics.arm_stats); editions
  without Delivery rows or whose figures retention froze (newsletter.retention.pruning) are left
  as they are.
  `rollup` runs it for the editions of the last ANALYTICS_ROLLUP_DAYS that may have moved
  (`editions_to_roll_up`): every run in their first FRESH_FOR, then only when changed
  (newsletter.analytics.changes), and daily; then the growth of the last days, today included
  (newsletter.analytics.growth), so the dashboard is as fresh as the report.
"""

from __future__ import annotations

import logging
import time as clock
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from articles.reading import reads
from newsletter.clicks import clicklog
from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest
from newsletter.personal import history
from newsletter.subscribers.models import Subscriber, SubscriberActivity

from . import arm_stats, changes, conf, growth, heuristics, story_stats
from .models import EditionStats, Engagement, StoryClick

log = logging.getLogger(__name__)

# Clicks younger than this stay in Redis for the next run, so a scanner's burst is judged whole.
SETTLE_SECONDS = 30
UNSUBSCRIBE_WINDOW = timedelta(hours=72)
# An edition is re-aggregated on every run while this young; after that only when changed, and
# once a day whatever happens (newsletter.analytics.changes explains why).
FRESH_FOR = UNSUBSCRIBE_WINDOW + timedelta(hours=1)
FULL_ROLLUP_EVERY = timedelta(days=1)
DELIVERY_FIGURES = ("audience", "sent", "delivered", "bounced", "complaints")


@dataclass
class RollupResult:
    clicks: int = 0
    human_clicks: int = 0
    scanner_clicks: int = 0
    editions: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def ingest_clicks(*, now: float | None = None, result: RollupResult | None = None) -> RollupResult:
    result = result or RollupResult()
    until = (now if now is not None else clock.time()) - SETTLE_SECONDS
    clicks = clicklog.settled(until=until)
    if not clicks:
        return result
    result.clicks = len(clicks)
    ids = dict(Subscriber.objects.filter(uuid__in={c.subscriber_uuid_hex for c in clicks}).values_list("uuid", "id"))
    by_hex = {key.hex: value for key, value in ids.items()}
    groups: dict[tuple[int, int], list[clicklog.LoggedClick]] = defaultdict(list)
    for click in clicks:
        if click.subscriber_uuid_hex in by_hex:
            groups[(click.digest_id, by_hex[click.subscriber_uuid_hex])].append(click)
    recipients: dict[int, set[int]] = defaultdict(set)
    for digest_id, subscriber_id in groups:
        recipients[digest_id].add(subscriber_id)
    deliveries: dict[tuple[int, int], datetime | None] = {}
    segments: dict[tuple[int, int], int | None] = {}  # the segment whose email the recipient got
    for digest_id, subscriber_ids in recipients.items():
        found = Delivery.objects.filter(digest_id=digest_id, subscriber_id__in=subscriber_ids).values_list(
            "subscriber_id", "delivered_at", "sent_at", "segment"
        )
        for s, delivered, sent, segment in found:
            deliveries[(digest_id, s)] = delivered or sent
            segments[(digest_id, s)] = segment
    first: dict[tuple[int, int, int], clicklog.LoggedClick] = {}
    for key, group in groups.items():
        if key not in deliveries:
            continue  # not a recipient of that edition
        scanned = heuristics.scanner_clicks([(c.article_id, c.at) for c in group], delivered_at=deliveries[key])
        result.scanner_clicks += len(scanned)
        for index, click in enumerate(group):
            story = (key[0], key[1], click.article_id)
            if index not in scanned and (story not in first or click.at < first[story].at):
                first[story] = click
    _store_human_clicks(first, segments, result)
    clicklog.forget(until=until if len(clicks) < 50_000 else clicks[-1].at.timestamp() - 0.001)
    return result


def _store_human_clicks(
    first: dict[tuple[int, int, int], clicklog.LoggedClick],
    segments: dict[tuple[int, int], int | None],
    result: RollupResult,
) -> None:
    if not first:
        return
    by_digest: dict[int, set[int]] = defaultdict(set)
    for digest_id, subscriber_id, _article_id in first:
        by_digest[digest_id].add(subscriber_id)
    existing: set[tuple[int, int, int]] = set()
    for digest_id, subscriber_ids in by_digest.items():
        existing.update(
            StoryClick.objects.filter(digest_id=digest_id, subscriber_id__in=subscriber_ids).values_list(
                "digest_id", "subscriber_id", "article_id"
            )
        )
    new = {key: click for key, click in first.items() if key not in existing}
    with transaction.atomic():
        StoryClick.objects.bulk_create(
            [
                StoryClick(
                    digest_id=d,
                    subscriber_id=s,
                    article_id=a,
                    position=c.position,
                    segment=segments.get((d, s)),
                    clicked_at=c.at,
                )
                for (d, s, a), c in new.items()
            ],
            ignore_conflicts=True,
        )
        earliest: dict[tuple[int, int], datetime] = {}
        latest: dict[int, datetime] = {}
        for (d, s, _a), c in first.items():
            earliest[(d, s)] = min(earliest.get((d, s), c.at), c.at)
            latest[s] = max(latest.get(s, c.at), c.at)
        Engagement.objects.bulk_create(
            [Engagement(digest_id=d, subscriber_id=s) for d, s in earliest], ignore_conflicts=True
        )
        for (d, s), at in earliest.items():
            Engagement.objects.filter(
                Q(clicked_at__isnull=True) | Q(clicked_at__gt=at), digest_id=d, subscriber_id=s
            ).update(clicked_at=at)
        SubscriberActivity.objects.bulk_create(
            [SubscriberActivity(subscriber_id=s) for s in latest], ignore_conflicts=True
        )
        for s, at in latest.items():
            SubscriberActivity.objects.filter(
                Q(last_click_at__isnull=True) | Q(last_click_at__lt=at), subscriber_id=s
            ).update(last_click_at=at)
        for digest_id in {d for d, _s, _a in new}:
            changes.mark(digest_id)
    for (_d, _s, article_id), click in new.items():
        reads.record_read_if_published(article_id, click.reader, day=timezone.localdate(click.at))
    # The reader's history: what they clicked, and the browser that clicked, followed from now on.
    history.record_clicks(history.Click(s, a, c.at, c.reader) for (_d, s, a), c in new.items())
    result.human_clicks += len(new)


def rollup_edition(*, digest_id: int, now: datetime | None = None) -> bool:
    """Write the edition's EditionStats, StoryClickStats and EditionArmStats; False when it has
    no Delivery rows."""
    digest = Digest.objects.filter(id=digest_id).first()
    deliveries = Delivery.objects.filter(digest_id=digest_id)
    if digest is None or not deliveries.exists():
        return False
    if EditionStats.objects.filter(digest_id=digest_id, pruned_at__isnull=False).exists():
        return False  # retention froze its figures; the rows left may be a pruning's remainder
    # One pass over the rows, grouped by segment and arm; the edition's figures are the groups'
    # sums, each segment's its arms' sums, and each arm's recipients its rows sent.
    rows = (
        deliveries.values("segment", "arm")
        .annotate(
            audience=Count("id"),
            sent=Count("id", filter=Q(status=Delivery.Status.SENT)),
            delivered=Count("id", filter=Q(delivered_at__isnull=False)),
            bounced=Count("id", filter=Q(bounced_at__isnull=False)),
            complaints=Count("id", filter=Q(complained_at__isnull=False)),
        )
        .order_by()
        .values_list("segment", "arm", *DELIVERY_FIGURES)
    )
    groups: dict[int | None, tuple[int, ...]] = {}
    arms: dict[str, int] = defaultdict(int)
    for segment, arm, *counts in rows:
        before = groups.get(segment, (0,) * len(counts))
        groups[segment] = tuple(a + b for a, b in zip(before, counts, strict=True))
        arms[arm] += counts[DELIVERY_FIGURES.index("sent")]
    figures: dict[str, Any] = {
        name: sum(counts[index] for counts in groups.values()) for index, name in enumerate(DELIVERY_FIGURES)
    }
    start = digest.sending_started_at or digest.sent_at or digest.period_end
    window = (start, start + UNSUBSCRIBE_WINDOW)
    figures["unsubscribes_72h"] = deliveries.filter(
        Q(subscriber__unsubscribed_at__range=window) | Q(unsubscribed_at__range=window)
    ).count()
    figures.update(
        Engagement.objects.filter(digest_id=digest_id).aggregate(
            human_opens=Count("id", filter=Q(human_open_at__isnull=False)),
            machine_opens=Count("id", filter=Q(human_open_at__isnull=True, machine_open_at__isnull=False)),
            unique_clicks=Count("id", filter=Q(clicked_at__isnull=False)),
        )
    )
    with transaction.atomic():
        EditionStats.objects.update_or_create(
            digest_id=digest_id, defaults={**figures, "updated_at": now or timezone.now()}
        )
        story_stats.write(digest, per_segment={segment: (c[1], c[2]) for segment, c in groups.items()})
        arm_stats.write(digest_id=digest_id, recipients=arms, now=now or timezone.now())
    return True


def editions_to_roll_up(*, now: datetime, marked: set[int]) -> list[int]:
    """The recent editions whose figures may have moved: every one still sending or in its first
    FRESH_FOR (deliveries arrive, unsubscribes_72h counts subscribers leaving, which no event of
    the edition names), one `marked` as changed (newsletter.analytics.changes), one without
    figures yet, and every one whose figures are older than FULL_ROLLUP_EVERY (a lost mark)."""
    since = now - timedelta(days=conf.settings().ANALYTICS_ROLLUP_DAYS)
    recent = list(
        Digest.objects.filter(sending_started_at__gte=since)
        .order_by("id")
        .values_list("id", "sending_started_at", "status")
    )
    written = dict(
        EditionStats.objects.filter(digest_id__in=[row[0] for row in recent]).values_list("digest_id", "updated_at")
    )
    live = {Digest.Status.TESTING, Digest.Status.WAITING, Digest.Status.SENDING, Digest.Status.PAUSED}
    return [
        digest_id
        for digest_id, started_at, status in recent
        if status in live
        or (started_at is not None and started_at >= now - FRESH_FOR)  # never None: filtered above
        or digest_id in marked
        or digest_id not in written
        or written[digest_id] <= now - FULL_ROLLUP_EVERY
    ]


def rollup(*, now: datetime | None = None) -> RollupResult:
    now = now or timezone.now()
    result = ingest_clicks(now=now.timestamp())
    started = clock.time()  # after the ingest, whose new clicks marked their editions
    marked = changes.changed(before=started)
    for digest_id in editions_to_roll_up(now=now, marked=marked):
        result.editions += rollup_edition(digest_id=digest_id, now=now)
    changes.forget(marked, before=started)
    growth.rollup_growth(now=now)
    log.info("analytics roll-up %s", result.as_dict())
    return result
