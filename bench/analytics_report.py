"""Benchmark: the edition report with 1,000,000 deliveries (issue 14) on PostgreSQL.

Loads once, with generate_series: 1,000,000 active subscribers, one edition of 10 stories with a
Delivery row for each (97 % delivered, 1 % bounced, 0.05 % complaints; 10 % in the hold-out
arm, 2 % in neither, the rest personal), Engagement rows for 25 % human openers and 15 %
machine-only openers, 60,000 story clicks. Then times:
- the roll-up of that edition (`rollup_edition`: one aggregate over its Delivery rows, the
  Engagement and StoryClick counts, the aggregate per arm), what beat runs every 5 minutes, and
  the per-arm aggregate (`arm_stats.engaged_by_arm`) on its own;
- the report page and its CSV through Django's test client as a superuser (the whole request:
  SQL, templates), median and max of --runs after one warm-up, with the SQL query count.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_analytics REDIS_URL=redis://127.0.0.1:6379/11 \
        .venv/bin/python bench/analytics_report.py [--rows 1000000] [--runs 20]
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

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

SUBSCRIBERS_SQL = """
INSERT INTO newsletter_subscriber
  (uuid, email, name, status, frequency, language, time_zone, source, consent_text_version,
   signup_ip_hash, signup_user_agent_hash, confirm_ip_hash, created_at, updated_at, confirmed_at)
SELECT md5('anbench' || g)::uuid, 'an' || g || '@example.com', '', 'active', 'daily', 'ar', '', 'form',
       '2026-11', '', '', '', now() - interval '200 days', now(), now() - interval '200 days'
FROM generate_series(1, %s) AS g
"""
DELIVERIES_SQL = """
INSERT INTO newsletter_delivery
  (digest_id, subscriber_id, batch, status, attempts, sent_at, esp_message_id, error,
   delivered_at, bounced_at, complained_at, arm)
SELECT %s, s.id, s.id / 1000, 'sent', 1, now(), 'bench', '',
       CASE WHEN s.id %% 100 < 97 THEN now() END,
       CASE WHEN s.id %% 100 = 99 THEN now() END,
       CASE WHEN s.id %% 2000 = 0 THEN now() END,
       CASE WHEN s.id %% 50 = 7 THEN '' WHEN s.id %% 10 = 3 THEN 'h' ELSE 'p' END
FROM newsletter_subscriber s WHERE s.email LIKE 'an%%@example.com'
"""
ENGAGEMENT_SQL = """
INSERT INTO newsletter_engagement (digest_id, subscriber_id, human_open_at, machine_open_at, clicked_at)
SELECT %s, s.id,
       CASE WHEN s.id %% 100 < 25 THEN now() END,
       CASE WHEN s.id %% 100 >= 25 AND s.id %% 100 < 40 THEN now() END,
       CASE WHEN s.id %% 100 < 5 THEN now() END
FROM newsletter_subscriber s WHERE s.email LIKE 'an%%@example.com' AND s.id %% 100 < 40
"""
CLICKS_SQL = """
INSERT INTO newsletter_storyclick (digest_id, subscriber_id, article_id, position, clicked_at)
SELECT %s, s.id, (%s)[1 + s.id %% 10], 1 + s.id %% 10, now()
FROM newsletter_subscriber s WHERE s.email LIKE 'an%%@example.com' AND s.id %% 100 < 6
"""


def load(rows: int) -> int:
    from newsletter.editions.models import Digest
    from tests.integration.helpers import make_digest

    existing = Digest.objects.filter(subject="analytics bench").first()
    if existing is not None:
        print(f"bench edition {existing.pk} already loaded")
        return existing.pk
    started = time.perf_counter()
    digest = make_digest(stories=10, status=Digest.Status.SENT)
    Digest.objects.filter(pk=digest.pk).update(subject="analytics bench", sending_started_at=timezone.now())
    articles = list(digest.items.order_by("position").values_list("article_id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(SUBSCRIBERS_SQL, [rows])
        cursor.execute(DELIVERIES_SQL, [digest.pk])
        cursor.execute(ENGAGEMENT_SQL, [digest.pk])
        cursor.execute(CLICKS_SQL, [digest.pk, articles])
        for table in ("subscriber", "delivery", "engagement", "storyclick"):
            cursor.execute(f"ANALYZE newsletter_{table}")
    print(f"loaded {rows} subscribers and deliveries in {time.perf_counter() - started:.1f}s")
    return digest.pk


def timed(client: Client, url: str, runs: int) -> tuple[float, float, int]:
    client.get(url)
    timings, queries = [], 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        queries = len(captured.captured_queries)
    return statistics.median(timings), max(timings), queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("run this against PostgreSQL (DATABASE_URL=postgres://...)")
    call_command("migrate", verbosity=0)
    digest_id = load(args.rows)
    from newsletter.analytics import rollup
    from newsletter.analytics.models import EditionStats
    from newsletter.delivery.models import Delivery

    print(f"deliveries of the edition: {Delivery.objects.filter(digest_id=digest_id).count()}")
    started = time.perf_counter()
    rollup.rollup_edition(digest_id=digest_id)
    print(f"rollup_edition (beat, every 5 min): {(time.perf_counter() - started) * 1000:.0f} ms")
    from newsletter.analytics import arm_stats
    from newsletter.analytics.models import EditionArmStats

    started = time.perf_counter()
    arm_stats.engaged_by_arm(digest_id)
    print(f"  of which the aggregate per arm: {(time.perf_counter() - started) * 1000:.0f} ms")
    for row in EditionArmStats.objects.filter(digest_id=digest_id).order_by("arm"):
        print(
            f"  arm {row.arm}: recipients {row.recipients}, human openers {row.human_openers}, "
            f"clickers {row.clickers}, clicks {row.clicks}, clicks squared {row.clicks_squared}"
        )
    stats = EditionStats.objects.get(digest_id=digest_id)
    print(
        f"figures: delivered {stats.delivered}, human opens {stats.human_opens}, machine opens "
        f"{stats.machine_opens}, unique clicks {stats.unique_clicks}"
    )
    admin, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin)
    print(f"{'page':28} {'median ms':>10} {'max ms':>8} {'queries':>8}")
    for label, url in (
        ("report page", f"/admin/newsletter/digest/{digest_id}/report/"),
        ("report CSV", f"/admin/newsletter/digest/{digest_id}/report.csv"),
    ):
        median, worst, queries = timed(client, url, args.runs)
        print(f"{label:28} {median:10.1f} {worst:8.1f} {queries:8d}")


if __name__ == "__main__":
    main()
