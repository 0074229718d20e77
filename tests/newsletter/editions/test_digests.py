"""Composition, curation and the scheduled run (newsletter.digests): ranking order, pins and
removals, exclusions, the previous edition, too few stories, atomic approve/cancel, and a
scheduled run that sends one edition however often it runs (done-means 4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from newsletter.delivery import controls
from newsletter.delivery.models import Delivery
from newsletter.editions import compose, curation, state
from newsletter.editions.models import Digest, DigestItem
from newsletter.orchestration import runs
from tests.concurrency import run_concurrently
from tests.newsletter.digest_helpers import article, ranked_articles, subscriber
from tests.requirements import require_postgres


@pytest.fixture(autouse=True)
def outbox_backend(settings) -> None:
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"


def titles(digest: Digest) -> list[str]:
    return [item.article.title for item in curation.active_items(digest)]


@pytest.mark.django_db
def test_top_n_most_read_in_order(settings) -> None:
    settings.DIGEST_TOP_N = 4
    articles = ranked_articles(6)
    digest = compose.compose(frequency="daily")
    assert digest.status == Digest.Status.DRAFT
    assert titles(digest) == [a.title for a in articles[:4]]
    assert digest.edition_date == timezone.localdate()
    assert digest.period_end - digest.period_start == timedelta(days=1)


@pytest.mark.django_db
def test_weekly_window_is_seven_days() -> None:
    ranked_articles(3)
    digest = compose.compose(frequency="weekly")
    assert digest.period_end - digest.period_start == timedelta(days=7)


@pytest.mark.django_db
def test_pins_first_removals_and_exclusions_out_on_recompose(settings) -> None:
    settings.DIGEST_TOP_N = 4
    articles = ranked_articles(8)
    excluded = article("مستبعد من النشرات", readers=5000, exclude_from_digests=True)
    digest = compose.compose(frequency="daily")
    assert excluded.title not in titles(digest)
    curation.add_article(digest_id=digest.pk, article_id=articles[6].pk)  # pinned, at the end
    curation.pin(digest_id=digest.pk, article_id=articles[2].pk)
    curation.remove(digest_id=digest.pk, article_id=articles[0].pk)
    digest = compose.compose(frequency="daily")  # recomposition keeps the editor's choices
    assert titles(digest) == [articles[2].title, articles[6].title, articles[1].title, articles[3].title]
    assert DigestItem.objects.get(digest=digest, article=articles[0]).removed


@pytest.mark.django_db
def test_previous_edition_articles_left_out_unless_pinned(settings) -> None:
    settings.DIGEST_TOP_N = 3
    tz = ZoneInfo(settings.TIME_ZONE)
    day1 = timezone.now().astimezone(tz) - timedelta(days=1)
    articles = ranked_articles(6, at=day1)
    yesterday = compose.compose(frequency="daily", now=day1)
    Digest.objects.filter(pk=yesterday.pk).update(status=Digest.Status.SENT)
    today = compose.compose(frequency="daily", now=day1 + timedelta(days=1))
    assert titles(today) == [a.title for a in articles[3:6]]
    curation.add_article(digest_id=today.pk, article_id=articles[0].pk)
    curation.set_positions(digest_id=today.pk, item_ids=[today.items.get(article=articles[0]).pk])
    today = compose.compose(frequency="daily", now=day1 + timedelta(days=1))
    assert titles(today) == [articles[0].title, articles[3].title, articles[4].title]


@pytest.mark.django_db
def test_fewer_than_minimum_is_skipped_with_reason(settings) -> None:
    settings.DIGEST_MIN_STORIES = 3
    ranked_articles(2)
    digest = compose.compose(frequency="daily")
    assert digest.status == Digest.Status.SKIPPED
    assert "٢" in digest.skip_reason and "٣" in digest.skip_reason  # in the editors' numerals
    # A skipped edition is final for its period: more reads later do not revive it.
    ranked_articles(3, prefix="لاحق")
    assert compose.compose(frequency="daily").status == Digest.Status.SKIPPED


@pytest.mark.django_db
def test_next_draft_is_next_scheduled_edition_and_never_skipped(settings) -> None:
    tz = ZoneInfo(settings.TIME_ZONE)
    ranked_articles(1)
    now = timezone.now().astimezone(tz)
    draft = runs.next_draft("daily", now=now)
    expected = now.date() if now.hour < 7 else now.date() + timedelta(days=1)
    assert draft.edition_date == expected and draft.status == Digest.Status.DRAFT
    assert timezone.localtime(draft.scheduled_for).hour == 7
    weekly = runs.next_draft("weekly", now=now)
    assert weekly.edition_date.weekday() == 5  # Saturday (the beat's crontab day 6)


@pytest.mark.django_db
def test_next_run_follows_the_editable_crontab(settings) -> None:
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(name="Daily digest")
    task.crontab.hour = "18"
    task.crontab.save()
    tz = ZoneInfo(settings.TIME_ZONE)
    now = datetime(2026, 11, 29, 10, tzinfo=tz)
    assert runs.next_run("daily", now=now) == datetime(2026, 11, 29, 18, tzinfo=tz)


@pytest.mark.django_db
def test_move_and_set_positions() -> None:
    articles = ranked_articles(4)
    digest = compose.compose(frequency="daily")
    items = curation.active_items(digest)
    curation.move(digest_id=digest.pk, item_id=items[2].pk, offset=-1)
    assert titles(digest) == [articles[i].title for i in (0, 2, 1, 3)]
    curation.move(digest_id=digest.pk, item_id=items[0].pk, offset=1)
    assert titles(digest) == [articles[i].title for i in (2, 0, 1, 3)]
    curation.set_positions(digest_id=digest.pk, item_ids=[items[3].pk, items[1].pk])
    assert titles(digest) == [articles[i].title for i in (3, 1, 2, 0)]
    with pytest.raises(state.DigestError):
        curation.set_positions(digest_id=digest.pk, item_ids=[999999])


@pytest.mark.django_db
def test_approve_and_cancel_are_single_transitions() -> None:
    ranked_articles(4)
    user = get_user_model().objects.create_user("ed", "ed@example.com", "x")
    digest = compose.compose(frequency="daily")
    assert curation.approve(digest, user) is True
    assert curation.approve(digest, user) is False  # double click
    assert digest.status == Digest.Status.APPROVED and digest.approved_by == user
    assert controls.cancel(digest_id=digest.pk).cancelled is True
    assert controls.cancel(digest_id=digest.pk).cancelled is False
    with pytest.raises(state.NotEditable):
        curation.set_texts(digest_id=digest.pk, intro="متأخر")


@pytest.mark.django_db
def test_approve_refuses_too_few_stories(settings) -> None:
    settings.DIGEST_MIN_STORIES = 3
    ranked_articles(2)
    digest = runs.next_draft("daily")
    with pytest.raises(state.DigestError):
        curation.approve(digest, None)


@pytest.mark.django_db
def test_no_edit_once_sending() -> None:
    articles = ranked_articles(4)
    digest = compose.compose(frequency="daily")
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENDING)
    for call in (
        lambda: curation.pin(digest_id=digest.pk, article_id=articles[0].pk),
        lambda: curation.remove(digest_id=digest.pk, article_id=articles[0].pk),
        lambda: curation.add_article(digest_id=digest.pk, article_id=articles[3].pk),
        lambda: curation.move(digest_id=digest.pk, item_id=curation.active_items(digest)[1].pk, offset=-1),
    ):
        with pytest.raises(state.NotEditable):
            call()
    before = titles(digest)
    ranked_articles(3, prefix="جديد")
    assert titles(compose.compose(frequency="daily")) == before


@pytest.mark.django_db
def test_scheduled_run_twice_sends_one_edition(outbox, django_capture_on_commit_callbacks) -> None:
    ranked_articles(5)
    subscriber("a@example.com")
    subscriber("b@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        first = runs.run_scheduled(frequency="daily")
    with django_capture_on_commit_callbacks(execute=True):
        second = runs.run_scheduled(frequency="daily")
    assert first.result == runs.RunResult.DISPATCHED
    assert second.result == runs.RunResult.ALREADY
    assert Digest.objects.count() == 1
    assert len(outbox()) == 2
    assert Delivery.objects.count() == 2


@pytest.mark.django_db
def test_scheduled_run_too_few_sends_none(outbox, django_capture_on_commit_callbacks, settings) -> None:
    settings.DIGEST_MIN_STORIES = 3
    ranked_articles(2)
    subscriber("a@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = runs.run_scheduled(frequency="daily")
    assert outcome.result == runs.RunResult.SKIPPED
    assert outbox() == [] and not Delivery.objects.exists()


@pytest.mark.django_db
def test_require_approval_waits_then_approval_releases(
    outbox, django_capture_on_commit_callbacks, settings, time_machine
) -> None:
    settings.DIGEST_REQUIRE_APPROVAL = True
    # Approved later the same morning: release_if_due sends today's edition only (issue 21: at
    # 00:30 the waiting edition is yesterday's, and the next run's edition is the one to approve).
    time_machine.move_to(datetime(2026, 11, 30, 9, 0, tzinfo=ZoneInfo("Asia/Baghdad")))
    ranked_articles(4)
    subscriber("a@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        outcome = runs.run_scheduled(frequency="daily")
    assert outcome.result == runs.RunResult.WAITING and outbox() == []
    assert runs.is_waiting_for_approval(outcome.digest)
    digest = outcome.digest
    assert curation.approve(digest, None)
    with django_capture_on_commit_callbacks(execute=True):
        released = runs.release_if_due(digest)
    assert released is not None and released.result == runs.RunResult.DISPATCHED
    assert len(outbox()) == 1


@pytest.mark.django_db
def test_celery_task_runs_the_schedule(outbox, django_capture_on_commit_callbacks, settings) -> None:
    from newsletter.tasks import run_scheduled_digest

    settings.DIGEST_LOCAL_TIME = False  # one send at the newsroom's hour (waves: test_waves.py)
    ranked_articles(4)
    subscriber("a@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        result = run_scheduled_digest.delay(frequency="daily").get()
    assert result["result"] == "dispatched"
    with django_capture_on_commit_callbacks(execute=True):
        assert run_scheduled_digest.delay(frequency="daily").get()["result"] == "already"
    assert len(outbox()) == 1


@pytest.mark.django_db(transaction=True)
def test_two_beats_at_once_create_and_send_one_edition(outbox) -> None:
    require_postgres("concurrent writers (SQLite serialises the whole database, so this would prove nothing)")
    ranked_articles(5)
    subscriber("a@example.com")
    subscriber("b@example.com")
    now = timezone.now()
    results = run_concurrently(lambda: runs.run_scheduled(frequency="daily", now=now), timeout=30)
    assert sorted(r.result for r in results) == [runs.RunResult.ALREADY, runs.RunResult.DISPATCHED]
    assert Digest.objects.count() == 1
    assert Delivery.objects.count() == 2
    assert len(outbox()) == 2
