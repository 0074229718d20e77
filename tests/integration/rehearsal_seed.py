"""The rehearsal's newsroom (issue 26): a section, twelve published stories read on the day before
the edition (so the morning's most-read list has them), and N active daily subscribers in the
newsroom's time zone. Run on the web host, with the app hosts' environment, after `migrate`:

    python -m tests.integration.rehearsal_seed --subscribers 20000 --day 2030-03-04

Prints the stories' page paths as JSON (the readers ask for them). The days are given, never
taken from the clock: the edition the beat composes at 07:00 the next morning ranks these reads.
"""

from __future__ import annotations

import argparse
import json
import os
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import django

STORIES = 12


def seed(*, subscribers: int, day: date) -> list[str]:
    from django.conf import settings

    from articles.content.models import Article, Section
    from articles.reading.models import ArticleDailyStats
    from bench.send_bench import _insert_subscribers_sql

    zone = ZoneInfo(settings.TIME_ZONE)
    section = Section.objects.get_or_create(slug="rehearsal", defaults={"name": "أخبار البروفة"})[0]
    paths = []
    for number in range(STORIES):
        article = Article.objects.create(
            title=f"خبر البروفة رقم {number + 1} عن المدينة",
            slug=f"rehearsal-{number + 1}",
            summary=f"ملخص خبر البروفة {number + 1}.",
            body=f"<p>نص خبر البروفة {number + 1}.</p>",
            section=section,
            status=Article.Status.PUBLISHED,
            published_at=datetime.combine(day, time(8, number), tzinfo=zone),
        )
        for offset in (0, 1):  # the day before the edition and its own morning
            ArticleDailyStats.objects.create(
                article=article, day=day + timedelta(days=offset), views=500 - number, readers=400 - 10 * number
            )
        paths.append(article.get_absolute_url())
    _insert_subscribers_sql(subscribers)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, required=True)
    parser.add_argument("--day", type=date.fromisoformat, required=True)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    print(json.dumps(seed(subscribers=args.subscribers, day=args.day)))


if __name__ == "__main__":
    main()
