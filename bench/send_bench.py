"""Sending benchmark: dispatch an edition to N active subscribers and time it until the last
recipient is accepted by the ESP, with 2 real Celery worker processes.

    # batch path (Mailgun API emulator), PostgreSQL:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/h_sending REDIS_URL=redis://127.0.0.1:6379/14 \
        .venv/bin/python bench/send_bench.py esp --subscribers 100000 --port 8401
    # a breaking-news alert instead of an edition (every subscriber opted into alerts):
    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/send_bench.py esp --alert --subscribers 100000 --port 8401
    # per-recipient path (SMTP to a local aiosmtpd sink):
    DATABASE_URL=... REDIS_URL=... .venv/bin/python bench/send_bench.py smtp --subscribers 3000 --port 8402

It replaces the subscribers and editions in the database it is given (use a benchmark database),
starts the emulator / SMTP sink and the workers as subprocesses on 127.0.0.1, and stops them.
Reports: wall time from dispatch to the last acceptance, recipients/s, duplicates at the ESP,
peak RSS (VmHWM) of every worker process, the CPU seconds each process used during the run, the
time split summed over batches (claim, render, throttle, API calls, bookkeeping) from the
workers' "batch done" log lines, and (ESP mode) the emulator's check of every recipient's own
List-Unsubscribe and metadata, made after the clock stops.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ["CELERY_TASK_ALWAYS_EAGER"] = "0"
# Production configuration: with DEBUG on, Django also records every SQL statement the workers run.
os.environ["DEBUG"] = "0"
os.environ.setdefault("SECRET_KEY", "send-bench-only-" + "x" * 40)
from bench.production_env import THROWAWAY  # noqa: E402

os.environ.update({**THROWAWAY, **os.environ})  # the rest of what DEBUG off requires; EMAIL_BACKEND: per mode below


def setup_django(backend: str, extra: dict[str, str]) -> None:
    os.environ["EMAIL_BACKEND"] = backend
    os.environ.update(extra)
    import django

    django.setup()


def prepare(n: int, *, personal_history: float = 0.0, alert: bool = False, prior_alerts: int = 0) -> int:
    """Fresh subscribers and one approved edition; returns the digest id. With
    `personal_history`, that share of the subscribers get a reader profile and the edition has
    stories over six sections with read counts (bench/personal_history.py). With `alert`, every
    subscriber opted into alerts and the "edition" is an alert whose cancel window has passed;
    `prior_alerts` alerts already reached every subscriber in the last minutes (the daily cap's
    count then reads their Delivery rows)."""
    from django.core.management import call_command
    from django.db import connection

    from newsletter.delivery.models import Delivery
    from newsletter.editions.models import Digest, DigestItem
    from newsletter.subscribers.models import Subscriber
    from tests.integration.helpers import make_digest

    call_command("migrate", verbosity=0)
    Delivery.objects.all().delete()
    DigestItem.objects.all().delete()
    Digest.objects.all().delete()
    from newsletter.personal.models import ReaderEvent, ReaderProfile

    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {ReaderProfile._meta.db_table}")
        cursor.execute(f"DELETE FROM {ReaderEvent._meta.db_table}")
        cursor.execute(f"DELETE FROM {Subscriber.topics.through._meta.db_table}")
        cursor.execute(f"DELETE FROM {Subscriber._meta.db_table}")
    from articles.content.models import Article

    Article.objects.filter(slug__startswith="story-").delete()
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        _insert_subscribers_sql(n, alerts=alert)
    else:
        batch = 20_000
        for start in range(0, n, batch):
            Subscriber.objects.bulk_create(
                [
                    Subscriber(email=f"bench{i}@example.com", status="active", frequency="daily", language="ar")
                    for i in range(start, min(n, start + batch))
                ],
                batch_size=5000,
            )
    print(f"created {n} subscribers in {time.perf_counter() - started:.1f}s", flush=True)
    if personal_history > 0:
        from bench.personal_history import seed

        return seed(share=personal_history)
    if alert:
        return _alert(prior=prior_alerts)
    return make_digest(stories=8).id


def _alert(*, prior: int = 0) -> int:
    """An alert of a fresh article, its window over (dispatch comes from runs.release, timed),
    after `prior` alerts sent to every subscriber in the last minutes."""
    from datetime import timedelta

    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from articles.content.models import Article
    from newsletter.alerts import services
    from newsletter.delivery.models import Delivery
    from newsletter.editions.models import Digest
    from newsletter.subscribers.models import Subscriber

    user, _ = get_user_model().objects.get_or_create(username="bench-editor")
    now = timezone.now()
    for number in range(prior + 1):
        story = Article.objects.create(
            title=f"عاجل: خبر للقياس {number}",
            slug=f"story-alert-bench-{number}",
            summary="ملخص الخبر العاجل.",
            status=Article.Status.PUBLISHED,
            published_at=now,
            image_url="https://img.example.com/alert.jpg",
        )
        alert = services.alert_create(article_id=story.pk, user=user)
        if number == prior:
            Digest.objects.filter(pk=alert.digest_id).update(send_at=timezone.now())
            return alert.digest_id
        sent_at = now - timedelta(minutes=prior - number)
        Digest.objects.filter(pk=alert.digest_id).update(status=Digest.Status.SENT, sending_started_at=sent_at)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {Delivery._meta.db_table} (digest_id, subscriber_id, batch, status, attempts,"
                " esp_message_id, error, queued_at, arm) SELECT %s, id, 0, 'sent', 1, '', '', %s, ''"
                f" FROM {Subscriber._meta.db_table}",
                [alert.digest_id, sent_at],
            )
            cursor.execute(f"ANALYZE {Delivery._meta.db_table}")
    raise AssertionError("unreachable")


def _insert_subscribers_sql(n: int, *, alerts: bool = False) -> None:
    """N active subscribers with one INSERT ... SELECT generate_series (a million in seconds, not
    minutes). Every other column takes the value a new Subscriber() would get, so columns added
    later are filled too."""
    from django.db import connection

    from newsletter.subscribers.models import Subscriber

    template = Subscriber(email="x@example.com", status="active", frequency="daily", language="ar", alerts=alerts)
    columns, values, params = [], [], []
    for model_field in Subscriber._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.name == "uuid":
            values.append("gen_random_uuid()")
        elif model_field.name == "email":
            values.append("'bench' || g || '@example.com'")
        else:
            values.append("%s")
            params.append(model_field.get_db_prep_save(model_field.pre_save(template, add=True), connection))
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM generate_series(0, %s) AS g"
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, n - 1])
        cursor.execute(f"ANALYZE {table}")


def start_workers(env: dict[str, str], logs: Path, count: int = 2) -> list[subprocess.Popen]:
    workers = []
    for number in range(count):
        log = (logs / f"worker{number}.log").open("wb")
        workers.append(
            subprocess.Popen(
                [
                    str(Path(sys.executable).with_name("celery")),
                    "-A",
                    "config",
                    "worker",
                    "-Q",
                    "send,celery",
                    "-n",
                    f"bench{number}@%h",
                    "--concurrency",
                    "1",
                    "--loglevel",
                    "INFO",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    deadline = time.monotonic() + 60
    for number in range(count):
        while b" ready." not in (logs / f"worker{number}.log").read_bytes():
            if time.monotonic() > deadline:
                raise TimeoutError("workers not ready")
            time.sleep(0.2)
    return workers


def current_rss_mb(pid: int) -> dict[int, float]:
    """VmRSS now of the worker and its pool children."""
    return _proc_status_mb(pid, "VmRSS:")


def rss_summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    """Is memory flat over the run? The largest worker's RSS in the first and last tenth of the
    samples (one a second) and at its peak."""
    if not samples:
        return {}
    tenth = max(len(samples) // 10, 1)
    first = [mb for _, mb in samples[:tenth]]
    last = [mb for _, mb in samples[-tenth:]]
    return {
        "samples": len(samples),
        "first_tenth_avg": round(sum(first) / len(first), 1),
        "last_tenth_avg": round(sum(last) / len(last), 1),
        "peak": round(max(mb for _, mb in samples), 1),
    }


def _proc_status_mb(pid: int, field: str) -> dict[int, float]:
    result = {}
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field):
                    result[p] = int(line.split()[1]) / 1024
        except FileNotFoundError:
            continue
    return result


def peak_rss_mb(pid: int) -> dict[int, float]:
    """VmHWM of the worker and its pool children."""
    return _proc_status_mb(pid, "VmHWM:")


def cpu_seconds(pid: int) -> dict[int, float]:
    """user + system CPU seconds of a process and its children (the Celery pool process)."""
    result = {}
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    ticks = os.sysconf("SC_CLK_TCK")
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            result[p] = (int(fields[11]) + int(fields[12])) / ticks
        except FileNotFoundError:
            pass
    return result


def time_split(logs: Path) -> tuple[dict[str, float], int, int]:
    totals: dict[str, float] = defaultdict(float)
    batches = calls = 0
    for log in logs.glob("worker*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "batch done " in line:
                data = json.loads(line.split("batch done ", 1)[1])
                if data["claimed"]:
                    batches += 1
                    calls += data["api_calls"]
                    for key, value in data["timings"].items():
                        totals[key] += value
    return dict(totals), batches, calls


def distinct_lists(logs: Path) -> int:
    """Distinct personal story lists rendered in the send (each worker logs a list it renders
    once; two workers may render the same one)."""
    seen = set()
    for log in logs.glob("worker*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if "personal list rendered " in line:
                seen.add(line.rsplit(" ", 1)[1])
    return len(seen)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def run(args: argparse.Namespace) -> None:
    logs = Path(args.logs)
    logs.mkdir(parents=True, exist_ok=True)
    for old in logs.glob("worker*.log"):
        old.unlink()
    if args.mode == "esp":
        # The emulator expands per-recipient records only at /_verify, after the clock; the
        # bodies' URLs are checked by the 10,000-recipient integration test, not here.
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "bench" / "esp_emulator.py"),
                "--port",
                str(args.port),
                "--no-verify-body",
                "--latency-ms",
                str(args.esp_latency_ms),
            ],
            cwd=ROOT,
            start_new_session=True,
        )
        extra = {"ANYMAIL_MAILGUN_API_URL": f"http://127.0.0.1:{args.port}/v3", "ANYMAIL_MAILGUN_API_KEY": "bench"}
        backend = args.backend
    else:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "bench" / "send_smtp_sink.py"), "--port", str(args.port)],
            cwd=ROOT,
            start_new_session=True,
        )
        extra = {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(args.port)}
        backend = "django.core.mail.backends.smtp.EmailBackend"
    extra["LOG_LEVEL"] = "INFO"
    setup_django(backend, extra)
    processes = [server]
    try:
        digest_id = prepare(
            args.subscribers, personal_history=args.personal_history, alert=args.alert, prior_alerts=args.prior_alerts
        )
        env = {**os.environ, "PYTHONPATH": str(ROOT), "CELERY_TASK_ALWAYS_EAGER": "0"}
        processes += start_workers(env, logs)

        from newsletter.delivery import counts, dispatch
        from newsletter.editions.models import Digest

        stats_port = args.port if args.mode == "esp" else args.port + 1
        stats_url = f"http://127.0.0.1:{stats_port}/_stats"
        cpu_before = {pid: s for process in processes for pid, s in cpu_seconds(process.pid).items()}
        started_wall = time.time()
        started = time.perf_counter()
        if args.alert:  # as the countdown task or the minute beat does when the window has passed
            from newsletter.orchestration import runs

            runs.release(Digest.objects.get(pk=digest_id))
        else:
            dispatch.dispatch(digest_id=digest_id)
        snapshot = time.perf_counter() - started
        deadline = time.monotonic() + args.timeout
        rss_samples: list[tuple[float, float]] = []  # (seconds since dispatch, largest worker RSS MB)
        next_sample = 0.0
        while True:
            stats = json.load(urllib.request.urlopen(stats_url))
            if stats["recipients"] >= args.subscribers or time.monotonic() > deadline:
                break
            if time.perf_counter() - started >= next_sample:
                current = [mb for worker in processes[1:] for mb in current_rss_mb(worker.pid).values()]
                rss_samples.append((time.perf_counter() - started, max(current, default=0.0)))
                next_sample += 1.0
            time.sleep(0.05)
        while (
            Digest.objects.filter(id=digest_id, status=Digest.Status.SENDING).exists() and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        finished = time.perf_counter() - started
        # CPU used during the run (the emulator and the workers share the 2 cores with PostgreSQL).
        cpu_used = {
            ("esp" if process is server else "worker") + f" {pid}": round(s - cpu_before.get(pid, 0.0), 2)
            for process in processes
            for pid, s in cpu_seconds(process.pid).items()
        }
        last = stats["last_accept"] - started_wall
        rss = {pid: mb for worker in processes[1:] for pid, mb in peak_rss_mb(worker.pid).items()}
        split, batches, calls = time_split(logs)
        lists = distinct_lists(logs)
        verified = None
        if args.mode == "esp":  # expands and checks every recipient's record, off the clock
            verified = json.load(urllib.request.urlopen(f"http://127.0.0.1:{args.port}/_verify"))
        report = counts.report(digest_id=digest_id)
        print(
            json.dumps(
                {
                    "mode": args.mode,
                    "backend": backend,
                    "esp_latency_ms": args.esp_latency_ms if args.mode == "esp" else None,
                    "subscribers": args.subscribers,
                    "alert": args.alert,
                    "prior_alerts": args.prior_alerts,
                    "dispatch_snapshot_s": round(snapshot, 3),
                    "last_acceptance_s": round(last, 3),
                    "recipients_per_s": round(args.subscribers / last, 1) if last > 0 else None,
                    "all_bookkeeping_done_s": round(finished, 3),
                    "esp": stats,
                    "esp_verified_per_recipient": verified,
                    "db": vars(report),
                    "batches": batches,
                    "api_calls": calls,
                    "personal": {
                        "DIGEST_PERSONAL": os.environ.get("DIGEST_PERSONAL", "1"),
                        "history_share": args.personal_history,
                        "distinct_personal_lists": lists,
                    },
                    "time_split_summed_over_batches_s": {k: round(v, 3) for k, v in sorted(split.items())},
                    "peak_rss_mb_per_process": {str(k): round(v, 1) for k, v in rss.items()},
                    "worker_rss_mb_over_time": rss_summary(rss_samples),
                    "cpu_s_during_run": cpu_used,
                },
                indent=2,
            )
        )
    finally:
        stop(processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["esp", "smtp"])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--port", type=int, default=8401)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--logs", default="/tmp/send-bench-logs")
    parser.add_argument(
        "--esp-latency-ms",
        type=float,
        default=0.0,
        help="esp mode: the emulator answers each send this much later, as a distant ESP would",
    )
    parser.add_argument(
        "--personal-history",
        type=float,
        default=0.0,
        help="the share of subscribers with a reading history (personal editions; DIGEST_PERSONAL=0 turns them off)",
    )
    parser.add_argument("--alert", action="store_true", help="send a breaking-news alert (newsletter.alerts)")
    parser.add_argument(
        "--prior-alerts",
        type=int,
        default=0,
        help="with --alert: alerts every subscriber already got minutes before (the daily cap reads them)",
    )
    parser.add_argument(
        "--backend",
        default="anymail.backends.mailgun.EmailBackend",
        help="esp mode: the Mailgun EMAIL_BACKEND, e.g. newsletter.backends.mailgun.EmailBackend",
    )
    run(parser.parse_args())


if __name__ == "__main__":
    main()
