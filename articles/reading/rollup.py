"""The roll-up of the Redis read counters (articles.reading.reads) into ArticleDailyStats.

Guarantees:

* `flush_to_database` writes absolute per-day values with GREATEST(existing, new): running it
  twice, or two at once, never double-counts. Deleted articles are dropped. Every run also
  rebuilds the beacon's index of published articles.
* What a Redis restart (without persistence) loses: the reads counted since the last roll-up
  (5 minutes by default). The next roll-up notices the restart (the `reads:epoch` marker is
  gone) and first loads the database figures of the retained days back into Redis (views as
  counters, readers as per-day offsets), so counting continues from the rolled-up totals instead
  of restarting at zero; a reader seen both before and after the restart may count twice that day.
"""

from __future__ import annotations

import logging
import secrets
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from articles.content.published import rebuild_index
from sitewide.redis_client import get_redis

from . import conf
from .reads import EPOCH_KEY, key_ttl_seconds, offsets_key, readers_key, today, views_key

log = logging.getLogger(__name__)


def retained_days(*, now: datetime | None = None) -> list[date]:
    """Days whose counters Redis still holds, newest first."""
    current = timezone.localdate(now) if now else today()
    return [current - timedelta(days=i) for i in range(conf.settings().READS_RETENTION_DAYS)]


RESTORING = "restoring"
# How long a restore may hold the other roll-ups back; after it (the restoring process died) the
# next roll-up restores again.
RESTORE_HOLD_SECONDS = 300


def _restore_after_restart(days: list[date]) -> bool:
    """Redis lost its data (no epoch marker): load rolled-up figures back as counters/offsets.
    False while another roll-up is restoring: this one must not write then, or the restore would
    read rows it had just written and add them to the counters a second time (double counts)."""
    from .models import ArticleDailyStats

    client = get_redis()
    if not client.set(EPOCH_KEY, RESTORING, nx=True, ex=RESTORE_HOLD_SECONDS):
        marker = client.get(EPOCH_KEY)
        return marker not in (RESTORING, RESTORING.encode())
    rows = ArticleDailyStats.objects.filter(day__in=days).values_list("article_id", "day", "views", "readers")
    pipe = client.pipeline(transaction=False)
    ttl = key_ttl_seconds()
    touched = set()
    for article_id, day, views, readers in rows.iterator(chunk_size=5000):
        pipe.hincrby(views_key(day), str(article_id), views)
        pipe.hset(offsets_key(day), str(article_id), readers)
        touched.add(day)
    for day in touched:
        pipe.expire(views_key(day), ttl)
        pipe.expire(offsets_key(day), ttl)
    pipe.execute()
    client.set(EPOCH_KEY, secrets.token_hex(8))  # restored: the other roll-ups may write again
    if touched:
        log.warning(
            "no read-counter epoch in Redis (first roll-up, or Redis lost its data): "
            "restored %d day(s) of counters from the database",
            len(touched),
        )
    return True


def read_day(day: date) -> dict[int, tuple[int, int]]:
    """{article_id: (views, readers)} for one day, from Redis."""
    client = get_redis()
    pipe = client.pipeline(transaction=False)
    pipe.hgetall(views_key(day))
    pipe.hgetall(offsets_key(day))
    raw_views, raw_offsets = pipe.execute()
    if not raw_views:
        return {}
    ids = [int(k) for k in raw_views]
    pipe = client.pipeline(transaction=False)
    for article_id in ids:
        pipe.pfcount(readers_key(day, article_id))
    counts = pipe.execute()
    result = {}
    for article_id, readers in zip(ids, counts, strict=True):
        offset = int(raw_offsets.get(str(article_id).encode(), 0))
        result[article_id] = (int(raw_views[str(article_id).encode()]), int(readers) + offset)
    return result


_UPSERT = {
    "postgresql": (
        "INSERT INTO {table} (article_id, day, views, readers) VALUES {values} "
        "ON CONFLICT (article_id, day) DO UPDATE SET "
        "views = GREATEST({table}.views, EXCLUDED.views), "
        "readers = GREATEST({table}.readers, EXCLUDED.readers)"
    ),
    # SQLite's scalar MAX() is GREATEST; ON CONFLICT upsert needs SQLite 3.24+.
    "sqlite": (
        "INSERT INTO {table} (article_id, day, views, readers) VALUES {values} "
        "ON CONFLICT (article_id, day) DO UPDATE SET "
        "views = MAX({table}.views, excluded.views), "
        "readers = MAX({table}.readers, excluded.readers)"
    ),
}


def upsert_stats(rows: list[tuple[int, date, int, int]], *, chunk: int = 500) -> None:
    """Write absolute (article, day, views, readers), keeping the larger of stored and new."""
    from .models import ArticleDailyStats

    if not rows:
        return
    template = _UPSERT.get(connection.vendor)
    if template is None:
        raise NotImplementedError(f"read roll-up has no upsert for {connection.vendor}")
    table = connection.ops.quote_name(ArticleDailyStats._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), chunk):
            part = rows[start : start + chunk]
            values = ", ".join(["(%s, %s, %s, %s)"] * len(part))
            params: list[int | str | date] = []
            for article_id, day, views, readers in part:
                params.extend([article_id, day.isoformat() if connection.vendor == "sqlite" else day, views, readers])
            cursor.execute(template.format(table=table, values=values), params)


def flush_to_database(*, now: datetime | None = None) -> int:
    """Roll the Redis counters of the retained days into ArticleDailyStats; rebuild the beacon
    index. Returns the number of (article, day) rows written. Idempotent."""
    from articles.content.models import Article

    days = retained_days(now=now)
    if not _restore_after_restart(days):
        log.info("read roll-up skipped: another roll-up is restoring the counters")
        return 0
    collected: list[tuple[int, date, int, int]] = []
    for day in days:
        for article_id, (views, readers) in read_day(day).items():
            collected.append((article_id, day, views, readers))
    existing = (
        set(Article.objects.filter(id__in={row[0] for row in collected}).values_list("id", flat=True))
        if collected
        else set()
    )
    rows = [row for row in collected if row[0] in existing]  # deleted articles are dropped
    upsert_stats(rows)
    rebuild_index()
    return len(rows)
