"""Signup POST cost in-process: SQL statements of one signup and the mean time per request
through Django's test client (CSRF enforced, distinct new addresses, Celery not eager, so each
signup publishes its task to the broker). `PROFILE=1` adds a pyinstrument profile (pyinstrument
is a profiling tool: install it into .venv by hand, it is not a requirement).

    (source bench/common.sh  # DEBUG=0 and its throw-away production settings
     ALLOWED_HOSTS=testserver SECURE_SSL_REDIRECT=0 CELERY_TASK_ALWAYS_EAGER=0 \\
        SIGNUP_SUBMISSIONS_PER_IP_PER_HOUR=100000000 DATABASE_URL=postgres://.../h_subs \\
        REDIS_URL=redis://127.0.0.1:6379/12 .venv/bin/python bench/signup_inprocess.py [N])
"""

from __future__ import annotations

import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    browser = Client(HTTP_USER_AGENT=UA)
    page = browser.get("/newsletter/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=UA)
    client.cookies["csrftoken"] = browser.cookies["csrftoken"].value
    stamp = int(time.time() * 1000)

    def post(n: int) -> int:
        return client.post(
            "/newsletter/",
            {
                "csrfmiddlewaretoken": token,
                "email": f"inproc-{stamp}-{n}@example.com",
                "frequency": "daily",
                "source": "article_box",
            },
        ).status_code

    assert post(-1) == 200  # warm-up
    with CaptureQueriesContext(connection) as queries:
        assert post(-2) == 200
    print(f"SQL statements for one new-address signup: {len(queries.captured_queries)}")
    for query in queries.captured_queries:
        print("   ", query["sql"][:120])
    started = time.perf_counter()
    for n in range(count):
        assert post(n) == 200
    print(f"{count} signups: {(time.perf_counter() - started) / count * 1000:.2f} ms each")
    # New against known (issue 23: the answer's time must not tell them apart): alternating, medians.
    from newsletter.subscribers.models import Subscriber

    known = f"inproc-{stamp}-known@example.com"
    Subscriber.objects.create(email=known, status=Subscriber.Status.ACTIVE)
    times: dict[str, list[float]] = {"new": [], "known active": []}
    for n in range(count):
        for label, address in (("new", f"inproc-{stamp}-n{n}@example.com"), ("known active", known)):
            clock = time.perf_counter()
            client.post("/newsletter/", {"csrfmiddlewaretoken": token, "email": address, "frequency": "daily"})
            times[label].append(time.perf_counter() - clock)
    for label, values in times.items():
        print(f"median {label}: {statistics.median(values) * 1000:.2f} ms")
    if os.environ.get("PROFILE"):
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
        for n in range(count, 2 * count):
            post(n)
        profiler.stop()
        print(profiler.output_text(color=False))


if __name__ == "__main__":
    main()
