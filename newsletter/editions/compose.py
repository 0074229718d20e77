"""Composing an edition from the most-read list: its identity (one per frequency and local
date), its window, and filling a draft's slots around the editor's pins and removals.

Guarantees (each has a test in tests/newsletter/editions/test_digests.py):
- One scheduled edition per (frequency, edition_date): the unique constraint
  `digest_one_scheduled_per_day` (the edition that is not `extra`); the edition date is the local
  date (TIME_ZONE) of the run, the period the window ending at the run (daily: last 24 hours,
  weekly: last 7 days). An edition an editor sends before its run becomes an extra edition of the
  day it is sent on (newsletter.orchestration.runs.date_for_sending), and the run composes its own.
- Composition only touches a `draft`: an approved edition is sent as the editor approved it, a
  sending/sent/cancelled/skipped one is never recomposed. Pinned items come first in the editor's
  order and survive recomposition; removed items (`DigestItem.removed`) and articles marked
  `exclude_from_digests` stay out; an article in the previous edition of the same frequency is
  left out unless pinned.
- Fewer than DIGEST_MIN_STORIES stories: the scheduled run marks the edition `skipped` with a
  `skip_reason` (shown in the admin) and sends nothing.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from articles.content.models import Article
from articles.reading.ranking import most_read
from sitewide.dates import digits

from . import conf, history, state
from .models import Digest, DigestItem, Frequency

logger = logging.getLogger(__name__)

WINDOWS: dict[str, timedelta] = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}


def period_for(*, frequency: str, end: datetime) -> tuple[datetime, datetime]:
    return end - WINDOWS[Frequency(frequency)], end


def _ranked_articles(start: datetime, end: datetime, limit: int) -> list[Article]:
    """Published articles ranked by reads in [start, end), most read first."""
    ranked = most_read(start, end, limit)
    articles: list[Article] = []
    for entry in ranked:
        # The ranking may return Article objects or small records holding one.
        article = entry if isinstance(entry, Article) else getattr(entry, "article", None)
        if article is not None:
            articles.append(article)
    return articles


def fill(digest: Digest, *, start: datetime, end: datetime) -> int:
    """(Re)fill a locked draft's items from the ranking; return how many stories it now has."""
    items = list(digest.items.all())
    pinned = sorted((i for i in items if i.pinned and not i.removed), key=lambda i: (i.position, i.id))
    removed_ids = {i.article_id for i in items if i.removed}
    pinned_ids = {i.article_id for i in pinned}
    blocked = removed_ids | pinned_ids | history.previous_edition_articles(digest)
    slots = max(conf.settings().DIGEST_TOP_N - len(pinned), 0)
    chosen: list[Article] = []
    if slots:
        # Ask for enough to fill the slots after dropping blocked and excluded articles.
        candidates = _ranked_articles(start, end, conf.settings().DIGEST_TOP_N + len(blocked) + 10)
        for article in candidates:
            if article.pk in blocked or article.exclude_from_digests:
                continue
            chosen.append(article)
            blocked.add(article.pk)
            if len(chosen) == slots:
                break
    digest.items.filter(pinned=False, removed=False).delete()
    # Positions count from 1, as editors see them.
    for position, item in enumerate(pinned, start=1):
        item.position = position
    DigestItem.objects.bulk_update(pinned, ["position"])
    DigestItem.objects.bulk_create(
        DigestItem(digest=digest, article=article, position=len(pinned) + offset)
        for offset, article in enumerate(chosen, start=1)
    )
    return len(pinned) + len(chosen)


def too_few_reason(count: int) -> str:
    """The skip reason editors read; stored in the site's language whatever the caller's."""
    with translation.override(settings.LANGUAGE_CODE):
        return _("قصص الفترة أقل من الحد الأدنى: %(count)s من %(minimum)s") % {
            "count": digits(count),
            "minimum": digits(conf.settings().DIGEST_MIN_STORIES),
        }


def next_number(frequency: str, edition_date: date) -> int:
    """The number the day's next edition takes: 1, or one after those the day already has."""
    taken = Digest.objects.filter(frequency=frequency, edition_date=edition_date, utc_offset__isnull=True)
    return max(taken.values_list("number", flat=True), default=0) + 1


def get_locked(
    frequency: str, edition_date: date, *, start: datetime, end: datetime, scheduled_for: datetime
) -> Digest:
    """The day's scheduled edition (not an extra one an editor sent early), created if missing,
    under its row lock. Two creators at once: the unique constraint lets one in, the other gets it."""
    digest, _created = Digest.objects.get_or_create(
        frequency=frequency,
        edition_date=edition_date,
        extra=False,
        utc_offset=None,  # the edition itself, not one of its waves
        defaults={
            "number": next_number(frequency, edition_date),
            "period_start": start,
            "period_end": end,
            "scheduled_for": scheduled_for,
        },
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
        digest = get_locked(frequency, timezone.localdate(now), start=start, end=end, scheduled_for=now)
        if digest.status == Digest.Status.DRAFT:
            Digest.objects.filter(pk=digest.pk).update(period_start=start, period_end=end)
            count = fill(digest, start=start, end=end)
            if count < conf.settings().DIGEST_MIN_STORIES and skip_if_too_few:
                reason = too_few_reason(count)
                state.apply(state.Transition.SKIP, digest_id=digest.pk, skip_reason=reason)
                logger.info("digest %s skipped: %s", digest.pk, reason)
    digest.refresh_from_db()
    return digest


def refresh(digest: Digest, *, now: datetime | None = None) -> Digest:
    """Recompose a draft from the most-read list of the window ending now."""
    now = now or timezone.now()
    start, end = period_for(frequency=digest.frequency, end=now)
    with transaction.atomic():
        locked = state.lock_editable(digest.pk, statuses=(Digest.Status.DRAFT,))
        Digest.objects.filter(pk=locked.pk).update(period_start=start, period_end=end)
        fill(locked, start=start, end=end)
    digest.refresh_from_db()
    return digest
