"""Builders shared by the digest tests: published articles with read statistics, subscribers,
an edition composed from them. Reads go into ArticleDailyStats (the ranking reads the database
for days Redis does not hold, and each test starts with an empty Redis)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.text import slugify

from articles.content.models import Article, Section, Tag
from articles.reading.models import ArticleDailyStats
from newsletter.subscribers.models import Subscriber

_counter = itertools.count(1)


def section(name: str = "سياسة", slug: str = "politics") -> Section:
    return Section.objects.get_or_create(slug=slug, defaults={"name": name})[0]


def article(
    title: str,
    *,
    readers: int,
    at: datetime | None = None,
    sec: Section | None = None,
    tags: tuple[str, ...] = (),
    image_url: str = "",
    **fields: object,
) -> Article:
    number = next(_counter)
    at = at or timezone.now()
    item = Article.objects.create(
        title=title,
        slug=f"{slugify(title, allow_unicode=True)[:200]}-{number}",
        summary=fields.pop("summary", f"ملخص الخبر رقم {number} عن تطورات اليوم."),
        section=sec or section(),
        status=Article.Status.PUBLISHED,
        published_at=at - timedelta(hours=2),
        image_url=image_url,
        **fields,
    )
    for name in tags:
        tag, _ = Tag.objects.get_or_create(
            key=name, defaults={"name": name.replace("_", " "), "slug": f"t-{next(_counter)}"}
        )
        item.tags.add(tag)
    if readers:
        ArticleDailyStats.objects.create(article=item, day=timezone.localdate(at), views=readers * 2, readers=readers)
    return item


def ranked_articles(count: int, *, at: datetime | None = None, prefix: str = "خبر") -> list[Article]:
    """`count` articles, the first the most read."""
    return [article(f"{prefix} {i} عن الأحداث", readers=1000 - i * 10, at=at) for i in range(count)]


def subscriber(
    email: str,
    *,
    status: str = Subscriber.Status.ACTIVE,
    frequency: str = "daily",
    language: str = "ar",
    topics: tuple[Section, ...] = (),
) -> Subscriber:
    sub = Subscriber.objects.create(
        email=email,
        status=status,
        frequency=frequency,
        language=language,
        confirmed_at=timezone.now() if status == Subscriber.Status.ACTIVE else None,
    )
    if topics:
        sub.topics.set(topics)
    return sub


def local_seven(zone: str, ticks: list[datetime]) -> tuple[datetime, int]:
    """The hourly tick at which `zone`'s clock shows 07:00, and the zone's UTC offset then (in
    minutes east), from the time zone database: a test written in winter must not assume London
    at +00:00 or Casablanca at +01:00 (summer time, Ramadan)."""
    [tick] = [t for t in ticks if t.astimezone(ZoneInfo(zone)).hour == 7]
    return tick, int(tick.astimezone(ZoneInfo(zone)).utcoffset().total_seconds() // 60)
