"""Retention benchmark: what 1,000,000 delivery rows cost on disk, and how long pruning them takes.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_million REDIS_URL=redis://127.0.0.1:6379/0 \
        .venv/bin/python bench/retention_bench.py --rows 1000000 --chunk 5000

It replaces the subscribers and editions in the database it is given (use a benchmark database).
Steps: N subscribers and one sent edition with N Delivery rows (sent, 95 % delivered, an ESP
message id each) and N Receipt rows, all by INSERT ... SELECT; VACUUM ANALYZE; then:
- heap, index and total size of the delivery and receipt tables (pg_relation_size,
  pg_indexes_size, pg_total_relation_size);
- newsletter.retention.pruning.prune(): the freeze (final roll-up and frozen report) and the
  chunked delete, with the time of every chunk (each its own transaction: how long a chunk
  holds its row locks);
- for comparison, the same rows copied into a table partitioned by month (PostgreSQL
  declarative partitioning) with the same indexes: DETACH PARTITION + DROP TABLE of that month.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("SECRET_KEY", "retention-bench-only-" + "x" * 40)
os.environ.setdefault("HASH_KEY", "retention-bench-hash-key-" + "y" * 40)

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.send_bench import prepare  # noqa: E402
from newsletter.delivery.models import Delivery, Receipt  # noqa: E402
from newsletter.editions.models import Digest  # noqa: E402
from newsletter.retention import pruning  # noqa: E402

MB = 1024 * 1024


def fill(digest_id: int, sent_long_ago: str) -> None:
    delivery, receipt = Delivery._meta.db_table, Receipt._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO {delivery} (digest_id, subscriber_id, batch, status, attempts, claimed_at, queued_at,
                    sending_at, sent_at, esp_message_id, error, delivered_at)
                SELECT %s, s.id, (ROW_NUMBER() OVER (ORDER BY s.id) - 1) / 1000, 'sent', 1, %s, %s, %s, %s,
                       '<' || md5(s.id::text) || '@mg.example.com>', '',
                       CASE WHEN s.id %% 20 = 0 THEN NULL ELSE %s::timestamptz END
                FROM newsletter_subscriber s""",
            [digest_id, *[sent_long_ago] * 5],
        )
        cursor.execute(
            f"""INSERT INTO {receipt} (digest_id, subscriber_id, frequency, edition_date)
                SELECT %s, s.id, 'daily', d.edition_date FROM newsletter_subscriber s, newsletter_digest d
                WHERE d.id = %s""",
            [digest_id, digest_id],
        )
    connection.cursor().execute(f"VACUUM ANALYZE {delivery}")
    connection.cursor().execute(f"VACUUM ANALYZE {receipt}")


def sizes(table: str) -> tuple[float, float, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(%s), pg_indexes_size(%s), pg_total_relation_size(%s)", [table, table, table]
        )
        heap, indexes, total = cursor.fetchone()
    return heap / MB, indexes / MB, total / MB


def partition_drop(digest_id: int) -> tuple[float, float]:
    """Copy the edition's rows into a monthly partition with the same indexes; time DETACH + DROP.
    Returns (copy seconds, detach+drop seconds)."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_delivery_part CASCADE")
        cursor.execute(
            "CREATE TABLE bench_delivery_part (LIKE newsletter_delivery INCLUDING DEFAULTS) PARTITION BY RANGE (sent_at)"
        )
        cursor.execute(
            "CREATE TABLE bench_delivery_part_m PARTITION OF bench_delivery_part "
            "FOR VALUES FROM ('2000-01-01') TO ('2100-01-01')"
        )
        started = time.perf_counter()
        cursor.execute(
            "INSERT INTO bench_delivery_part SELECT * FROM newsletter_delivery WHERE digest_id = %s", [digest_id]
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_delivery_part (digest_id, subscriber_id, sent_at)")
        cursor.execute("CREATE INDEX ON bench_delivery_part (digest_id, batch)")
        cursor.execute("CREATE INDEX ON bench_delivery_part (subscriber_id)")
        copied = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute("ALTER TABLE bench_delivery_part DETACH PARTITION bench_delivery_part_m")
        cursor.execute("DROP TABLE bench_delivery_part_m")
        dropped = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_delivery_part")
    return copied, dropped


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--no-partition", action="store_true")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("PostgreSQL only (table sizes, partitioning)")

    digest_id = prepare(args.rows)
    long_ago = timezone.now() - timedelta(days=120)
    Digest.objects.filter(id=digest_id).update(
        status=Digest.Status.SENT, sending_started_at=long_ago, sent_at=long_ago, audience_count=args.rows
    )
    started = time.perf_counter()
    fill(digest_id, long_ago.isoformat())
    print(f"inserted {args.rows} deliveries and receipts in {time.perf_counter() - started:.1f}s", flush=True)
    per_million = 1_000_000 / args.rows
    for table in (Delivery._meta.db_table, Receipt._meta.db_table):
        heap, indexes, total = (value * per_million for value in sizes(table))
        print(f"{table} per 1,000,000 rows: heap {heap:.0f} MB, indexes {indexes:.0f} MB, total {total:.0f} MB")

    if not args.no_partition:
        copied, dropped = partition_drop(digest_id)
        print(f"partitioned copy: insert + 3 indexes {copied:.1f}s; DETACH + DROP of the month {dropped * 1000:.0f} ms")

    chunk_times: list[float] = []
    original = pruning._delete_chunk

    def timed(*a: object, **kw: object) -> int:
        begun = time.perf_counter()
        deleted = original(*a, **kw)  # type: ignore[arg-type]
        chunk_times.append(time.perf_counter() - begun)
        return deleted

    pruning._delete_chunk = timed  # type: ignore[assignment]
    now = timezone.now()
    started = time.perf_counter()
    pruning.freeze(digest_id=digest_id, now=now)
    frozen = time.perf_counter() - started
    result = pruning.prune(now=now, chunk=args.chunk)
    total = time.perf_counter() - started
    print(f"freeze (final roll-up + frozen report): {frozen:.1f}s")
    print(
        f"prune: {result.deliveries} deliveries + {result.receipts} receipts in {result.chunks} chunks of "
        f"{args.chunk}, {total:.1f}s in all ({(args.rows * 2) / max(total - frozen, 0.001):,.0f} rows/s deleted)"
    )
    if chunk_times:
        ordered = sorted(chunk_times)
        print(
            f"chunk transaction: median {statistics.median(ordered) * 1000:.0f} ms, "
            f"p99 {ordered[int(len(ordered) * 0.99) - 1] * 1000:.0f} ms, max {ordered[-1] * 1000:.0f} ms"
        )
    heap, indexes, total_size = sizes(Delivery._meta.db_table)
    print(f"after the prune, before VACUUM: delivery heap {heap:.0f} MB, indexes {indexes:.0f} MB")
    connection.cursor().execute(f"VACUUM {Delivery._meta.db_table}")
    heap, indexes, total_size = sizes(Delivery._meta.db_table)
    print(f"after VACUUM: delivery heap {heap:.0f} MB, indexes {indexes:.0f} MB (space kept for reuse)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        print(f"database size now: {cursor.fetchone()[0]}")
    os.system("uptime")


if __name__ == "__main__":
    main()
