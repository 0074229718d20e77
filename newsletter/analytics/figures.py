"""Read-only selectors for the edition report, its CSV, the growth dashboard and the editions
list. They read the pre-aggregated tables only (EditionStats, EditionSegment, StoryClickStats,
DailyGrowth): a constant number of small queries whatever the size of the edition, and still
right after Delivery rows are pruned. No personal data: counts, titles and URLs only.

ONE DEFINITION PER FIGURE. Every screen takes an edition's figures from `EditionFigures`, built
from its EditionStats row, so the report, its CSV, the dashboard and the editions list cannot
disagree (the dashboard once labelled the rates' base "delivered" while the report showed the
delivered count, 0, beside a rate per 1,000 delivered). Rates are relative to `base`: the
messages delivered, or the messages sent when the ESP reports no deliveries at all (the
development outbox, an ESP without delivery webhooks); `deliveries_reported` says which, and
each screen says it beside the rate. A segment's rows use the same rule with its own counts.

Each screen also says when its figures were taken (the roll-up's time) and when the next
roll-up is due (`rollup_timing`, from the beat row of newsletter.tasks.rollup_analytics).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django_celery_beat.models import PeriodicTask

from articles.content.models import Section
from newsletter import task_names
from newsletter.delivery.models import EditionSegment
from newsletter.editions.models import Digest, Language
from sitewide.spreadsheet import safe_cell

from .models import DailyGrowth, EditionStats, StoryClickStats

# The first five columns and their order are a contract (scripts read them); new ones go after.
CSV_HEADER = ("position", "title", "url", "unique_clicks", "clicks_per_1000_delivered", "segment")
# A roll-up this much later than its interval says is reported as late, not as "next at".
LATE_AFTER = timedelta(minutes=2)


def share(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, one decimal (35.8), None without a whole."""
    return round(100 * part / whole, 1) if whole else None


def per_1000(part: int, whole: int) -> float | None:
    return round(1000 * part / whole, 1) if whole else None


@dataclass(frozen=True)
class EditionFigures:
    """An edition's figures, as every screen shows them (see the module docstring)."""

    digest_id: int
    audience: int
    sent: int
    delivered: int
    bounced: int
    complaints: int
    human_opens: int
    machine_opens: int
    unique_clicks: int
    unsubscribes_72h: int
    taken_at: datetime  # the roll-up that computed them

    @classmethod
    def of(cls, stats: EditionStats) -> EditionFigures:
        return cls(
            digest_id=stats.digest_id,
            audience=stats.audience,
            sent=stats.sent,
            delivered=stats.delivered,
            bounced=stats.bounced,
            complaints=stats.complaints,
            human_opens=stats.human_opens,
            machine_opens=stats.machine_opens,
            unique_clicks=stats.unique_clicks,
            unsubscribes_72h=stats.unsubscribes_72h,
            taken_at=stats.updated_at,
        )

    @property
    def deliveries_reported(self) -> bool:
        """False when the ESP reported no delivery at all: rates are then relative to sent."""
        return self.delivered > 0

    def base_of(self, *, sent: int, delivered: int) -> int:
        """What a rate of these counts (the edition's or a segment's) is relative to."""
        return delivered if self.deliveries_reported else sent

    @property
    def base(self) -> int:
        return self.base_of(sent=self.sent, delivered=self.delivered)

    @property
    def human_open_rate(self) -> float | None:
        return share(self.human_opens, self.base)

    @property
    def click_rate(self) -> float | None:
        return share(self.unique_clicks, self.base)


@dataclass(frozen=True)
class StoryRow:
    position: int  # in the email this segment received
    title: str
    url: str
    unique_clicks: int
    per_1000: float | None  # relative to the segment's base
    top_up: bool = False  # from the general list, under "الأكثر قراءة في الموقع"
    more_readers: int = 0  # readers who asked for more like this story (issue 27)
    less_readers: int = 0


@dataclass(frozen=True)
class SegmentStories:
    """One segment's story rows. `recorded` False: the edition's general list, for editions
    sent before segments were recorded (and clicks whose recipient had no segment)."""

    name: str  # "العربية · رياضة"; as the preview page names a segment
    recorded: bool
    sent: int
    delivered: int
    base: int
    stories: list[StoryRow]


@dataclass(frozen=True)
class RollupTiming:
    taken_at: datetime | None  # None: not rolled up yet
    every: timedelta | None  # the analytics roll-up's beat interval; None: not scheduled
    next_at: datetime | None  # when the next roll-up is due; None: unknown or late
    late: bool  # the next roll-up should have run already (is the beat running?)

    @property
    def every_minutes(self) -> int | None:
        return None if self.every is None else max(1, round(self.every.total_seconds() / 60))


def rollup_timing(*, taken_at: datetime | None, now: datetime | None = None) -> RollupTiming:
    """When figures taken at `taken_at` will next be recomputed (the beat row's interval)."""
    now = now or timezone.now()
    task = (
        PeriodicTask.objects.filter(task=task_names.ROLLUP_ANALYTICS, enabled=True, interval__isnull=False)
        .select_related("interval")
        .first()
    )
    if task is None or task.interval is None:
        return RollupTiming(taken_at, None, None, late=False)
    every = timedelta(**{task.interval.period: task.interval.every})
    last = max((moment for moment in (taken_at, task.last_run_at) if moment is not None), default=None)
    next_at = (last + every) if last is not None else None
    late = next_at is not None and next_at + LATE_AFTER < now
    return RollupTiming(taken_at, every, None if late else next_at, late=late)


def segment_name(language: str, section_ids: Iterable[int], names: dict[int, str]) -> str:
    """A segment named as the preview page names it: language, then its topics or all sections."""
    label = str(Language(language).label) if language in Language.values else language
    topics = "، ".join(names.get(pk, str(pk)) for pk in section_ids) or _("كل الأقسام")
    return f"{label} · {topics}"


@dataclass(frozen=True)
class EditionReport:
    digest: Digest
    figures: EditionFigures | None
    segments: list[SegmentStories]
    timing: RollupTiming

    @property
    def stories(self) -> list[StoryRow]:
        return [story for segment in self.segments for story in segment.stories]


def edition_report(*, digest: Digest) -> EditionReport:
    stats = EditionStats.objects.filter(digest_id=digest.pk).first()
    figures = EditionFigures.of(stats) if stats else None
    recorded = {s.pk: s for s in EditionSegment.objects.filter(digest_id=digest.pk)}
    rows: dict[int | None, list[StoryClickStats]] = {}
    for row in StoryClickStats.objects.filter(digest_id=digest.pk).order_by("position"):
        rows.setdefault(row.segment_id, []).append(row)
    names = dict(
        Section.objects.filter(pk__in={pk for s in recorded.values() for pk in s.section_ids}).values_list("pk", "name")
    )
    segments = []
    order = sorted(recorded.values(), key=lambda s: (-s.sent, s.language, s.sections))
    for segment in order:
        sent, delivered = segment.sent, segment.delivered
        base = figures.base_of(sent=sent, delivered=delivered) if figures else 0
        top_up = range(segment.own_stories + 1, len(segment.stories) + 1)
        stories = [_story(row, base, top_up=row.position in top_up) for row in rows.get(segment.pk, [])]
        name = segment_name(segment.language, segment.section_ids, names)
        segments.append(SegmentStories(name, True, sent, delivered, base, stories))
    if None in rows or not recorded:
        # The rows no recorded segment accounts for: the rest of the edition's counts.
        sent = figures.sent - sum(s.sent for s in recorded.values()) if figures else 0
        delivered = figures.delivered - sum(s.delivered for s in recorded.values()) if figures else 0
        base = figures.base_of(sent=sent, delivered=delivered) if figures else 0
        stories = [_story(row, base) for row in rows.get(None, [])]
        segments.append(SegmentStories(_("القائمة العامة للعدد"), False, sent, delivered, base, stories))
    timing = rollup_timing(taken_at=figures.taken_at if figures else None)
    return EditionReport(digest=digest, figures=figures, segments=segments, timing=timing)


def _story(row: StoryClickStats, base: int, *, top_up: bool = False) -> StoryRow:
    return StoryRow(
        row.position,
        row.title,
        row.url,
        row.unique_clicks,
        per_1000(row.unique_clicks, base),
        top_up,
        more_readers=row.more_readers,
        less_readers=row.less_readers,
    )


def csv_rows(report: EditionReport) -> Iterator[tuple[object, ...]]:
    yield CSV_HEADER
    for segment in report.segments:
        for story in segment.stories:
            rate = "" if story.per_1000 is None else f"{story.per_1000:.1f}"
            # Titles and URLs come from feeds: never a formula in the editor's spreadsheet.
            yield (
                story.position,
                safe_cell(story.title),
                safe_cell(story.url),
                story.unique_clicks,
                rate,
                safe_cell(segment.name),
            )


def figures_for(digest_ids: Iterable[int]) -> dict[int, EditionFigures]:
    """The figures of several editions (the editions list's page) in one query."""
    return {
        row.digest_id: EditionFigures.of(row) for row in EditionStats.objects.filter(digest_id__in=list(digest_ids))
    }


@dataclass(frozen=True)
class GrowthDay:
    day: date
    signups: int
    confirmations: int
    unsubscribes: int
    bounces: int
    complaints: int

    @property
    def moved(self) -> bool:
        return bool(self.signups or self.confirmations or self.unsubscribes or self.bounces or self.complaints)


@dataclass(frozen=True)
class Growth:
    days: list[GrowthDay]  # one per local day, oldest first, zeros where nothing happened
    timing: RollupTiming  # taken_at: the growth roll-up that last counted these days


def growth(*, days: int = 90, now: datetime | None = None) -> Growth:
    today = timezone.localdate(now or timezone.now())
    first = today - timedelta(days=days - 1)
    window = DailyGrowth.objects.filter(day__gte=first, day__lte=today)
    stored = {row.day: row for row in window}
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
    taken_at = max((row.updated_at for row in stored.values() if row.updated_at), default=None)
    return Growth(days=result, timing=rollup_timing(taken_at=taken_at, now=now))


@dataclass(frozen=True)
class EditionRates:
    digest: Digest
    figures: EditionFigures


def edition_rates(*, days: int = 90, now: datetime | None = None) -> list[EditionRates]:
    since = timezone.localdate(now or timezone.now()) - timedelta(days=days)
    rows = EditionStats.objects.filter(digest__edition_date__gte=since).select_related("digest")
    ordered = sorted(rows, key=lambda r: (r.digest.edition_date, r.digest.frequency, r.digest.pk))
    return [EditionRates(row.digest, EditionFigures.of(row)) for row in ordered]
