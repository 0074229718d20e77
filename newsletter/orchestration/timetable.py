"""The timetable: when each frequency's scheduled run fires, read from and written to
django-celery-beat's rows (PeriodicTask + CrontabSchedule), in the newsroom's time zone.

Reading asks Celery's own crontab arithmetic, so the admin, `send_digest` and the beat agree on
the times. Writing is the editors' schedule form (daily at HH:MM, weekly on a day at HH:MM): it
updates the frequency's PeriodicTask in place, so the beat (which watches PeriodicTasks.changed)
picks the new time up without a restart, and editors never type crontab syntax.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from celery.schedules import crontab
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from newsletter import task_names
from newsletter.editions.models import Frequency

SCHEDULED_TASK = task_names.RUN_SCHEDULED_DIGEST
# Used when the periodic task is missing or disabled: daily 07:00, weekly Saturday 08:00.
DEFAULT_SCHEDULE: dict[str, tuple[int, int, int | None]] = {
    Frequency.DAILY: (7, 0, None),
    Frequency.WEEKLY: (8, 0, 5),  # date.weekday(): Saturday is 5
}
# Names of the rows the migration 0002_periodic_tasks created (kept when the form creates one).
TASK_NAMES = {Frequency.DAILY: "Daily digest", Frequency.WEEKLY: "Weekly digest"}
# The longest gap between two runs of one frequency (weekly) plus a margin: how far back
# previous_run looks.
LOOKBACK = timedelta(days=8)


@dataclass(frozen=True)
class Slot:
    """One frequency's run time as an editor sets it: weekday None means every day."""

    hour: int
    minute: int
    weekday: int | None  # date.weekday(): Monday 0 ... Sunday 6
    enabled: bool = True


def _crontab_day(weekday: int | None) -> str:
    # date.weekday() counts from Monday = 0; crontab's day_of_week from Sunday = 0.
    return "*" if weekday is None else str((weekday + 1) % 7)


def scheduled_task(frequency: str) -> PeriodicTask | None:
    for task in PeriodicTask.objects.filter(task=SCHEDULED_TASK, crontab__isnull=False).select_related("crontab"):
        try:
            kwargs = json.loads(task.kwargs or "{}")
        except ValueError:
            continue
        if kwargs.get("frequency") == frequency:
            return task
    return None


def _crontab_and_zone(frequency: str) -> tuple[crontab, tzinfo]:
    task = scheduled_task(frequency)
    if task is not None and task.enabled and task.crontab is not None:
        row = task.crontab
        tz = ZoneInfo(str(row.timezone)) if row.timezone else timezone.get_current_timezone()
        return row.schedule, tz
    hour, minute, weekday = DEFAULT_SCHEDULE[Frequency(frequency)]
    return crontab(minute=minute, hour=hour, day_of_week=_crontab_day(weekday)), timezone.get_current_timezone()


def _next_time(schedule: crontab, *, after: datetime, tz: tzinfo) -> datetime:
    """The first time after `after` that `schedule` fires, in `tz`."""
    last, delta, _now = schedule.remaining_delta(after, tz=tz)
    return last + delta


def next_run(frequency: str, *, now: datetime | None = None) -> datetime:
    """When the scheduled run of `frequency` fires next (strictly after `now`)."""
    schedule, tz = _crontab_and_zone(frequency)
    return _next_time(schedule, after=now or timezone.now(), tz=tz)


def previous_run(frequency: str, *, now: datetime | None = None) -> datetime | None:
    """The last time at or before `now` the scheduled run fired (None if not within LOOKBACK)."""
    now = now or timezone.now()
    schedule, tz = _crontab_and_zone(frequency)
    fired: datetime | None = None
    candidate = _next_time(schedule, after=now - LOOKBACK, tz=tz)
    while candidate <= now:
        fired = candidate
        candidate = _next_time(schedule, after=candidate, tz=tz)
    return fired


def current_slot(frequency: str) -> Slot:
    """The frequency's run time as the schedule form shows it."""
    task = scheduled_task(frequency)
    if task is None or task.crontab is None:
        hour, minute, weekday = DEFAULT_SCHEDULE[Frequency(frequency)]
        return Slot(hour=hour, minute=minute, weekday=weekday, enabled=task is None)
    row = task.crontab
    try:
        hour, minute = int(row.hour), int(row.minute)
    except ValueError:
        # An administrator typed a richer crontab on the raw screen: show the default time, and
        # the form's save replaces it with a plain one.
        hour, minute, _weekday = DEFAULT_SCHEDULE[Frequency(frequency)]
    weekday = None if row.day_of_week == "*" else (int(row.day_of_week) - 1) % 7 if row.day_of_week.isdigit() else None
    return Slot(hour=hour, minute=minute, weekday=weekday, enabled=task.enabled)


def set_slot(*, frequency: str, slot: Slot) -> PeriodicTask:
    """Write `slot` into the frequency's beat rows (created when missing), in TIME_ZONE."""
    frequency = Frequency(frequency)
    if not (0 <= slot.hour < 24 and 0 <= slot.minute < 60) or (slot.weekday is not None and not 0 <= slot.weekday < 7):
        raise ValueError("hour, minute or weekday out of range")
    with transaction.atomic():
        row, _created = CrontabSchedule.objects.get_or_create(
            minute=str(slot.minute),
            hour=str(slot.hour),
            day_of_week=_crontab_day(slot.weekday),
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        task = scheduled_task(frequency)
        if task is None:
            task = PeriodicTask(
                name=TASK_NAMES[frequency], task=SCHEDULED_TASK, kwargs=json.dumps({"frequency": str(frequency)})
            )
        task.crontab = row
        task.interval = None
        task.enabled = slot.enabled
        # PeriodicTask.save() bumps PeriodicTasks.changed, which tells a running beat to reload.
        task.save()
    return task
