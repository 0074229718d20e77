"""Seeding for the send benchmark with personal editions (`send_bench.py --personal-history 0.3`):
an edition of 10 stories over six sections, 12 more stories read in its window (the candidates a
reader who read some of the edition gets instead), and reader profiles for a share of the
subscribers: clicks spread over all sections (each reader's leaning drawn over the six sections
and six tags, stored as newsletter.personal.profiles stores it), impressions, and site reads of
the edition's own top stories for about one reader in ten.

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
    sections = [
        Section.objects.get_or_create(slug=f"b-{slug}", defaults={"name": f"{name} (قياس)"})[0]
        for name, slug in SECTIONS
    ]
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
        # Per reader, drawn in correlated subqueries (WHERE s.id > 0) so each reader draws their own:
        # a leaning as newsletter.personal.profiles stores one (their most clicked section at 4,
        # for half of them a second at 2, for a third their top tag at 1), every section shown
        # daily (so the sections they never click are dampened), and site reads: the edition's
        # first story read by 6 %, the second by 3 %, the third by 1.5 % (reads follow the ranking),
        # plus older articles that are no candidate any more.
        cursor.execute(
            f"""
            WITH drawn AS (
                SELECT s.id,
                       (%s::int[])[1 + floor(random() * 6)::int] AS first,
                       (%s::int[])[1 + floor(random() * 6)::int] AS second,
                       random() < 0.5 AS has_second,
                       (%s::int[])[1 + floor(random() * 6)::int] AS tag,
                       random() < 0.3 AS has_tag,
                       random() < 0.06 AS read1, random() < 0.03 AS read2, random() < 0.015 AS read3
                  FROM {subscribers} s
                 WHERE s.status = 'active' AND random() < %s
            ), shaped AS (
                SELECT id,
                       CASE WHEN has_second AND second <> first
                            THEN jsonb_build_object(first::text, 4, second::text, 2)
                            ELSE jsonb_build_object(first::text, 4) END AS sections,
                       CASE WHEN has_tag THEN jsonb_build_object(tag::text, 1) ELSE '{{}}'::jsonb END AS tags,
                       to_jsonb(array_remove(ARRAY[
                           CASE WHEN read1 THEN %s END, CASE WHEN read2 THEN %s END, CASE WHEN read3 THEN %s END
                       ], NULL)) AS seen
                  FROM drawn
            )
            INSERT INTO {table} (subscriber_id, sections, tags, shown, seen, as_of, shown_through, list_key)
            SELECT id, sections, tags, %s::jsonb, seen, %s, 0, left(md5(sections::text || tags::text), 16)
              FROM shaped
            """,
            [
                section_ids,
                section_ids,
                tag_ids,
                share,
                own[0],
                own[1],
                own[2],
                json.dumps({str(s): 12 for s in section_ids}),
                now,
            ],
        )
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(
            f"SELECT count(*), count(DISTINCT list_key), count(*) FILTER (WHERE seen <> '[]'::jsonb) FROM {table}"
        )
        profiles, leanings, readers_who_read = cursor.fetchone()
    print(
        json.dumps(
            {
                "profiles": profiles,
                "leanings": leanings,
                "read_some_of_the_edition": readers_who_read,
                "edition": digest.pk,
                "candidates": len(stories),
            }
        ),
        flush=True,
    )
    return digest.pk
