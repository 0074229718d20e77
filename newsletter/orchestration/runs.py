"""The schedule: which edition is "the next edition" of a frequency, the scheduled run that
composes an edition and hands it to delivery, and the editor's "send now" / "schedule at".

One meaning of "the next edition" (`next_slot`), used by the admin's "next edition" button,
`send_digest` and the editors' send buttons, so the edition an editor curates and approves is
the one that goes out:
- today's edition, if today's run already fired and that edition still waits (draft or approved,
  e.g. for approval, or for its "schedule at" time);
- otherwise the edition of the next run (timetable.next_run), dated on the run's local date:
  always a day the schedule sends on.
The beat (`run_scheduled`) sends the edition of the run that just fired, so a second beat or a
retry finds it past draft/approved and sends nothing more.

Every send goes through delivery.dispatch, whose draft/approved -> sending transition is one
conditional UPDATE: two clicks on "send now", or a click and the beat, send the edition once.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from newsletter.delivery import dispatch
from newsletter.editions import compose, curation, state
from newsletter.editions import conf as editions_conf
from newsletter.editions.models import Digest, Frequency

from . import timetable, waves
from .timetable import next_run, previous_run

__all__ = ["next_run", "previous_run"]  # re-exported: callers read the schedule from here

logger = logging.getLogger(__name__)


def next_slot(frequency: str, *, now: datetime | None = None) -> tuple[date, datetime]:
    """(edition date, run time) of the next edition of `frequency` (see the module docstring)."""
    now = now or timezone.now()
    fired = previous_run(frequency, now=now)
    if fired is not None and timezone.localdate(fired) == timezone.localdate(now):
        status = (
            Digest.objects.filter(
                frequency=frequency, edition_date=timezone.localdate(fired), extra=False, utc_offset__isnull=True
            )
            .values_list("status", flat=True)
            .first()
        )
        if status in state.EDITABLE_STATUSES:
            return timezone.localdate(fired), fired
    upcoming = next_run(frequency, now=now)
    return timezone.localdate(upcoming), upcoming


def edition_time(frequency: str) -> waves.EditionTime:
    """The local edition time every subscriber's wave uses: the hour, minute and weekday of the
    frequency's schedule (the editors' schedule form), else 07:00 daily / Saturday 08:00 weekly."""
    slot = timetable.current_slot(frequency)
    return waves.EditionTime(hour=slot.hour, minute=slot.minute, weekday=slot.weekday)


def run_waves(*, frequency: str, now: datetime | None = None) -> list[waves.WaveOutcome]:
    """The hourly run (DIGEST_LOCAL_TIME): send the waves of `frequency` now due."""
    return waves.run_due(frequency=frequency, now=now or timezone.now(), at=edition_time(frequency))


def _compose_at(
    frequency: str, edition_date: date, run_at: datetime, *, now: datetime, skip_if_too_few: bool
) -> Digest:
    """Get or create the edition of `edition_date` and, while it is a draft, fill it from the
    most-read list of the window ending now (pins and removals kept)."""
    start, end = compose.period_for(frequency=frequency, end=now)
    with transaction.atomic():
        digest = compose.get_locked(frequency, edition_date, start=start, end=end, scheduled_for=run_at)
        if digest.status == Digest.Status.DRAFT:
            Digest.objects.filter(pk=digest.pk).update(period_start=start, period_end=end, scheduled_for=run_at)
            count = compose.fill(digest, start=start, end=end)
            if skip_if_too_few and count < editions_conf.settings().DIGEST_MIN_STORIES:
                reason = compose.too_few_reason(count)
                state.apply(state.Transition.SKIP, digest_id=digest.pk, skip_reason=reason)
                logger.info("digest %s skipped: %s", digest.pk, reason)
    digest.refresh_from_db()
    return digest


def next_draft(frequency: str, *, now: datetime | None = None) -> Digest:
    """The next edition of `frequency`, as a draft filled from the current most-read list (the
    window ending now). Called again, it refreshes the draft (pins and removals kept). Never
    marks the edition skipped: reads keep coming in until the run."""
    frequency = Frequency(frequency)
    now = now or timezone.now()
    edition_date, run_at = next_slot(frequency, now=now)
    return _compose_at(frequency, edition_date, run_at, now=now, skip_if_too_few=False)


WENT_OUT_STATUSES = (
    Digest.Status.TESTING,
    Digest.Status.WAITING,
    Digest.Status.SENDING,
    Digest.Status.PAUSED,
    Digest.Status.SENT,
)


def sent_today(frequency: str, *, now: datetime | None = None) -> Digest | None:
    """The edition of `frequency` that went out (or is going out) for the current run: the day's
    scheduled edition (itself or in waves), or any edition whose send began since the run last
    fired. `send_digest` sends nothing more then: a cron retry or a second run never mails the
    list twice for one run. An editor's early "send now" (00:10, before the 07:00 run) counts
    until that run fires, not after: the cron's 07:00 run still sends the morning's edition, as
    the beat's does. (An editor may send a second edition deliberately, from the edition page.)"""
    now = now or timezone.now()
    fired = previous_run(frequency, now=now)
    today = timezone.localdate(now)
    # No run fired yet (a weekly edition's first week): the day so far.
    since = fired or timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        Digest.objects.filter(frequency=frequency, status__in=WENT_OUT_STATUSES)
        .filter(Q(edition_date=today, extra=False) | Q(sending_started_at__gte=since))
        .order_by("-sending_started_at", "utc_offset")
        .first()
    )


def compose_next(frequency: str, *, now: datetime | None = None) -> Digest:
    """The next edition, composed for sending now (`send_digest`): marked skipped when too few."""
    frequency = Frequency(frequency)
    now = now or timezone.now()
    edition_date, run_at = next_slot(frequency, now=now)
    return _compose_at(frequency, edition_date, run_at, now=now, skip_if_too_few=True)


def is_waiting_for_approval(digest: Digest) -> bool:
    return editions_conf.settings().DIGEST_REQUIRE_APPROVAL and digest.status == Digest.Status.DRAFT


def is_waiting_for_time(digest: Digest, *, now: datetime | None = None) -> bool:
    """An editor chose a later time ("schedule at"): nothing sends it before then."""
    return digest.send_at is not None and digest.send_at > (now or timezone.now())


class RunResult(enum.StrEnum):
    DISPATCHED = "dispatched"
    SKIPPED = "skipped"  # too few stories
    WAITING = "waiting"  # DIGEST_REQUIRE_APPROVAL and not approved yet
    SCHEDULED = "scheduled"  # an editor scheduled it for a later time
    ALREADY = "already"  # sending, paused or sent before this run
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class RunOutcome:
    digest: Digest
    result: RunResult


def release(digest: Digest, *, now: datetime | None = None) -> RunOutcome:
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
    if is_waiting_for_time(digest, now=now):
        return RunOutcome(digest, RunResult.SCHEDULED)
    with transaction.atomic():
        # Dated and dispatched under one row lock: of two clicks (or a click and the beat) the
        # second waits here, then finds the edition sending and does nothing.
        if date_for_sending(digest_id=digest.pk, now=now or timezone.now()):
            result = dispatch.dispatch(digest_id=digest.pk)
        else:
            result = dispatch.DispatchResult(dispatched=False)
    digest.refresh_from_db()
    # Another run (a second beat, an editor's click) may have dispatched it meanwhile.
    return RunOutcome(digest, RunResult.DISPATCHED if result.dispatched else RunResult.ALREADY)


@dataclass(frozen=True)
class SendingDay:
    """How an edition goes out when sent at a given moment (see date_for_sending)."""

    edition_date: date
    number: int
    extra: bool

    def of(self, digest: Digest) -> bool:
        """The edition goes out as it is: same date, number and kind."""
        return (self.edition_date, self.number, self.extra) == (digest.edition_date, digest.number, digest.extra)


def sending_day(digest: Digest, *, now: datetime) -> SendingDay:
    """The date, number and kind the edition goes out with when it is sent at `now`."""
    today = timezone.localdate(now)
    unchanged = SendingDay(digest.edition_date, digest.number, digest.extra)
    if digest.utc_offset is not None or digest.extra:
        return unchanged
    if digest.edition_date > today:
        return SendingDay(today, compose.next_number(digest.frequency, today), True)
    # Today's own edition sent before its run (send now at 00:10 for the 07:00 run) is an extra
    # edition of today: the run then composes and sends its own. One sent at or after its run, or
    # after its day (a run that fired at 07:00 and dispatches after midnight: a late worker) keeps
    # what it is, so the next beat finds it again instead of composing a second one; so does one
    # whose local-time waves already began going out (sending it completes the day's waves).
    if (
        digest.edition_date == today
        and digest.scheduled_for is not None
        and now < digest.scheduled_for
        and not digest.waves.exists()
    ):
        return SendingDay(today, digest.number, True)
    return unchanged


def date_for_sending(*, digest_id: int, now: datetime) -> bool:
    """Lock the edition about to be dispatched and give it the day it is sent on. Call inside a
    transaction; False when it is no longer draft or approved.

    An edition goes out dated the newsroom's local day of its send. One an editor sends before its
    run ("send now", "schedule at", `send_digest` on Thursday afternoon for Friday's run, or at
    00:10 for Thursday's 07:00 run) becomes an extra edition of the day it is sent on, numbered
    after the editions that day already has (none: 1; after the 07:00 edition: 2). The edition
    of the run it was composed for is then composed afresh at that run, leaving out what this one
    sent (editions.history), so the schedule keeps its day. Scheduled runs send editions dated
    their own day: unchanged."""
    digest = Digest.objects.select_for_update().filter(pk=digest_id).first()
    if digest is None or digest.status not in state.EDITABLE_STATUSES:
        return False
    day = sending_day(digest, now=now)
    if not day.of(digest):
        Digest.objects.filter(pk=digest_id).update(
            edition_date=day.edition_date, number=day.number, extra=day.extra, updated_at=now
        )
        logger.info(
            "digest %s sent before its run: an extra edition of %s, number %s", digest_id, day.edition_date, day.number
        )
    return True


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
        return release(digest, now=now)
    return None


def run_scheduled(*, frequency: str, now: datetime | None = None) -> RunOutcome:
    """The beat's entry point: compose the edition of the run that just fired and dispatch it."""
    frequency = Frequency(frequency)
    now = now or timezone.now()
    fired = previous_run(frequency, now=now) or now
    digest = _compose_at(frequency, timezone.localdate(fired), fired, now=now, skip_if_too_few=True)
    outcome = release(digest, now=now)
    logger.info("scheduled %s digest %s: %s", frequency, outcome.digest.pk, outcome.result)
    return outcome


def send_now(*, digest_id: int, user: Any) -> RunOutcome:
    """The editor's "send now" (after the confirmation step): approve a draft (clicking send is
    the approval), drop any later "schedule at" time, dispatch. Dispatch is the conditional
    transition, so a second click or the beat at the same moment sends nothing more."""
    digest = Digest.objects.get(pk=digest_id)
    if digest.status == Digest.Status.DRAFT:
        curation.approve(digest, user)
    Digest.objects.filter(pk=digest_id, status__in=state.EDITABLE_STATUSES).update(send_at=None)
    digest.refresh_from_db()
    return release(digest)


def schedule_at(*, digest_id: int, user: Any, when: datetime, now: datetime | None = None) -> Digest:
    """The editor's "schedule at": approve the edition and have it sent at `when` (in the
    future); release_scheduled sends it then. Only while it is draft or approved."""
    now = now or timezone.now()
    if when <= now:
        raise state.DigestError(_("اختر موعدًا في المستقبل."))
    digest = Digest.objects.get(pk=digest_id)
    if digest.status == Digest.Status.DRAFT:
        curation.approve(digest, user)
    with transaction.atomic():
        state.lock_editable(digest_id)
        Digest.objects.filter(pk=digest_id).update(send_at=when, updated_at=now)
    digest.refresh_from_db()
    return digest


def release_scheduled(*, now: datetime | None = None) -> list[RunOutcome]:
    """Periodic (every minute): send the approved editions whose "schedule at" time has come."""
    now = now or timezone.now()
    due = Digest.objects.filter(status=Digest.Status.APPROVED, send_at__isnull=False, send_at__lte=now)
    return [release(digest, now=now) for digest in due]
