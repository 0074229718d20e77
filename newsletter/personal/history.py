"""A reader's history: the stories they clicked in an edition and the articles they then read on
the site, kept PERSONAL_HISTORY_DAYS (ReaderEvent), and which profiles it made stale.

HOW A READ ON THE SITE BECOMES THE READER'S. The analytics roll-up hands over each human click
it stored (`record_clicks`: scanner bursts and clicks by someone who did not receive the edition
never arrive here). The click names the browser that made it (the reader id of its signed `rid`
cookie, newsletter.clicks.redirect); from then on articles.reading follows that browser, and each
article it reads on the site or through the beacon lands in the followed log with the
subscriber's id (`ingest_reads` collects them). A forged cookie carries no valid reader id, an
expired follow is no longer followed, and an unknown or unpublished article is never counted as
read, so none of them adds anything.

Nothing is collected when DIGEST_PERSONAL is off or the reader switched personal order off.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction

from articles.content.models import Article
from articles.reading import reads
from newsletter.email.links import absolute_url
from newsletter.subscribers import feedback
from newsletter.subscribers.models import Subscriber
from sitewide.redis_client import get_redis

from . import conf
from .models import ReaderEvent, ReaderProfile

# Subscribers whose profile must be built again (their history changed).
DIRTY_KEY = "pe:dirty"


@dataclass(frozen=True)
class Click:
    subscriber_id: int
    article_id: int
    at: datetime
    reader: str  # the reader id of the browser that clicked


def collecting() -> bool:
    return conf.enabled()


def _opted_in(subscriber_ids: Iterable[int]) -> set[int]:
    return set(Subscriber.objects.filter(id__in=set(subscriber_ids), personal_order=True).values_list("id", flat=True))


def mark_dirty(subscriber_ids: Iterable[int]) -> None:
    ids = [str(i) for i in set(subscriber_ids)]
    if ids:
        get_redis().sadd(DIRTY_KEY, *ids)


def record_clicks(clicks: Iterable[Click]) -> int:
    """Store the first click of each (subscriber, article) and follow the browsers that clicked.
    Returns how many events were new."""
    clicks = list(clicks)
    if not clicks or not collecting():
        return 0
    keep = _opted_in(c.subscriber_id for c in clicks)
    clicks = [c for c in clicks if c.subscriber_id in keep]
    created = ReaderEvent.objects.bulk_create(
        [ReaderEvent(subscriber_id=c.subscriber_id, article_id=c.article_id, kind="click", at=c.at) for c in clicks],
        ignore_conflicts=True,
    )
    seconds = conf.settings().PERSONAL_HISTORY_DAYS * 86400
    pipe = get_redis().pipeline(transaction=False)
    for click in clicks:
        if click.reader:
            reads.follow(pipe, visitor=click.reader, tag=str(click.subscriber_id), seconds=seconds)
    pipe.execute()
    mark_dirty(c.subscriber_id for c in clicks)
    return len(created)


def ingest_reads(*, limit: int = 50_000) -> int:
    """Collect what followed browsers read since the last run. Returns the events stored."""
    followed = reads.drain_followed(limit=limit)
    if not followed or not collecting():
        return 0
    by_subscriber = [(int(r.tag), r) for r in followed if r.tag.isdigit()]
    keep = _opted_in(s for s, _ in by_subscriber)
    published = set(
        Article.objects.published().filter(pk__in={r.article_id for _, r in by_subscriber}).values_list("pk", flat=True)
    )
    events = [
        ReaderEvent(subscriber_id=s, article_id=r.article_id, kind="read", at=datetime.fromtimestamp(r.at, tz=UTC))
        for s, r in by_subscriber
        if s in keep and r.article_id in published
    ]
    ReaderEvent.objects.bulk_create(events, ignore_conflicts=True)
    mark_dirty(e.subscriber_id for e in events)
    return len(events)


def prune(*, now: datetime) -> int:
    """Delete history older than PERSONAL_HISTORY_DAYS, the readers' "more / less like this" too
    (newsletter.subscribers.feedback); their profiles are built again."""
    cutoff = now - timedelta(days=conf.settings().PERSONAL_HISTORY_DAYS)
    old = ReaderEvent.objects.filter(at__lt=cutoff)
    touched = set(old.values_list("subscriber_id", flat=True).distinct())
    deleted, _ = old.delete()
    mark_dirty(touched)
    return deleted + feedback.prune(before=cutoff)


def forget(*, subscriber_id: int) -> None:
    """The reader switched personal order off: their history and profile go."""
    with transaction.atomic():
        ReaderEvent.objects.filter(subscriber_id=subscriber_id).delete()
        ReaderProfile.objects.filter(subscriber_id=subscriber_id).delete()
    get_redis().srem(DIRTY_KEY, str(subscriber_id))


def for_export(*, subscriber_id: int) -> list[tuple[str, str, str, datetime]]:
    """The reader's history as their data export lists it: (article title, its address, how, when)."""
    events = ReaderEvent.objects.filter(subscriber_id=subscriber_id).order_by("at", "id")
    titles = {
        article.pk: (article.title, absolute_url(article.get_absolute_url()))
        for article in Article.objects.filter(pk__in=events.values("article_id")).only("id", "title", "slug")
    }
    return [
        (*titles.get(article_id, ("", "")), kind, at)
        for article_id, kind, at in events.values_list("article_id", "kind", "at")
    ]
