"""Seeding for the send benchmark with personal editions (`send_bench.py --personal-history 0.3`):
an edition of 10 stories over six sections, 12 more stories read in its window (the candidates a
reader who read some of the edition gets instead), and reader profiles for a share of the
subscribers: clicks over the last 30 days spread over all sections (decayed weights on two to four
sections and a tag or two, rounded as newsletter.personal.profiles rounds them), impressions, and
for a fifth of them one to three of the edition's own stories already read on the site.

Profiles are written with one INSERT ... SELECT (300,000 in seconds), in the shape
newsletter.personal.profiles.build writes them; the ranking and the send read them as they read
real ones. Deterministic for a given seed (setseed)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

SECTIONS = [
    ("سياسة", "politics"),
    ("اقتصاد", "economy"),
    ("رياضة", "sport"),
    ("ثقافة", "culture"),
    ("علوم", "science"),
    ("صحة", "health"),
]
OWN_STORIES = 10
EXTRA_STORIES = 12


def seed(*, share: float, seed_value: float = 0.42) -> int:
    """The edition (approved) with its candidates and the profiles; returns the edition's id."""
    from django.db import connection
    from django.utils import timezone

    from articles.content.models import Article, Section, Tag
    from articles.reading.models import ArticleDailyStats
    from newsletter.editions.models import Digest, DigestItem
    from newsletter.personal.models import ReaderEvent, ReaderProfile
    from newsletter.subscribers.models import Subscriber

    ReaderProfile.objects.all().delete()
    ReaderEvent.objects.all().delete()
    now = timezone.now()
    sections = [Section.objects.get_or_create(slug=f"b-{slug}", defaults={"name": name})[0] for name, slug in SECTIONS]
    tags = [
        Tag.objects.get_or_create(key=f"bench-tag-{i}", defaults={"name": f"وسم {i}", "slug": f"bench-tag-{i}"})[0]
        for i in range(6)
    ]
    token = uuid.uuid4().hex[:12]
    stories = []
    for position in range(OWN_STORIES + EXTRA_STORIES):
        story = Article.objects.create(
            title=f"خبر القياس {position} عن الأحداث",
            slug=f"story-{token}-{position}",
            summary=f"ملخص الخبر {position}.",
            section=sections[position % len(sections)],
            status=Article.Status.PUBLISHED,
            published_at=now - timedelta(hours=3),
        )
        story.tags.add(tags[position % len(tags)])
        ArticleDailyStats.objects.create(
            article=story, day=timezone.localdate(now), views=4000 - position * 150, readers=2000 - position * 75
        )
        stories.append(story)
    digest = Digest.objects.create(
        frequency="daily",
        edition_date=now.date() + timedelta(days=3650 + Digest.objects.count()),
        period_start=now - timedelta(days=1),
        period_end=now + timedelta(minutes=5),
        status=Digest.Status.APPROVED,
        subject="",
    )
    for position, story in enumerate(stories[:OWN_STORIES], start=1):
        DigestItem.objects.create(digest=digest, article=story, position=position)
    own = [story.pk for story in stories[:OWN_STORIES]]
    section_ids = [section.pk for section in sections]
    tag_ids = [tag.pk for tag in tags]
    table = ReaderProfile._meta.db_table
    subscribers = Subscriber._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [seed_value])
        # Correlated subqueries (WHERE s.id > 0), so each reader draws their own. Per reader: weights on 2-4 random sections and 0-2 tags (decayed clicks, tenths), a few
        # impressions of every section, and for one reader in five 1-3 of the edition's stories read.
        cursor.execute(
            f"""
            INSERT INTO {table} (subscriber_id, sections, tags, shown, seen, as_of, shown_through)
            SELECT s.id,
                   (SELECT jsonb_object_agg(x.sec::text, round((0.3 + random() * 3)::numeric, 1))
                      FROM (SELECT unnest(%s::int[]) AS sec WHERE s.id > 0 ORDER BY random() LIMIT 2 + floor(random() * 3)::int) x),
                   COALESCE((SELECT jsonb_object_agg(y.tag::text, round((0.2 + random())::numeric, 1))
                      FROM (SELECT unnest(%s::int[]) AS tag WHERE s.id > 0 ORDER BY random() LIMIT floor(random() * 3)::int) y),
                      '{{}}'::jsonb),
                   (SELECT jsonb_object_agg(z.sec::text, floor(random() * 8)) FROM unnest(%s::int[]) AS z(sec) WHERE s.id > 0),
                   CASE WHEN random() < 0.2
                        THEN (SELECT jsonb_agg(w.a) FROM (SELECT unnest(%s::int[]) AS a WHERE s.id > 0 ORDER BY random()
                              LIMIT 1 + floor(random() * 3)::int) w)
                        ELSE '[]'::jsonb END,
                   %s, 0
              FROM {subscribers} s
             WHERE s.status = 'active' AND random() < %s
            """,
            [section_ids, tag_ids, section_ids, own, now, share],
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"SELECT count(*) FROM {table}")
        profiles = cursor.fetchone()[0]
    print(json.dumps({"profiles": profiles, "edition": digest.pk, "candidates": len(stories)}), flush=True)
    return digest.pk
