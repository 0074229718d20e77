"""The schedule: when each frequency's edition runs (django-celery-beat's crontab rows, editable
in the admin), the next edition editors curate, and the scheduled run that composes an edition
and hands it to delivery.

`run_scheduled` is idempotent per (frequency, period): a second run (a second beat, a retry)
finds the edition past draft/approved and dispatches nothing more; dispatch itself moves the
edition with one conditional transition, so it is sent once.
"""

from __future__ import annotations

import enum
import json
import logging
from dataclasses import dataclass
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .. import jobs
from ..delivery import dispatch
from ..models import Digest, Frequency
from . import compose, state, waves

logger = logging.getLogger(__name__)

SCHEDULED_TASK = jobs.RUN_SCHEDULED_DIGEST
# Used when the periodic task is missing or disabled: daily 07:00, weekly Saturday 08:00.
DEFAULT_SCHEDULE: dict[str, tuple[int, int, int | None]] = {
    Frequency.DAILY: (7, 0, None),
    Frequency.WEEKLY: (8, 0, 5),  # date.weekday(): Saturday is 5
}


def next_run(frequency: str, *, now: datetime | None = None) -> datetime:
    """When the scheduled run of `frequency` fires next, read from the django-celery-beat
    crontab (editable in the admin), or 07:00 daily / Saturday 08:00 weekly when absent.
    Celery's own crontab arithmetic answers, so the admin and the beat agree."""
    now = now or timezone.now()
    row = _scheduled_crontab(frequency)
    if row is not None:
        tz = ZoneInfo(str(row.timezone)) if row.timezone else timezone.get_current_timezone()
        return _next_time(row.schedule, now=now, tz=tz)
    hour, minute, weekday = DEFAULT_SCHEDULE[Frequency(frequency)]
    # date.weekday() counts from Monday = 0; crontab's day_of_week from Sunday = 0.
    day_of_week = "*" if weekday is None else str((weekday + 1) % 7)
    default = crontab(minute=minute, hour=hour, day_of_week=day_of_week)
    return _next_time(default, now=now, tz=timezone.get_current_timezone())


def edition_time(frequency: str) -> waves.EditionTime:
    """The local edition time every subscriber's wave uses: the hour, minute and weekday of the
    frequency's crontab row (editable in the admin), else 07:00 daily / Saturday 08:00 weekly."""
    hour, minute, weekday = DEFAULT_SCHEDULE[Frequency(frequency)]
    row = _scheduled_crontab(frequency)
    if row is not None:
        try:
            hour, minute = int(row.hour), int(row.minute)
            # crontab's day_of_week counts from Sunday = 0, date.weekday() from Monday = 0.
            weekday = None if row.day_of_week == "*" else (int(row.day_of_week) - 1) % 7
        except ValueError:
            pass  # a range or a list ("*/2", "1-5"): keep the default edition time
    return waves.EditionTime(hour=hour, minute=minute, weekday=weekday)


def run_waves(*, frequency: str, now: datetime | None = None) -> list[waves.WaveOutcome]:
    """The hourly run (DIGEST_LOCAL_TIME): send the waves of `frequency` now due."""
    return waves.run_due(frequency=frequency, now=now or timezone.now(), at=edition_time(frequency))


def _next_time(schedule: crontab, *, now: datetime, tz: tzinfo) -> datetime:
    """The first time after `now` that `schedule` fires, in `tz`."""
    last, delta, _now = schedule.remaining_delta(now, tz=tz)
    return last + delta


def _scheduled_crontab(frequency: str) -> CrontabSchedule | None:
    for task in PeriodicTask.objects.filter(task=SCHEDULED_TASK, enabled=True, crontab__isnull=False).select_related(
        "crontab"
    ):
        try:
            kwargs = json.loads(task.kwargs or "{}")
        except ValueError:
            continue
        if kwargs.get("frequency") == frequency:
            return task.crontab
    return None


def next_draft(frequency: str, *, now: datetime | None = None) -> Digest:
    """The next scheduled edition of `frequency`, as a draft filled from the current most-read
    list (the window ending now). Called again, it refreshes the draft (pins and removals kept).
    Never marks the edition skipped: reads keep coming in until the run."""
    frequency = Frequency(frequency)
    now = now or timezone.now()
    run_at = next_run(frequency, now=now)
    start, end = compose.period_for(frequency=frequency, end=now)
    with transaction.atomic():
        digest = compose.get_locked(frequency, timezone.localdate(run_at), start=start, end=end, scheduled_for=run_at)
        if digest.status == Digest.Status.DRAFT:
            Digest.objects.filter(pk=digest.pk).update(period_start=start, period_end=end, scheduled_for=run_at)
            compose.fill(digest, start=start, end=end)
    digest.refresh_from_db()
    return digest


def is_waiting_for_approval(digest: Digest) -> bool:
    return settings.DIGEST_REQUIRE_APPROVAL and digest.status == Digest.Status.DRAFT


class RunResult(enum.StrEnum):
    DISPATCHED = "dispatched"
    SKIPPED = "skipped"  # too few stories
    WAITING = "waiting"  # DIGEST_REQUIRE_APPROVAL and not approved yet
    ALREADY = "already"  # sending, paused or sent before this run
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class RunOutcome:
    digest: Digest
    result: RunResult


def release(digest: Digest) -> RunOutcome:
    """Hand a composed edition to sending if it may go; never twice."""
    if digest.status == Digest.Status.SKIPPED:
        return RunOutcome(digest, RunResult.SKIPPED)
    if digest.status == Digest.Status.CANCELLED:
        return RunOutcome(digest, RunResult.CANCELLED)
    if digest.status not in state.EDITABLE_STATUSES:
        return RunOutcome(digest, RunResult.ALREADY)
    if is_waiting_for_approval(digest):
        logger.info("digest %s waits for approval", digest.pk)
        return RunOutcome(digest, RunResult.WAITING)
    result = dispatch.dispatch(digest_id=digest.pk)
    digest.refresh_from_db()
    # Another run (a second beat, an editor's approval) may have dispatched it meanwhile.
    return RunOutcome(digest, RunResult.DISPATCHED if result.dispatched else RunResult.ALREADY)


def release_if_due(digest: Digest, *, now: datetime | None = None) -> RunOutcome | None:
    """After an editor approves: if today's edition missed its run waiting for approval, send it
    now. Earlier or future editions are left to their schedule."""
    now = now or timezone.now()
    if (
        digest.status == Digest.Status.APPROVED
        and digest.edition_date == timezone.localdate(now)
        and digest.scheduled_for is not None
        and digest.scheduled_for <= now
    ):
        return release(digest)
    return None


def run_scheduled(*, frequency: str, now: datetime | None = None) -> RunOutcome:
    """The beat's entry point: compose the edition of the period ending now and dispatch it."""
    outcome = release(compose.compose(frequency=frequency, now=now))
    logger.info("scheduled %s digest %s: %s", frequency, outcome.digest.pk, outcome.result)
    return outcome
