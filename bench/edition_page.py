"""Benchmark: the edition page (the digest's admin change form) with 10 stories, as an editor.

Makes 40 published articles with reads (idempotent), an editor in the Editors group and the next
daily edition, then times GET /admin/newsletter/digest/<id>/change/ through Django's test client
(server time: view, queries, template rendering; no network, no browser). Prints the median and
max milliseconds, SQL queries and the response size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_editor REDIS_URL=redis://127.0.0.1:6379/12 \\
        .venv/bin/python bench/edition_page.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from datetime import timedelta  # noqa: E402

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from articles.content.models import Article, Section  # noqa: E402
from articles.reading.models import ArticleDailyStats  # noqa: E402
from newsletter.editions import curation  # noqa: E402
from newsletter.editions.models import Digest  # noqa: E402
from newsletter.orchestration import runs  # noqa: E402


def setup() -> int:
    call_command("migrate", verbosity=0)
    section, _ = Section.objects.get_or_create(slug="bench-politics", defaults={"name": "سياسة"})
    now = timezone.now()
    for i in range(40):
        article, created = Article.objects.get_or_create(
            slug=f"bench-edition-{i}",
            defaults={
                "title": f"عنوان خبر طويل نسبيًا رقم {i} عن تطورات الحوار الاستراتيجي بين البلدين اليوم",
                "summary": "ملخص الخبر.",
                "section": section,
                "status": Article.Status.PUBLISHED,
                "published_at": now - timedelta(hours=3),
                "image_url": f"https://cdn.example.com/img/{i}.jpg",
            },
        )
        if created:
            ArticleDailyStats.objects.create(
                article=article, day=timezone.localdate(now), views=2000 - i, readers=1000 - i
            )
    user, created = get_user_model().objects.get_or_create(username="bench-editor", defaults={"is_staff": True})
    if created:
        user.set_password("bench-editor-password")
        user.save()
    user.groups.add(Group.objects.get(name="Editors"))
    return runs.next_draft("daily").pk


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    digest_id = setup()
    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-editor"))
    url = f"/admin/newsletter/digest/{digest_id}/change/"
    response = client.get(url)  # warm-up: templates, translations, connection
    assert response.status_code == 200, response.status_code
    timings, cpu = [], []
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as queries:
            start, start_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - start) * 1000)
            # CPU time of this process: less sensitive than wall time to other load on the machine.
            cpu.append((time.process_time() - start_cpu) * 1000)
    print(
        f"edition page ({url}, {len(curation.active_items(Digest.objects.get(pk=digest_id)))} stories): "
        f"median {statistics.median(timings):.0f} ms, max {max(timings):.0f} ms (CPU median {statistics.median(cpu):.0f} ms), "
        f"{len(queries.captured_queries)} queries, {len(response.content) / 1024:.0f} KB ({args.runs} runs)"
    )


if __name__ == "__main__":
    main()
