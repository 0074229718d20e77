"""Local delivery time: an edition reaches each subscriber at the edition hour of their own time
zone (daily 07:00, weekly Saturday 08:00 by default), sent in waves, one per UTC offset.

Every hour the beat asks `run_due` which offsets have reached the edition time on their local
date (a subscriber's zone is `Subscriber.time_zone`, blank or unknown meaning TIME_ZONE). A wave
is a Digest row of its own (`wave_of` = the edition editors curate for that date, `utc_offset`
in minutes, one per (frequency, date, offset) by a unique constraint) sent through the usual
delivery pipeline, so each wave has its own status, counts, pause and cancel. A wave copies the
edition's texts, pins and removals; its unpinned slots are refilled from the most-read window
ending at the wave (newsletter.editions.compose.fill) unless the editor approved the edition,
which locks it: then every wave sends the stories as approved. A subject-line test runs in the
waves that start before any wave of the edition has chosen its winner (the earliest); the later
ones get the winner as their subject (newsletter.orchestration.subject_tests.copy_to_wave).

ONE EDITION PER SUBSCRIBER PER PERIOD, across waves: dispatch writes a Receipt per subscriber
(unique per subscriber, frequency and local edition date) in the statement that snapshots the
wave's audience, so a subscriber who moved to a later zone, a second beat, or an explicit send
of the edition never gives anyone a second copy. A wave missed (beat down, waiting for
approval) is sent at a later run within CATCH_UP of its edition time, not after (a morning
digest at midnight is worse than none; the edition stays in the archive). Offsets that are not whole hours
(+03:30, +05:45) get theirs at the first hourly run after their edition time.

What is not waves: an explicit send (`send_digest`, an editor's "send now") goes to every
subscriber of the edition at once, writing the same receipts.
"""

from __future__ import annotations

import enum
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from datetime import timezone as dt_timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from newsletter.delivery import dispatch
from newsletter.editions import compose, state
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, DigestItem, Frequency
from newsletter.subscribers.models import Subscriber
from sitewide.dates import digits

from . import subject_tests


@dataclass(frozen=True)
class EditionTime:
    hour: int
    minute: int
    weekday: int | None = None  # date.weekday() (Saturday is 5); None: every day


@dataclass(frozen=True)
class Wave:
    utc_offset: int  # minutes east of UTC
    zones: tuple[str, ...]  # Subscriber.time_zone values in this wave ("" among them: TIME_ZONE)
    local_date: date
    due_at: datetime  # when the zone's clock showed the edition time


class WaveResult(enum.StrEnum):
    DISPATCHED = "dispatched"
    ALREADY = "already"  # dispatched by an earlier run or a second beat
    WAITING = "waiting"  # DIGEST_REQUIRE_APPROVAL and not approved, or the edition is paused
    SKIPPED = "skipped"  # too few stories in the edition as a whole
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class WaveOutcome:
    wave: Wave
    result: WaveResult
    digest_id: int | None = None
    audience: int = 0


logger = logging.getLogger(__name__)
CATCH_UP = timedelta(hours=6)
WAITING_STATUSES = (Digest.Status.PAUSED,)
NOT_SENT_STATUSES: dict[str, WaveResult] = {
    Digest.Status.SKIPPED: WaveResult.SKIPPED,
    Digest.Status.CANCELLED: WaveResult.CANCELLED,
}


def offset_label(minutes: int) -> str:
    """ "UTC+03:00" (Latin digits and signs: shown inside <span dir="ltr"> in RTL pages)."""
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_offset(name: str, *, now: datetime) -> int:
    """Minutes east of UTC of zone `name` at `now`; blank or unknown names use TIME_ZONE."""
    try:
        zone = ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(settings.TIME_ZONE)
    offset = now.astimezone(zone).utcoffset() or timedelta(0)
    return int(offset.total_seconds() // 60)


def audience_zones(frequency: str) -> list[str]:
    """The distinct zones of the frequency's active audience (an index-only scan)."""
    return list(
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE, frequency=frequency)
        .order_by()
        .values_list("time_zone", flat=True)
        .distinct()
    )


def due_waves(*, frequency: str, now: datetime, at: EditionTime) -> list[Wave]:
    """The waves whose local clock has passed the edition time of their local date (by less
    than CATCH_UP)."""
    by_offset: dict[int, list[str]] = defaultdict(list)
    for name in audience_zones(frequency):
        by_offset[zone_offset(name, now=now)].append(name)
    waves = []
    for offset, zones in sorted(by_offset.items(), reverse=True):
        fixed = dt_timezone(timedelta(minutes=offset))
        local = now.astimezone(fixed)
        edition_moment = datetime.combine(local.date(), time(at.hour, at.minute), tzinfo=fixed)
        if not edition_moment <= local < edition_moment + CATCH_UP:
            continue
        if at.weekday is not None and local.weekday() != at.weekday:
            continue
        waves.append(Wave(offset, tuple(sorted(zones)), local.date(), edition_moment.astimezone(UTC)))
    return waves


def run_due(*, frequency: str, now: datetime, at: EditionTime) -> list[WaveOutcome]:
    """Send every due wave not sent yet. Idempotent: run it twice, or from two beats at once,
    and each subscriber still gets one edition of the period."""
    waves = due_waves(frequency=frequency, now=now, at=at)
    if not waves:
        return []
    # Waves already past draft need no lock and no work: the common case of an hourly run.
    done = set(
        Digest.objects.filter(
            frequency=frequency, edition_date__in={w.local_date for w in waves}, utc_offset__isnull=False
        )
        .exclude(status=Digest.Status.DRAFT)
        .values_list("edition_date", "utc_offset")
    )
    outcomes = []
    for wave in waves:
        if (wave.local_date, wave.utc_offset) in done:
            continue
        outcome = run_wave(frequency=frequency, wave=wave, now=now)
        logger.info("wave %s %s %s: %s", frequency, wave.local_date, offset_label(wave.utc_offset), outcome.result)
        outcomes.append(outcome)
    return outcomes


def _copy_edition(edition: Digest, wave_digest: Digest, *, locked: bool, start: datetime, end: datetime) -> int:
    """The wave gets the edition's texts and items; unless locked, its unpinned slots are
    refilled from the window ending now. Returns how many stories the wave has."""
    Digest.objects.filter(pk=wave_digest.pk).update(
        subject=edition.subject,
        preheader=edition.preheader,
        intro=edition.intro,
        intro_en=edition.intro_en,
        period_start=start,
        period_end=end,
        updated_at=timezone.now(),
    )
    wave_digest.items.all().delete()
    DigestItem.objects.bulk_create(
        DigestItem(
            digest=wave_digest,
            article_id=item.article_id,
            position=item.position,
            pinned=item.pinned,
            removed=item.removed,
            for_everyone=item.for_everyone,
        )
        for item in edition.items.all()
    )
    subject_tests.copy_to_wave(edition, wave_digest)
    if locked:
        return wave_digest.items.filter(removed=False).count()
    return compose.fill(wave_digest, start=start, end=end)


def run_wave(*, frequency: str, wave: Wave, now: datetime) -> WaveOutcome:
    """Compose the wave from its edition and dispatch it to the wave's zones, in one transaction
    holding the edition's and the wave's row locks (a second beat waits, then finds it sent)."""
    frequency = Frequency(frequency)
    start, end = compose.period_for(frequency=frequency, end=now)
    with transaction.atomic():
        edition = compose.get_locked(frequency, wave.local_date, start=start, end=end, scheduled_for=wave.due_at)
        if edition.status == Digest.Status.DRAFT and not edition.items.exists():
            compose.fill(edition, start=start, end=end)
        if edition.status == Digest.Status.DRAFT and edition.items.filter(removed=False).count() < (
            editions_conf.settings().DIGEST_MIN_STORIES
        ):
            reason = _("قصص الفترة أقل من الحد الأدنى (%(minimum)s)") % {
                "minimum": digits(editions_conf.settings().DIGEST_MIN_STORIES)
            }
            state.apply(state.Transition.SKIP, digest_id=edition.pk, skip_reason=reason)
            edition.refresh_from_db()
        if edition.status in NOT_SENT_STATUSES:
            return WaveOutcome(wave, NOT_SENT_STATUSES[edition.status], edition.pk)
        if edition.status in WAITING_STATUSES or (
            editions_conf.settings().DIGEST_REQUIRE_APPROVAL and edition.status == Digest.Status.DRAFT
        ):
            return WaveOutcome(wave, WaveResult.WAITING, edition.pk)
        wave_digest, _created = Digest.objects.get_or_create(
            frequency=frequency,
            edition_date=wave.local_date,
            utc_offset=wave.utc_offset,
            defaults={
                "wave_of": edition,
                "period_start": start,
                "period_end": end,
                "scheduled_for": wave.due_at,
            },
        )
        wave_digest = Digest.objects.select_for_update().get(pk=wave_digest.pk)
        if wave_digest.status != Digest.Status.DRAFT:
            return WaveOutcome(wave, WaveResult.ALREADY, wave_digest.pk)
        # Approved (or already sent by an editor): the stories as approved, in every wave.
        locked = edition.status != Digest.Status.DRAFT
        count = _copy_edition(edition, wave_digest, locked=locked, start=start, end=end)
        if count < editions_conf.settings().DIGEST_MIN_STORIES:
            reason = _("قصص الفترة أقل من الحد الأدنى (%(minimum)s)") % {
                "minimum": digits(editions_conf.settings().DIGEST_MIN_STORIES)
            }
            state.apply(state.Transition.SKIP, digest_id=wave_digest.pk, skip_reason=reason)
            return WaveOutcome(wave, WaveResult.SKIPPED, wave_digest.pk)
        result = dispatch.dispatch(digest_id=wave_digest.pk, zones=wave.zones)
    if not result.dispatched:
        return WaveOutcome(wave, WaveResult.ALREADY, wave_digest.pk)
    return WaveOutcome(wave, WaveResult.DISPATCHED, wave_digest.pk, result.audience)


@dataclass(frozen=True)
class WaveSummary:
    """One wave of an edition, as the admin lists it."""

    digest_id: int
    offset: str
    scheduled_for: datetime | None
    status: str
    audience: int
    sent: int
    failed: int


def waves_of(edition: Digest) -> list[WaveSummary]:
    """The waves of an edition with their times and counts (one query)."""
    return [
        WaveSummary(
            digest_id=wave.pk,
            offset=offset_label(wave.utc_offset or 0),
            scheduled_for=wave.scheduled_for,
            status=wave.get_status_display(),
            audience=wave.audience_count,
            sent=wave.sent_count,
            failed=wave.failed_count,
        )
        for wave in edition.waves.order_by("scheduled_for", "-utc_offset")
    ]
