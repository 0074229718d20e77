"""Builders for the sending tests (unit and integration): an approved edition with published
stories, and active subscribers created in bulk (100,000 rows in seconds)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, timedelta

from django.utils import timezone

from articles.content.models import Article, Section
from newsletter.editions.models import Digest, DigestItem
from newsletter.subscribers.models import Subscriber

_numbers = itertools.count(1)


def make_section(slug: str, name: str) -> Section:
    return Section.objects.get_or_create(slug=slug, defaults={"name": name})[0]


def make_digest(
    *,
    stories: int = 5,
    frequency: str = "daily",
    status: str = Digest.Status.APPROVED,
    section: Section | None = None,
    sections: list[Section] | None = None,
) -> Digest:
    """An edition with `stories` published articles (spread over `sections` when given)."""
    number = next(_numbers)
    now = timezone.now()
    digest = Digest.objects.create(
        frequency=frequency,
        edition_date=date(2030, 1, 1) + timedelta(days=number),
        period_start=now - timedelta(days=1),
        period_end=now,
        status=status,
        subject=f"الأكثر قراءة {number}",
    )
    token = uuid.uuid4().hex[:12]  # unique across processes (benchmarks reuse a database)
    pool = sections or [section or make_section("politics", "سياسة")]
    for position in range(stories):
        article = Article.objects.create(
            title=f"خبر {number}-{position} عن الأحداث",
            slug=f"story-{token}-{position}",
            summary=f"ملخص الخبر {position}.",
            section=pool[position % len(pool)],
            status=Article.Status.PUBLISHED,
            published_at=now - timedelta(hours=2),
        )
        DigestItem.objects.create(digest=digest, article=article, position=position)
    return digest


def make_subscribers(
    count: int,
    *,
    frequency: str = "daily",
    status: str = Subscriber.Status.ACTIVE,
    language: str = "ar",
    prefix: str = "reader",
) -> list[int]:
    """`count` subscribers in bulk; returns their ids."""
    now = timezone.now()
    start = next(_numbers) * 1_000_000
    rows = [
        Subscriber(
            email=f"{prefix}{start + i}@example.com",
            status=status,
            frequency=frequency,
            language=language,
            confirmed_at=now,
        )
        for i in range(count)
    ]
    created = Subscriber.objects.bulk_create(rows, batch_size=5000)
    if created and created[0].pk is None:  # backends without RETURNING
        return list(Subscriber.objects.filter(email__startswith=prefix).values_list("id", flat=True))
    return [sub.pk for sub in created]
