"""The most-read ranking every digest and page uses.

`most_read(start, end, limit)` ranks published articles by distinct readers over the local days
the window touches (a day is the unit the counters keep). Days that Redis still holds are read
from Redis: readers are the union of the daily HyperLogLogs (PFCOUNT over several keys), so one
reader on three days counts once. Days beyond retention (or that Redis lost) come from
ArticleDailyStats, where readers of different days add up. Ties: views, then newer
published_at, then higher id, so the order is deterministic.

Cost: one HGETALL per Redis day, one SQL query for eligibility, one for old days, one for the
result; exact PFCOUNT unions only for the candidates whose upper bound (readers <= views) can
still reach the top `limit`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from articles.content.models import Article, Section, Tag
from sitewide.redis_client import get_redis

from . import conf, reads
from .models import ArticleDailyStats


def window_days(start: datetime, end: datetime) -> list[date]:
    """Local dates touched by [start, end)."""
    first = timezone.localdate(start)
    last = timezone.localdate(end - timedelta(microseconds=1)) if end > start else first
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _ids(items: Iterable[Section | Tag | int] | None) -> list[int] | None:
    if items is None:
        return None
    return [item if isinstance(item, int) else item.pk for item in items]


def eligible_articles(
    *, sections: Iterable[Section | int] | None = None, tags: Iterable[Tag | int] | None = None
) -> QuerySet[Article]:
    queryset = Article.objects.published().filter(exclude_from_digests=False)
    section_ids = _ids(sections)
    if section_ids is not None:
        queryset = queryset.filter(section_id__in=section_ids)
    tag_ids = _ids(tags)
    if tag_ids is not None:
        # A merged tag given as a filter means its survivor (the articles moved there).
        tag_ids = (
            list(
                Tag.objects.filter(Q(id__in=tag_ids) | Q(merged_tags__id__in=tag_ids))
                .values_list("id", flat=True)
                .distinct()
            )
            + tag_ids
        )
        through = Article.tags.through
        queryset = queryset.filter(Exists(through.objects.filter(article_id=OuterRef("pk"), tag_id__in=tag_ids)))
    return queryset


def _filter_ids(queryset: QuerySet[Article], ids: list[int]) -> list[int]:
    """The ids (of thousands) that pass the queryset's filters. PostgreSQL gets one array
    parameter (= ANY) instead of an IN list of thousands of placeholders."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Article._meta.db_table)
        queryset = queryset.extra(where=[f"{table}.id = ANY(%s)"], params=[ids])
    else:
        queryset = queryset.filter(id__in=ids)
    return list(queryset.values_list("id", flat=True).order_by())


def readers_in_window(start: datetime, end: datetime, article_ids: Iterable[int]) -> dict[int, int]:
    """Distinct readers of these articles over the window, counted as `most_read` counts them:
    days Redis still holds live from Redis (what readers did a minute ago, before any roll-up),
    older days from ArticleDailyStats. For the editor's story rows: the figure beside a story is
    the one its place in the ranking came from. Two Redis round trips and one query."""
    ids = list(dict.fromkeys(article_ids))
    if not ids or end <= start:
        return dict.fromkeys(ids, 0)
    days = window_days(start, end)
    oldest_retained = reads.today() - timedelta(days=conf.settings().READS_RETENTION_DAYS - 1)
    recent = [day for day in days if day >= oldest_retained]
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    for day in recent:
        pipe.exists(reads.views_key(day))
        pipe.hmget(reads.offsets_key(day), ids)
    replies = pipe.execute() if recent else []
    redis_days = [day for index, day in enumerate(recent) if replies[2 * index]]
    readers = dict.fromkeys(ids, 0)
    for index, day in enumerate(recent):
        if day in redis_days:
            for article_id, offset in zip(ids, replies[2 * index + 1], strict=True):
                readers[article_id] += int(offset or 0)
    if redis_days:
        pipe = client.pipeline(transaction=False)
        for article_id in ids:
            pipe.pfcount(*[reads.readers_key(day, article_id) for day in redis_days])
        for article_id, union in zip(ids, pipe.execute(), strict=True):
            readers[article_id] += int(union)
    db_days = [day for day in days if day not in redis_days]
    if db_days:
        rows = (
            ArticleDailyStats.objects.filter(article_id__in=ids, day__in=db_days)
            .values_list("article_id")
            .annotate(total=Sum("readers"))
            .order_by()
        )
        for article_id, total in rows:
            readers[article_id] += total or 0
    return readers


def most_read(
    start: datetime,
    end: datetime,
    limit: int,
    sections: Iterable[Section | int] | None = None,
    tags: Iterable[Tag | int] | None = None,
) -> list[Article]:
    """Published, not excluded articles ranked by distinct readers in the window; each returned
    Article carries `.readers` and `.views` (ints) and has its section loaded."""
    if limit <= 0 or end <= start:
        return []
    days = window_days(start, end)
    oldest_retained = reads.today() - timedelta(days=conf.settings().READS_RETENTION_DAYS - 1)

    client = get_redis()
    pipe = client.pipeline(transaction=False)
    recent = [day for day in days if day >= oldest_retained]
    for day in recent:
        pipe.hgetall(reads.views_key(day))
        pipe.hgetall(reads.offsets_key(day))
    replies = pipe.execute() if recent else []

    redis_days: list[date] = []
    redis_views: dict[int, int] = {}
    redis_offsets: dict[int, int] = {}
    for index, day in enumerate(recent):
        views_hash, offsets_hash = replies[2 * index], replies[2 * index + 1]
        if not views_hash:
            continue  # nothing in Redis for this day (lost, or seeded in the DB): use the DB
        redis_days.append(day)
        for raw_id, raw_views in views_hash.items():
            article_id = int(raw_id)
            redis_views[article_id] = redis_views.get(article_id, 0) + int(raw_views)
        for raw_id, raw_readers in offsets_hash.items():
            article_id = int(raw_id)
            redis_offsets[article_id] = redis_offsets.get(article_id, 0) + int(raw_readers)
    db_days = [day for day in days if day not in set(redis_days)]

    db_readers: dict[int, int] = {}
    db_views: dict[int, int] = {}
    if db_days:
        # Aggregate first, filter after: joining every stats row to its article costs more
        # than checking the few thousand aggregated ids (one array parameter) below.
        rows = (
            ArticleDailyStats.objects.filter(day__gte=db_days[0], day__lte=db_days[-1])
            .exclude(day__in=redis_days)
            .values_list("article_id")
            .annotate(r=Sum("readers"), v=Sum("views"))
            .order_by()
        )
        for article_id, readers_sum, views_sum in rows:
            db_readers[article_id] = readers_sum
            db_views[article_id] = views_sum
    seen = set(redis_views) | set(db_readers)
    eligible = eligible_articles(sections=sections, tags=tags)
    candidate_ids = set(_filter_ids(eligible, list(seen))) if seen else set()

    def upper_bound(article_id: int) -> int:
        # Distinct readers never exceed views; HyperLogLog's ~0.81% error gets a margin.
        views = redis_views.get(article_id, 0)
        return (
            db_readers.get(article_id, 0)
            + redis_offsets.get(article_id, 0)
            + (math.ceil(views * 1.03) + 1 if views else 0)
        )

    candidates = sorted(candidate_ids, key=upper_bound, reverse=True)
    scores: dict[int, tuple[int, int]] = {}
    position = 0
    batch = max(2 * limit, 50)
    while position < len(candidates):
        if len(scores) >= limit:
            kth = sorted((s[0] for s in scores.values()), reverse=True)[limit - 1]
            if upper_bound(candidates[position]) < kth:
                break
        chunk = candidates[position : position + batch]
        position += len(chunk)
        needs_union = [a for a in chunk if a in redis_views]
        if needs_union:
            pipe = client.pipeline(transaction=False)
            for article_id in needs_union:
                pipe.pfcount(*[reads.readers_key(day, article_id) for day in redis_days])
            unions = dict(zip(needs_union, pipe.execute(), strict=True))
        else:
            unions = {}
        for article_id in chunk:
            readers = db_readers.get(article_id, 0) + redis_offsets.get(article_id, 0) + int(unions.get(article_id, 0))
            views = db_views.get(article_id, 0) + redis_views.get(article_id, 0)
            scores[article_id] = (readers, views)

    # Recency only matters among the few scored candidates: fetched for them alone.
    published_at = dict(Article.objects.filter(id__in=list(scores)).values_list("id", "published_at")) if scores else {}

    def order(article_id: int) -> tuple[int, int, float, int]:
        readers, views = scores[article_id]
        when = published_at[article_id]
        return (readers, views, when.timestamp() if when else 0.0, article_id)

    top = sorted((a for a in scores if scores[a][0] > 0 or scores[a][1] > 0), key=order, reverse=True)[:limit]
    articles = {a.pk: a for a in Article.objects.filter(id__in=top).select_related("section")}
    result = []
    for article_id in top:
        article = articles.get(article_id)
        if article is None:
            continue
        article.readers, article.views = scores[article_id]  # type: ignore[attr-defined]
        result.append(article)
    return result
