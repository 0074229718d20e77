"""Benchmark: compose + render one digest edition with 10 stories, and render 10 segments.

Creates (once) 60 published articles over 5 sections with tags, images and read statistics for
a fixed past day, then, per run:
  compose+render  delete the bench edition, `compose.compose()` it from the most-read ranking
                  (10 stories) and `render.render_digest()` the Arabic all-sections segment
                  (templates, story view models, css-inline);
  10 segments     render the same edition for 10 distinct (language, topics) segments from
                  scratch, as a sending worker does (newsletter.delivery.batch): one
                  EditionStories loads the edition's items and previous edition once and ranks
                  each choice of sections once (most_read(sections=...), pins, removals, top-up;
                  Arabic and English readers of the same topics share it), then one render per
                  segment.
Prints median / max milliseconds over --runs (after one warm-up), the SQL queries of one
render and the HTML size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_digest REDIS_URL=redis://127.0.0.1:6379/13 \
        .venv/bin/python bench/digest_render.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.content.models import Article, Section, Tag  # noqa: E402
from articles.reading.models import ArticleDailyStats  # noqa: E402
from newsletter.clicks import targets  # noqa: E402
from newsletter.editions import compose  # noqa: E402
from newsletter.editions import segments as segment_stories  # noqa: E402
from newsletter.editions.models import Digest  # noqa: E402
from newsletter.email import render  # noqa: E402

PREFIX = "bench-digest-"
# A fixed past day, so the edition is identical every run and never meets real editions.
RUN_AT = datetime(2025, 3, 15, 7, 0, tzinfo=timezone.get_default_timezone())


def seed() -> list[Section]:
    sections = [
        Section.objects.get_or_create(slug=f"{PREFIX}s{i}", defaults={"name": f"قسم {i}", "position": 50 + i})[0]
        for i in range(5)
    ]
    if Article.objects.filter(slug__startswith=PREFIX).count() >= 60:
        return sections
    tags = [
        Tag.objects.get_or_create(key=f"{PREFIX}t{i}", defaults={"name": f"وسم رقم {i}", "slug": f"{PREFIX}t{i}"})[0]
        for i in range(20)
    ]
    day = timezone.localdate(RUN_AT)
    for i in range(60):
        article = Article.objects.create(
            title=f"وزير الخارجية يبحث مع نظيره في Washington ملف الطاقة والحوار الاستراتيجي {i}",
            slug=f"{PREFIX}{i}",
            summary="جولة جديدة من الحوار بين بغداد وواشنطن تتناول الطاقة والأمن والاستثمار، " * 3,
            section=sections[i % 5],
            status=Article.Status.PUBLISHED,
            published_at=RUN_AT - timedelta(hours=6),
            image_url=f"https://img.example.com/{i}.jpg",
            image_alt="صورة من المؤتمر الصحفي",
        )
        article.tags.set(tags[i % 20 : i % 20 + 3])
        ArticleDailyStats.objects.create(article=article, day=day, views=5000 - i * 40, readers=3000 - i * 30)
    return sections


def timed(fn, runs: int) -> tuple[float, float]:
    fn()  # warm-up: template loading and compilation
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    sections = seed()
    settings.DIGEST_TOP_N = 10

    def compose_and_render() -> None:
        Digest.objects.filter(frequency="daily", edition_date=timezone.localdate(RUN_AT)).delete()
        digest = compose.compose(frequency="daily", now=RUN_AT)
        assert digest.items.count() == 10, digest.items.count()
        rendered = render.render_digest(digest, render.Segment(language="ar"))
        assert rendered is not None
        targets.remember_targets(digest.pk, rendered.click_targets)  # as a sending worker stores them

    compose_median, compose_max = timed(compose_and_render, args.runs)
    digest = Digest.objects.get(frequency="daily", edition_date=timezone.localdate(RUN_AT))
    ids = [s.pk for s in sections]
    segments = [
        render.Segment(language=lang, section_ids=tuple(sorted(chosen)))
        for lang in ("ar", "en")
        for chosen in ((), ids[:1], ids[:2], ids[1:4], ids[2:5])
    ]

    def render_segments() -> None:
        # As a sending worker does for an edition: one EditionStories (items, previous edition,
        # one ranking per choice of sections), then one render per segment, its click targets stored.
        stories = segment_stories.EditionStories(digest)
        for segment in segments:
            rendered = render.render_segment(stories, segment)
            assert rendered is not None
            targets.remember_targets(digest.pk, rendered.click_targets)

    segments_median, segments_max = timed(render_segments, args.runs)
    with CaptureQueriesContext(connection) as queries:
        rendered = render.render_digest(digest, render.Segment(language="ar"))
    print(f"database: {connection.vendor}, runs: {args.runs}")
    print(f"compose + render, 10 stories: median {compose_median:.1f} ms, max {compose_max:.1f} ms")
    print(
        f"render 10 segments:           median {segments_median:.1f} ms, max {segments_max:.1f} ms "
        f"({segments_median / 10:.1f} ms per segment)"
    )
    with CaptureQueriesContext(connection) as topic_queries:
        render.render_segment(segment_stories.EditionStories(digest), segments[3])
    print(f"one render: {len(queries)} SQL queries, HTML {len(rendered.html.encode()) / 1024:.1f} KB")
    print(f"one topic segment (own ranking + render): {len(topic_queries)} SQL queries")


if __name__ == "__main__":
    main()
