"""Benchmark: the subscriber admin list with 1,000,000 subscribers on PostgreSQL.

Loads the rows once with generate_series (server-side, about a minute), then times the admin
changelist through Django's test client as a logged-in superuser: default page, filtered by
status (common and rare), by topic, searched by exact address and by prefix, plus the first
(uncached) per-status counts. Prints median/max milliseconds and SQL queries per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_subs REDIS_URL=redis://127.0.0.1:6379/12 \
        .venv/bin/python bench/subscriber_admin.py [--rows 1000000] [--runs 7]

It refuses to run on SQLite, and only adds rows when fewer than --rows exist.
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

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

LOAD_SQL = """
INSERT INTO newsletter_subscriber
  (uuid, email, name, status, frequency, language, source, consent_text_version,
   signup_ip_hash, signup_user_agent_hash, confirm_ip_hash, created_at, updated_at, confirmed_at)
SELECT md5('bench' || g)::uuid,
       'sub' || g || '@example' || (g %% 97) || '.com',
       '',
       CASE WHEN g %% 100 < 85 THEN 'active' WHEN g %% 100 < 90 THEN 'pending'
            WHEN g %% 100 < 98 THEN 'unsubscribed' WHEN g %% 100 < 99 THEN 'bounced' ELSE 'complained' END,
       CASE WHEN g %% 4 = 0 THEN 'weekly' ELSE 'daily' END,
       CASE WHEN g %% 10 = 0 THEN 'en' ELSE 'ar' END,
       CASE WHEN g %% 3 = 0 THEN 'article_box' WHEN g %% 7 = 0 THEN 'import' ELSE 'form' END,
       '2026-11', '', '', '',
       now() - (g || ' seconds')::interval, now(), now() - (g || ' seconds')::interval
FROM generate_series(%s, %s) AS g
"""


def load(rows: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM newsletter_subscriber WHERE email LIKE 'sub%%@example%%'")
        have = cursor.fetchone()[0]
        if have >= rows:
            print(f"{have} bench subscribers already loaded")
            return
        started = time.perf_counter()
        cursor.execute(LOAD_SQL, [have + 1, rows])
        cursor.execute("SELECT id FROM articles_section ORDER BY id LIMIT 1")
        section = cursor.fetchone()
        if section:
            # One subscriber in five follows one topic.
            cursor.execute(
                "INSERT INTO newsletter_subscriber_topics (subscriber_id, section_id) "
                "SELECT id, %s FROM newsletter_subscriber WHERE id %% 5 = 0 "
                "ON CONFLICT DO NOTHING",
                [section[0]],
            )
        cursor.execute("ANALYZE newsletter_subscriber")
        cursor.execute("ANALYZE newsletter_subscriber_topics")
        print(f"loaded {rows - have} subscribers in {time.perf_counter() - started:.1f}s")


def time_page(client: Client, params: dict[str, str], runs: int) -> tuple[float, float, int, int]:
    client.get("/admin/newsletter/subscriber/", params)  # warm up (plans, connection)
    timings = []
    queries = 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get("/admin/newsletter/subscriber/", params)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(captured.captured_queries)
    return statistics.median(timings), max(timings), queries, len(response.content)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run this against PostgreSQL (DATABASE_URL=postgres://...)")
    call_command("migrate", verbosity=0)
    from articles.content.models import Section

    topic, _ = Section.objects.get_or_create(slug="bench-topic", defaults={"name": "قسم القياس"})
    load(args.rows)
    User = get_user_model()
    admin, _ = User.objects.get_or_create(username="bench-admin", defaults={"is_staff": True, "is_superuser": True})
    client = Client()
    client.force_login(admin)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM newsletter_subscriber")
        total = cursor.fetchone()[0]
    print(f"subscribers: {total}; database: {settings.DATABASES['default']['NAME']}")

    from newsletter.admin.subscribers import STATUS_COUNTS_CACHE_KEY, status_counts

    cache.delete(STATUS_COUNTS_CACHE_KEY)
    started = time.perf_counter()
    status_counts()
    print(f"per-status counts, uncached (one GROUP BY): {(time.perf_counter() - started) * 1000:.0f} ms")

    cases = [
        ("default (newest first)", {}),
        ("status = active", {"status__exact": "active"}),
        ("status = complained (rare)", {"status__exact": "complained"}),
        ("frequency = weekly + language = en", {"frequency__exact": "weekly", "language__exact": "en"}),
        ("topic", {"topic": str(topic.pk)}),
        ("search exact address", {"q": "sub654321@example56.com"}),
        ("search prefix 'sub65432'", {"q": "sub65432"}),
        ("page 200", {"p": "200"}),
    ]
    print(f"{'page':40} {'median ms':>10} {'max ms':>8} {'queries':>8} {'bytes':>8}")
    for label, params in cases:
        median, worst, queries, size = time_page(client, params, args.runs)
        print(f"{label:40} {median:10.1f} {worst:8.1f} {queries:8d} {size:8d}")


if __name__ == "__main__":
    main()
