"""Read-only selectors for the edition report, its CSV and the growth dashboard. They read the
pre-aggregated tables only (EditionStats, StoryClickStats, DailyGrowth): a constant number of
small queries whatever the size of the edition, and still right after Delivery rows are pruned.
No personal data: counts, titles and URLs only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone

from ..models import DailyGrowth, Digest, EditionStats, StoryClickStats

CSV_HEADER = ("position", "title", "url", "unique_clicks", "clicks_per_1000_delivered")


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def base_of(stats: EditionStats) -> int:
    """What rates are relative to: delivered, or sent when the ESP reports no deliveries."""
    return stats.delivered or stats.sent


@dataclass(frozen=True)
class StoryRow:
    position: int
    title: str
    url: str
    unique_clicks: int
    per_1000: float | None


@dataclass(frozen=True)
class EditionReport:
    digest: Digest
    stats: EditionStats | None
    stories: list[StoryRow]

    @property
    def click_rate(self) -> float | None:
        return _rate(self.stats.unique_clicks, base_of(self.stats)) if self.stats else None

    @property
    def human_open_rate(self) -> float | None:
        return _rate(self.stats.human_opens, base_of(self.stats)) if self.stats else None


def edition_report(*, digest: Digest) -> EditionReport:
    stats = EditionStats.objects.filter(digest_id=digest.pk).first()
    base = base_of(stats) if stats else 0
    stories = [
        StoryRow(
            position=row.position,
            title=row.title,
            url=row.url,
            unique_clicks=row.unique_clicks,
            per_1000=round(1000 * row.unique_clicks / base, 1) if base else None,
        )
        for row in StoryClickStats.objects.filter(digest_id=digest.pk).order_by("position")
    ]
    return EditionReport(digest=digest, stats=stats, stories=stories)


def csv_rows(report: EditionReport) -> Iterator[tuple[object, ...]]:
    yield CSV_HEADER
    for story in report.stories:
        per_1000 = "" if story.per_1000 is None else f"{story.per_1000:.1f}"
        yield (story.position, story.title, story.url, story.unique_clicks, per_1000)


@dataclass(frozen=True)
class GrowthDay:
    day: date
    signups: int
    confirmations: int
    unsubscribes: int
    bounces: int
    complaints: int


def growth(*, days: int = 90, now: datetime | None = None) -> list[GrowthDay]:
    """One entry per local day of the last `days` (zeros where nothing happened)."""
    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days - 1)
    stored = {row.day: row for row in DailyGrowth.objects.filter(day__gte=first, day__lte=today)}
    result = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = stored.get(day)
        result.append(
            GrowthDay(
                day=day,
                signups=row.signups if row else 0,
                confirmations=row.confirmations if row else 0,
                unsubscribes=row.unsubscribes if row else 0,
                bounces=row.bounces if row else 0,
                complaints=row.complaints if row else 0,
            )
        )
    return result


@dataclass(frozen=True)
class EditionRates:
    digest: Digest
    delivered: int
    open_rate: float | None  # human opens
    click_rate: float | None


def edition_rates(*, days: int = 90, now: datetime | None = None) -> list[EditionRates]:
    since = timezone.localdate(now or timezone.now()) - timedelta(days=days)
    stats = {
        row.digest_id: row
        for row in EditionStats.objects.filter(digest__edition_date__gte=since).select_related("digest")
    }
    rows = []
    for row in sorted(stats.values(), key=lambda r: (r.digest.edition_date, r.digest.frequency)):
        base = base_of(row)
        rows.append(EditionRates(row.digest, base, _rate(row.human_opens, base), _rate(row.unique_clicks, base)))
    return rows
