"""Where the time of a 1,000,000-recipient dispatch snapshot goes, step by step.

Run after `bench/send_bench.py esp --subscribers N` on the same database (it leaves N active
subscribers and one sent edition). In one transaction that is rolled back at the end, it adds a
second edition and runs the snapshot (newsletter.delivery.dispatch._snapshot_audience) timing each
of its statements, then the deferred foreign-key checks a commit would run (SET CONSTRAINTS ALL
IMMEDIATE), and prints the milliseconds of each. Nothing is left behind. PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_send_1m REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/snapshot_breakdown.py
"""

from __future__ import annotations

import os
import re
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from newsletter.delivery import dispatch  # noqa: E402
from newsletter.editions.models import Digest  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    assert connection.vendor == "postgresql", "PostgreSQL only"
    sent = Digest.objects.order_by("id").last()
    assert sent is not None, "run bench/send_bench.py on this database first"
    timings: list[tuple[str, float]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            target = re.search(r"INSERT INTO (\S+)", sql)
            timings.append((target[1] if target else sql.split()[0], (time.perf_counter() - start) * 1000))

    rows = 0
    try:
        with transaction.atomic():
            second = Digest.objects.create(
                frequency=sent.frequency,
                edition_date=sent.edition_date + timedelta(days=1),
                period_start=sent.period_start + timedelta(days=1),
                period_end=sent.period_end + timedelta(days=1),
                status=Digest.Status.SENDING,
            )
            # dispatch's own statements, timed one by one (what dispatch runs, not a copy of it)
            with connection.execute_wrapper(timed):
                rows = dispatch._snapshot_audience(
                    digest_id=second.id,
                    frequency=second.frequency,
                    edition_date=second.edition_date,
                    size=1000,
                    now=timezone.now(),
                    zones=None,
                )
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the checks a commit would run
            raise Rollback
    except Rollback:
        pass
    print(f"Delivery rows inserted: {rows:,} (rolled back)")
    for name, ms in timings:
        label = "deferred foreign-key checks" if name == "SET" else f"INSERT ... SELECT into {name}"
        print(f"{label:45} {ms:9.0f} ms")
    print(f"{'total':45} {sum(ms for _, ms in timings):9.0f} ms")


if __name__ == "__main__":
    main()
