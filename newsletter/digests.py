"""Digest editions: identity, composition from the most-read list, editor curation, approval
and the scheduled run.

Guarantees (each has a test in tests/newsletter/test_digests.py):
- One edition per (frequency, edition_date): the unique constraint `digest_one_per_period`; the
  edition date is the local date (TIME_ZONE) of the run, the period the window ending at the run
  (daily: last 24 hours, weekly: last 7 days).
- Composition only touches a `draft`: an approved edition is sent as the editor approved it, a
  sending/sent/cancelled/skipped one is never recomposed. Pinned items come first in the editor's
  order and survive recomposition; removed items (`DigestItem.removed`) and articles marked
  `exclude_from_digests` stay out; an article in the previous edition of the same frequency is
  left out unless pinned.
- Fewer than DIGEST_MIN_STORIES stories: the scheduled run marks the edition `skipped` with a
  `skip_reason` (shown in the admin) and sends nothing.
- Every status change is a conditional UPDATE (`filter(pk=..., status__in=...).update(...)`), and
  item edits lock the edition row and require an editable status, so a double click, two tabs or
  two beats can never send an edition twice nor change it while it is being sent.
- `run_scheduled` is idempotent per (frequency, period): a second run finds the edition past
  draft/approved and hands nothing more to `newsletter.sending.dispatch` (itself idempotent).
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from articles.models import Article

from .models import Digest, DigestItem, Frequency

logger = logging.getLogger(__name__)

WINDOWS: dict[str, timedelta] = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}
EDITABLE_STATUSES = (Digest.Status.DRAFT, Digest.Status.APPROVED)
# Editions whose articles readers did not receive do not block those articles next time.
NOT_DELIVERED_STATUSES = (Digest.Status.CANCELLED, Digest.Status.SKIPPED)
SCHEDULED_TASK = "newsletter.tasks.run_scheduled_digest"
# Used when the periodic task is missing or disabled: daily 07:00, weekly Saturday 08:00.
DEFAULT_SCHEDULE: dict[str, tuple[int, int, int | None]] = {
    Frequency.DAILY: (7, 0, None),
    Frequency.WEEKLY: (8, 0, 5),  # date.weekday(): Saturday is 5
}


class DigestError(Exception):
    """An editor operation that cannot be done; the message is shown to the editor."""


class NotEditable(DigestError):
    """The edition is no longer a draft or approved (sending, sent, cancelled, skipped)."""


# --- Edition identity and composition ---------------------------------------------------------


def period_for(*, frequency: str, end: datetime) -> tuple[datetime, datetime]:
    return end - WINDOWS[Frequency(frequency)], end


def _ranked_articles(start: datetime, end: datetime, limit: int) -> list[Article]:
    """Published articles ranked by reads in [start, end), most read first."""
    from articles.ranking import most_read

    ranked = most_read(start, end, limit)
    articles: list[Article] = []
    for entry in ranked:
        # The ranking may return Article objects or small records holding one.
        article = entry if isinstance(entry, Article) else getattr(entry, "article", None)
        if article is not None:
            articles.append(article)
    return articles


def _previous_edition_articles(digest: Digest) -> set[int]:
    previous = (
        Digest.objects.filter(frequency=digest.frequency, edition_date__lt=digest.edition_date)
        .exclude(status__in=NOT_DELIVERED_STATUSES)
        .order_by("-edition_date")
        .first()
    )
    if previous is None:
        return set()
    return set(previous.items.filter(removed=False).values_list("article_id", flat=True))


def _fill(digest: Digest, *, start: datetime, end: datetime) -> int:
    """(Re)fill a locked draft's items from the ranking; return how many stories it now has."""
    items = list(digest.items.all())
    pinned = sorted((i for i in items if i.pinned and not i.removed), key=lambda i: (i.position, i.id))
    removed_ids = {i.article_id for i in items if i.removed}
    pinned_ids = {i.article_id for i in pinned}
    blocked = removed_ids | pinned_ids | _previous_edition_articles(digest)
    slots = max(settings.DIGEST_TOP_N - len(pinned), 0)
    chosen: list[Article] = []
    if slots:
        # Ask for enough to fill the slots after dropping blocked and excluded articles.
        candidates = _ranked_articles(start, end, settings.DIGEST_TOP_N + len(blocked) + 10)
        for article in candidates:
            if article.pk in blocked or article.exclude_from_digests:
                continue
            chosen.append(article)
            blocked.add(article.pk)
            if len(chosen) == slots:
                break
    digest.items.filter(pinned=False, removed=False).delete()
    for position, item in enumerate(pinned):
        item.position = position
    DigestItem.objects.bulk_update(pinned, ["position"])
    DigestItem.objects.bulk_create(
        DigestItem(digest=digest, article=article, position=len(pinned) + offset)
        for offset, article in enumerate(chosen)
    )
    return len(pinned) + len(chosen)


def _get_locked(
    frequency: str, edition_date: date, *, start: datetime, end: datetime, scheduled_for: datetime
) -> Digest:
    digest, _created = Digest.objects.get_or_create(
        frequency=frequency,
        edition_date=edition_date,
        defaults={"period_start": start, "period_end": end, "scheduled_for": scheduled_for},
    )
    # The row lock serialises concurrent composers (two beats, an editor refreshing).
    return Digest.objects.select_for_update().get(pk=digest.pk)


def compose(*, frequency: str, now: datetime | None = None, skip_if_too_few: bool = True) -> Digest:
    """Get or create the edition for the local date of `now` and, while it is a draft, fill it
    from the most-read list of the window ending at `now`. With too few stories the edition is
    marked skipped (unless `skip_if_too_few` is False, as for a dry run)."""
    frequency = Frequency(frequency)
    now = now or timezone.now()
    start, end = period_for(frequency=frequency, end=now)
    with transaction.atomic():
        digest = _get_locked(frequency, timezone.localdate(now), start=start, end=end, scheduled_for=now)
        if digest.status == Digest.Status.DRAFT:
            Digest.objects.filter(pk=digest.pk).update(period_start=start, period_end=end)
            count = _fill(digest, start=start, end=end)
            if count < settings.DIGEST_MIN_STORIES and skip_if_too_few:
                reason = _("%(count)d قصص فقط في الفترة، والحد الأدنى %(minimum)d.") % {
                    "count": count,
                    "minimum": settings.DIGEST_MIN_STORIES,
                }
                Digest.objects.filter(pk=digest.pk, status=Digest.Status.DRAFT).update(
                    status=Digest.Status.SKIPPED, skip_reason=reason, updated_at=timezone.now()
                )
                logger.info("digest %s skipped: %s", digest.pk, reason)
    digest.refresh_from_db()
    return digest


def next_run(frequency: str, *, now: datetime | None = None) -> datetime:
    """When the scheduled run of `frequency` fires next, read from the django-celery-beat
    crontab (editable in the admin), or 07:00 daily / Saturday 08:00 weekly when absent."""
    now = now or timezone.now()
    crontab = _scheduled_crontab(frequency)
    if crontab is not None:
        found = _next_crontab_time(crontab, now)
        if found is not None:
            return found
    hour, minute, weekday = DEFAULT_SCHEDULE[Frequency(frequency)]
    tz = timezone.get_current_timezone()
    local = timezone.localtime(now, tz)
    for offset in range(0, 8):
        day = local.date() + timedelta(days=offset)
        candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if candidate > now and (weekday is None or day.weekday() == weekday):
            return candidate
    raise AssertionError("unreachable: a weekday occurs within 8 days")


def _scheduled_crontab(frequency: str) -> Any | None:
    from django_celery_beat.models import PeriodicTask

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


def _next_crontab_time(crontab: Any, now: datetime) -> datetime | None:
    schedule = crontab.schedule  # celery crontab with parsed sets (day_of_week: Sunday is 0)
    tz = ZoneInfo(str(crontab.timezone)) if crontab.timezone else timezone.get_current_timezone()
    local = timezone.localtime(now, tz)
    for offset in range(0, 400):
        day = local.date() + timedelta(days=offset)
        if (
            day.isoweekday() % 7 not in schedule.day_of_week
            or day.day not in schedule.day_of_month
            or day.month not in schedule.month_of_year
        ):
            continue
        for hour in sorted(schedule.hour):
            for minute in sorted(schedule.minute):
                candidate = datetime.combine(day, time(hour, minute), tzinfo=tz)
                if candidate > now:
                    return candidate
    return None


def next_draft(frequency: str, *, now: datetime | None = None) -> Digest:
    """The next scheduled edition of `frequency`, as a draft filled from the current most-read
    list (the window ending now). Called again, it refreshes the draft (pins and removals kept).
    Never marks the edition skipped: reads keep coming in until the run."""
    frequency = Frequency(frequency)
    now = now or timezone.now()
    run_at = next_run(frequency, now=now)
    start, end = period_for(frequency=frequency, end=now)
    with transaction.atomic():
        digest = _get_locked(frequency, timezone.localdate(run_at), start=start, end=end, scheduled_for=run_at)
        if digest.status == Digest.Status.DRAFT:
            Digest.objects.filter(pk=digest.pk).update(period_start=start, period_end=end, scheduled_for=run_at)
            _fill(digest, start=start, end=end)
    digest.refresh_from_db()
    return digest


def refresh(digest: Digest, *, now: datetime | None = None) -> Digest:
    """Recompose a draft from the most-read list of the window ending now."""
    now = now or timezone.now()
    start, end = period_for(frequency=digest.frequency, end=now)
    with transaction.atomic():
        locked = _lock_editable(digest.pk, statuses=(Digest.Status.DRAFT,))
        Digest.objects.filter(pk=locked.pk).update(period_start=start, period_end=end)
        _fill(locked, start=start, end=end)
    digest.refresh_from_db()
    return digest


# --- Editor curation --------------------------------------------------------------------------


def _lock_editable(digest_id: int, *, statuses: Sequence[str] = EDITABLE_STATUSES) -> Digest:
    """Lock the edition row for an edit; refuse once it is past draft/approved. Call inside
    transaction.atomic(). The lock makes sending's draft/approved -> sending UPDATE wait for us."""
    digest = Digest.objects.select_for_update().filter(pk=digest_id).first()
    if digest is None:
        raise DigestError(_("العدد غير موجود."))
    if digest.status not in statuses:
        raise NotEditable(_("لا يمكن تعديل عدد حالته «%(status)s».") % {"status": digest.get_status_display()})
    return digest


def active_items(digest: Digest) -> list[DigestItem]:
    return list(digest.items.filter(removed=False).select_related("article").order_by("position", "id"))


def _renumber(digest: Digest, ordered: Sequence[DigestItem]) -> None:
    for position, item in enumerate(ordered):
        item.position = position
    DigestItem.objects.bulk_update(list(ordered), ["position"])
    Digest.objects.filter(pk=digest.pk).update(updated_at=timezone.now())


def normalise_positions(*, digest_id: int) -> None:
    """Renumber the active items 0..n-1 in their current order (after an admin form save)."""
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        _renumber(digest, active_items(digest))


def _item(digest: Digest, article_id: int) -> DigestItem:
    item = digest.items.filter(article_id=article_id).first()
    if item is None:
        raise DigestError(_("المقال ليس في هذا العدد."))
    return item


def pin(*, digest_id: int, article_id: int) -> None:
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        DigestItem.objects.filter(pk=_item(digest, article_id).pk).update(pinned=True, removed=False)


def unpin(*, digest_id: int, article_id: int) -> None:
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        DigestItem.objects.filter(pk=_item(digest, article_id).pk).update(pinned=False)


def remove(*, digest_id: int, article_id: int) -> None:
    """Take an article out; the row stays (removed) so a recomposition does not bring it back."""
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        DigestItem.objects.filter(pk=_item(digest, article_id).pk).update(removed=True, pinned=False)
        _renumber(digest, active_items(digest))


def add_article(*, digest_id: int, article_id: int) -> DigestItem:
    """Add an article at the end, pinned so a recomposition keeps it (also undoes a removal)."""
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        if not Article.objects.filter(pk=article_id).exists():
            raise DigestError(_("المقال غير موجود."))
        end = digest.items.filter(removed=False).aggregate(end=Max("position"))["end"]
        item, _created = DigestItem.objects.update_or_create(
            digest=digest,
            article_id=article_id,
            defaults={"pinned": True, "removed": False, "position": 0 if end is None else end + 1},
        )
        Digest.objects.filter(pk=digest.pk).update(updated_at=timezone.now())
        return item


def move(*, digest_id: int, item_id: int, offset: int) -> None:
    """Move an item up (offset -1) or down (+1) among the active items."""
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        ordered = active_items(digest)
        index = next((i for i, item in enumerate(ordered) if item.pk == item_id), None)
        if index is None:
            raise DigestError(_("المادة ليست في هذا العدد."))
        target = min(max(index + offset, 0), len(ordered) - 1)
        ordered.insert(target, ordered.pop(index))
        _renumber(digest, ordered)


def set_positions(*, digest_id: int, item_ids: Sequence[int]) -> None:
    """Order the active items as `item_ids` (any active item not listed keeps its turn after)."""
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        ordered = active_items(digest)
        by_id = {item.pk: item for item in ordered}
        unknown = [pk for pk in item_ids if pk not in by_id]
        if unknown:
            raise DigestError(_("مواد ليست في هذا العدد: %(ids)s") % {"ids": unknown})
        listed = [by_id[pk] for pk in dict.fromkeys(item_ids)]
        _renumber(digest, listed + [item for item in ordered if item.pk not in set(item_ids)])


def set_texts(
    *, digest_id: int, subject: str | None = None, preheader: str | None = None, intro: str | None = None
) -> None:
    changes: dict[str, Any] = {
        name: " ".join(value.split()) if name != "intro" else value.strip()
        for name, value in (("subject", subject), ("preheader", preheader), ("intro", intro))
        if value is not None
    }
    with transaction.atomic():
        digest = _lock_editable(digest_id)
        Digest.objects.filter(pk=digest.pk).update(**changes, updated_at=timezone.now())


def approve(digest: Digest, user: Any) -> bool:
    """draft -> approved, once: True only for the call that made the transition."""
    count = digest.items.filter(removed=False).count()
    if count < settings.DIGEST_MIN_STORIES:
        raise DigestError(
            _("لا يمكن اعتماد عدد فيه %(count)d قصص؛ الحد الأدنى %(minimum)d.")
            % {
                "count": count,
                "minimum": settings.DIGEST_MIN_STORIES,
            }
        )
    now = timezone.now()
    changed = Digest.objects.filter(pk=digest.pk, status=Digest.Status.DRAFT).update(
        status=Digest.Status.APPROVED, approved_by=user, approved_at=now, updated_at=now
    )
    digest.refresh_from_db()
    return bool(changed)


def unapprove(digest: Digest) -> bool:
    """approved -> draft (to recompose it), only while nothing has been sent."""
    changed = Digest.objects.filter(pk=digest.pk, status=Digest.Status.APPROVED).update(
        status=Digest.Status.DRAFT, approved_by=None, approved_at=None, updated_at=timezone.now()
    )
    digest.refresh_from_db()
    return bool(changed)


def cancel(digest: Digest) -> bool:
    """draft/approved -> cancelled, once. A paused sending is cancelled by newsletter.sending."""
    changed = Digest.objects.filter(pk=digest.pk, status__in=EDITABLE_STATUSES).update(
        status=Digest.Status.CANCELLED, updated_at=timezone.now()
    )
    digest.refresh_from_db()
    return bool(changed)


def is_waiting_for_approval(digest: Digest) -> bool:
    return settings.DIGEST_REQUIRE_APPROVAL and digest.status == Digest.Status.DRAFT


# --- Scheduled run ----------------------------------------------------------------------------


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
    if digest.status not in EDITABLE_STATUSES:
        return RunOutcome(digest, RunResult.ALREADY)
    if is_waiting_for_approval(digest):
        logger.info("digest %s waits for approval", digest.pk)
        return RunOutcome(digest, RunResult.WAITING)
    from . import sending

    result = sending.dispatch(digest_id=digest.pk)
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
    outcome = release(compose(frequency=frequency, now=now))
    logger.info("scheduled %s digest %s: %s", frequency, outcome.digest.pk, outcome.result)
    return outcome
