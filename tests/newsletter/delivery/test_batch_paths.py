"""Paths of a batch and of the periodic tasks that had no test (issue 16): the shared rate limit
sending a batch back to the queue, renders counted per segment across batches, the sweeper
task as beat runs it, and the beat rows of migration 0002 naming registered tasks."""

from __future__ import annotations

import inspect
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.celery import app
from newsletter.delivery import batch, dispatch, throttle
from newsletter.delivery.models import Delivery
from newsletter.delivery.outcomes import RetryLater
from newsletter.subscribers.models import Subscriber
from newsletter.tasks import send_batch as send_batch_task
from newsletter.tasks import sweep_deliveries
from tests.integration.helpers import make_digest, make_section, make_subscribers
from tests.newsletter.delivery.test_sending import emulator  # noqa: F401 - the Mailgun emulator fixture

pytestmark = pytest.mark.django_db
D = Delivery.Status


def test_a_batch_over_the_rate_limit_goes_back_to_the_queue_untouched(emulator, settings) -> None:  # noqa: F811
    """throttle.RateLimited inside send_batch: nothing is sent, the claimed rows are queued again
    (due after the wait, attempts unchanged) and the task is told when to retry."""
    settings.SEND_RATE_PER_SECOND = 1  # 40 recipients: a 39 s wait, beyond MAX_WAIT_SECONDS
    digest = make_digest()
    make_subscribers(40)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    before = timezone.now()
    with pytest.raises(RetryLater) as info:
        batch.send_batch(digest_id=digest.id, batch=0)
    assert info.value.countdown == pytest.approx(39, abs=1) and info.value.countdown > throttle.MAX_WAIT_SECONDS
    assert info.value.reason == "send rate limit"
    assert emulator.state.stats()["requests"] == 0
    rows = Delivery.objects.filter(digest=digest)
    assert set(rows.values_list("status", flat=True)) == {D.QUEUED}
    assert set(rows.values_list("attempts", flat=True)) == {0} and not rows.filter(claimed_at__isnull=False).exists()
    assert not rows.filter(queued_at__lt=before + timedelta(seconds=30)).exists()  # due after the wait
    # Nothing was taken from the bucket either: a small batch still goes at once.
    settings.SEND_RATE_PER_SECOND = 1000
    assert batch.send_batch(digest_id=digest.id, batch=0).sent == 40


def test_the_celery_task_retries_a_rate_limited_batch(emulator, settings, monkeypatch) -> None:  # noqa: F811
    settings.SEND_RATE_PER_SECOND = 1
    digest = make_digest()
    make_subscribers(40)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    countdowns: list[float] = []

    def record_retry(*args, countdown=None, **kwargs):
        countdowns.append(countdown)
        raise RuntimeError("retry requested")  # stands in for celery.exceptions.Retry

    monkeypatch.setattr(send_batch_task, "retry", record_retry)
    with pytest.raises(RuntimeError, match="retry requested"):
        send_batch_task.run(digest.id, 0)
    assert countdowns and countdowns[0] > throttle.MAX_WAIT_SECONDS


def test_each_segment_is_rendered_once_across_all_batches(emulator, settings, monkeypatch) -> None:  # noqa: F811
    settings.SEND_BATCH_SIZE = 4
    settings.DIGEST_MIN_STORIES = 2  # the sport readers get the two sport stories
    politics, sport = make_section("politics", "سياسة"), make_section("sport", "رياضة")
    digest = make_digest(stories=5, sections=[politics, politics, politics, sport, sport])
    make_subscribers(10)  # Arabic, no topics
    make_subscribers(6, language="en", prefix="en")
    sporty = make_subscribers(5, prefix="sport")
    for sub in Subscriber.objects.filter(id__in=sporty):
        sub.topics.set([sport])
    renders: list[tuple[str, tuple[int, ...]]] = []
    real = batch.render_segment

    def counting(stories, segment, **kwargs):  # the real renderer (segment ranking + render), counted
        renders.append((segment.language, segment.section_ids))
        return real(stories, segment, **kwargs)

    monkeypatch.setattr(batch, "render_segment", counting)
    batch._render_cached.cache_clear()
    batch._stories.cache_clear()
    report = dispatch.send_all_sync(digest_id=digest.id)
    assert report.sent == 21
    assert Delivery.objects.filter(digest=digest).values("batch").distinct().count() == 6
    # Three segments over six batches: three renders, not one per batch or per recipient.
    assert sorted(renders) == sorted([("ar", ()), ("en", ()), ("ar", (sport.pk,))])


def test_a_segments_click_targets_are_stored_before_its_emails_leave(emulator, settings, monkeypatch) -> None:  # noqa: F811
    """Rendering returns the targets; the batch stores them (newsletter.clicks.targets) before
    it hands the emails to the ESP, so no link leaves before the redirect knows its target."""
    from newsletter.email import links
    from sitewide.redis_client import get_redis

    settings.ANALYTICS_CLICK_TRACKING = True
    digest = make_digest(stories=5)
    make_subscribers(3)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    batch._render_cached.cache_clear()
    get_redis().flushdb()
    stored_at_send: list[dict[bytes, bytes]] = []
    real = batch.transport.send_groups

    def checking(*args, **kwargs):
        stored_at_send.append(get_redis().hgetall(links.targets_key(digest.id)))
        return real(*args, **kwargs)

    monkeypatch.setattr(batch.transport, "send_groups", checking)
    assert batch.send_batch(digest_id=digest.id, batch=0).sent == 3
    expected = {str(item.article_id).encode() for item in digest.items.filter(removed=False)}
    assert [set(targets) for targets in stored_at_send] == [expected]


def test_the_sweeper_task_runs_the_sweep_and_reports(settings, django_capture_on_commit_callbacks) -> None:
    settings.SEND_BATCH_SIZE = 5
    digest = make_digest()
    make_subscribers(10)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    old = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(batch=0).update(status=D.CLAIMED, claimed_at=old)
    Delivery.objects.filter(batch=1).update(status=D.SENDING, claimed_at=old, sending_at=old)
    with django_capture_on_commit_callbacks(execute=False):
        result = sweep_deliveries.delay().get()
    assert result["requeued_claimed"] == 5 and result["settled_unknown"] == 5 and result["reenqueued_batches"] == 1
    assert set(Delivery.objects.filter(batch=0).values_list("status", flat=True)) == {D.QUEUED}


def test_every_beat_row_names_a_registered_task_with_arguments_it_accepts() -> None:
    """The rows migration 0002 writes (django-celery-beat's DatabaseScheduler runs them): a typo in
    a task name would be a periodic task that never runs, silently."""
    app.loader.import_default_modules()  # what a worker does at start: autodiscover tasks
    rows = list(PeriodicTask.objects.exclude(name="celery.backend_cleanup"))
    names = {row.task for row in rows}
    assert names >= {
        "newsletter.tasks.run_scheduled_digest",
        "newsletter.tasks.sweep_deliveries",
        "articles.tasks.flush_reads",
        "articles.tasks.import_configured_feeds",
    }
    for row in rows:
        assert row.task in app.tasks, f"beat row {row.name!r} names an unregistered task {row.task!r}"
        signature = inspect.signature(app.tasks[row.task].run)
        signature.bind(*json.loads(row.args or "[]"), **json.loads(row.kwargs or "{}"))  # TypeError if not
        assert row.enabled and (row.crontab_id or row.interval_id)
