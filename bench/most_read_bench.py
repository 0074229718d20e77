"""Benchmark articles.reading.ranking.most_read over 50,000 articles with 30 days of read statistics.

Data (rebuilt on every run, in the database named by DATABASE_URL and the Redis db of
REDIS_URL, both wiped of bench rows first):
* 50,000 published articles, one every 15 minutes (about 520 days of publishing), 5 sections.
* Reads: on each of the last 30 days, every article published in the 30 days before that day
  was read (about 2,900 articles a day), with a long-tail popularity (newer and "lucky" stories
  lead). ArticleDailyStats rows for all 30 days (what the roll-up leaves), and for the last 7
  days also the live Redis counters (views hash + one HyperLogLog per article per day).
  With --dense, every article gets a stats row on every day (1.5 million rows): the worst case.

Usage (repo root):
    (source bench/common.sh  # DEBUG=0 and its throw-away production settings
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_articles \
    REDIS_URL=redis://127.0.0.1:6379/11 .venv/bin/python bench/most_read_bench.py [--dense])
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.content.models import Article, Section  # noqa: E402
from articles.reading import reads  # noqa: E402
from articles.reading.models import ArticleDailyStats  # noqa: E402
from articles.reading.ranking import most_read  # noqa: E402
from sitewide.redis_client import get_redis  # noqa: E402

N_ARTICLES = 50_000
DAYS = 30
REDIS_DAYS = 7
SLUG_PREFIX = "bench-most-read-"


def build(dense: bool) -> None:
    rng = random.Random(42)
    now = timezone.now()
    Article.objects.filter(slug__startswith=SLUG_PREFIX).delete()
    sections = [
        Section.objects.get_or_create(slug=f"bench-{i}", defaults={"name": f"قسم اختبار {i}", "position": 90 + i})[0]
        for i in range(5)
    ]
    articles = [
        Article(
            title=f"مقال اختبار {i}",
            slug=f"{SLUG_PREFIX}{i}",
            body="<p>نص</p>",
            search_text=f"مقال اختبار {i}",
            section=sections[i % 5],
            status=Article.Status.PUBLISHED,
            published_at=now - timedelta(minutes=15 * i),
            exclude_from_digests=(i % 97 == 0),
        )
        for i in range(N_ARTICLES)
    ]
    created = Article.objects.bulk_create(articles, batch_size=5000)
    today = reads.today()
    luck = {a.pk: rng.random() ** 3 * 4 + 0.2 for a in created}
    client = get_redis()
    for key in client.scan_iter(f"{reads.PREFIX}:*"):
        client.delete(key)
    rows: list[ArticleDailyStats] = []
    pipe = client.pipeline(transaction=False)
    for days_ago in range(DAYS):
        day = today - timedelta(days=days_ago)
        day_end = now - timedelta(days=days_ago)
        for article in created:
            age = (day_end - article.published_at).total_seconds() / 86400
            if age < 0:
                continue
            if age > 30 and not dense:
                continue
            readers = max(1, int(400 * luck[article.pk] / (1 + age) ** 1.5)) if age <= 30 else 1
            views = readers + readers // 3
            rows.append(ArticleDailyStats(article_id=article.pk, day=day, views=views, readers=readers))
            if days_ago < REDIS_DAYS and age <= 30:
                ukey = reads.readers_key(day, article.pk)
                # Some readers come back on later days: ids are drawn from a per-article pool.
                pool = readers * 3
                pipe.pfadd(ukey, *[f"v{article.pk}-{rng.randrange(pool)}" for _ in range(readers)])
                pipe.hset(reads.views_key(day), str(article.pk), views)
                if len(pipe) > 2000:
                    pipe.execute()
        if len(rows) > 50_000:
            ArticleDailyStats.objects.bulk_create(rows, batch_size=10_000)
            rows = []
    pipe.execute()
    ArticleDailyStats.objects.bulk_create(rows, batch_size=10_000)
    client.set(reads.EPOCH_KEY, "bench")  # no "restore after restart" during the measurement
    with connection.cursor() as cursor:
        cursor.execute(
            "ANALYZE articles_articledailystats; ANALYZE articles_article;"
        ) if connection.vendor == "postgresql" else None


def measure(label: str, fn, runs: int = 7) -> float:
    fn()  # warm-up (connection, plan cache)
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        timings.append((time.perf_counter() - start) * 1000)
    median = statistics.median(timings)
    print(f"{label:<48} median {median:7.1f} ms   max {max(timings):7.1f} ms   ({len(result)} articles)")
    return median


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dense", action="store_true", help="a stats row for every article on every day")
    parser.add_argument("--no-build", action="store_true", help="reuse the data of the previous run")
    args = parser.parse_args()
    if not args.no_build:
        started = time.perf_counter()
        build(args.dense)
        print(f"built data in {time.perf_counter() - started:.0f} s")
    print(
        f"articles: {Article.objects.count()}, stats rows: {ArticleDailyStats.objects.count()}, vendor: {connection.vendor}"
    )
    now = timezone.now()
    section = Section.objects.get(slug="bench-2")
    measure("most_read(last 24 h, 10)", lambda: most_read(now - timedelta(hours=24), now, 10))
    measure("most_read(last 7 days, 10)", lambda: most_read(now - timedelta(days=7), now, 10))
    measure("most_read(last 30 days, 10)", lambda: most_read(now - timedelta(days=30), now, 10))
    measure(
        "most_read(last 7 days, 10, one section)",
        lambda: most_read(now - timedelta(days=7), now, 10, sections=[section]),
    )
    measure(
        "most_read(days 8-30 ago, DB only, 10)",
        lambda: most_read(now - timedelta(days=30), now - timedelta(days=8), 10),
    )


if __name__ == "__main__":
    main()
