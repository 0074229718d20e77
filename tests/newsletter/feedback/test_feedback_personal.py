"""Issue 27, what a reader's "more / less like this" does after it is recorded: the personal
roll-up builds it into their profile and the next send ranks a section asked-for-less below the
rest until they ask for more; it is personal data (kept PERSONAL_HISTORY_DAYS, deleted on
erase, listed in the export)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from newsletter import privacy
from newsletter.delivery import dispatch
from newsletter.editions import compose
from newsletter.editions.models import Digest
from newsletter.personal import rollup
from newsletter.personal.models import ReaderProfile
from newsletter.subscribers import feedback
from newsletter.subscribers.models import LessLikeThis, StoryFeedback
from sitewide.redis_client import get_redis
from tests.newsletter.digest_helpers import article, section, subscriber

pytestmark = pytest.mark.django_db

BAGHDAD = ZoneInfo("Asia/Baghdad")
MORNING = datetime(2026, 12, 3, 7, 0, tzinfo=BAGHDAD)
STORY = re.compile(r"^\u200f?\((\d+)\) (.+?)\u200f?$", re.M)


@pytest.fixture
def newsroom(settings, time_machine):
    """Six politics stories (the most read) and four sport stories; every reader personal."""
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 0
    time_machine.move_to(MORNING, tick=False)
    politics, sport = section(), section("رياضة", "sport")
    at = MORNING - timedelta(hours=3)
    return {
        "politics": [article(f"خبر سياسي {i}", readers=1000 - i * 10, at=at, sec=politics) for i in range(6)],
        "sport": [article(f"خبر رياضي {i}", readers=500 - i * 10, at=at, sec=sport) for i in range(4)],
    }


def edition_of(day: datetime) -> Digest:
    """A sent edition of `day` the feedback can name (no stories needed here)."""
    return Digest.objects.create(
        frequency="daily", edition_date=day.date(), period_start=day - timedelta(days=1), period_end=day
    )


def send(outbox) -> dict[str, list[str]]:
    digest = compose.compose(frequency="daily", now=timezone.now())
    dispatch.send_all_sync(digest_id=digest.pk)
    return {str(m["To"]): [t.strip() for _, t in STORY.findall(m.get_body(("plain",)).get_content())] for m in outbox()}


def titles(items) -> list[str]:
    return [item.title for item in items]


def test_less_sinks_the_section_in_the_next_edition_until_the_reader_asks_for_more(
    newsroom, outbox, django_capture_on_commit_callbacks
) -> None:
    reader = subscriber("reader@example.com")
    subscriber("other@example.com")
    earlier = edition_of(MORNING - timedelta(days=1))
    politics, sport = newsroom["politics"], newsroom["sport"]
    with django_capture_on_commit_callbacks(execute=True):
        feedback.record(
            subscriber_id=reader.pk, digest_id=earlier.pk, article_id=politics[0].pk, choice="less", now=timezone.now()
        )
    rollup.rollup(now=timezone.now())
    assert ReaderProfile.objects.get(subscriber=reader).sections == {str(politics[0].section_id): -1}

    emails = send(outbox)

    assert emails["other@example.com"] == titles(politics + sport)
    assert emails["reader@example.com"] == titles(sport + politics)  # politics counts much less for them

    with django_capture_on_commit_callbacks(execute=True):
        feedback.record(
            subscriber_id=reader.pk, digest_id=earlier.pk, article_id=politics[1].pk, choice="more", now=timezone.now()
        )
    rollup.rollup(now=timezone.now())
    assert not LessLikeThis.objects.exists()
    # No history and no mark left: no profile, the edition's order again.
    assert not ReaderProfile.objects.filter(subscriber=reader).exists()


def test_feedback_is_pruned_after_the_history_window_and_the_profile_forgets_it(
    newsroom, settings, time_machine, django_capture_on_commit_callbacks
) -> None:
    settings.PERSONAL_HISTORY_DAYS = 30
    reader = subscriber("reader@example.com")
    digest = edition_of(MORNING - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        feedback.record(
            subscriber_id=reader.pk,
            digest_id=digest.pk,
            article_id=newsroom["sport"][0].pk,
            choice="less",
            now=timezone.now(),
        )
    rollup.rollup(now=timezone.now())
    assert ReaderProfile.objects.filter(subscriber=reader).exists()

    time_machine.move_to(MORNING + timedelta(days=31), tick=False)
    get_redis().delete(rollup.PRUNE_FLAG)  # the hourly prune is due
    with django_capture_on_commit_callbacks(execute=True):
        rollup.rollup(now=timezone.now())
    rollup.rollup(now=timezone.now())  # the profiles the prune touched, built again
    assert not StoryFeedback.objects.exists() and not LessLikeThis.objects.exists()
    assert not ReaderProfile.objects.filter(subscriber=reader).exists()


def test_erase_deletes_the_feedback_and_the_export_lists_it(newsroom) -> None:
    reader, other = subscriber("reader@example.com"), subscriber("other@example.com")
    digest = edition_of(MORNING - timedelta(days=1))
    story = newsroom["sport"][1]
    for who in (reader, other):
        feedback.record(subscriber_id=who.pk, digest_id=digest.pk, article_id=story.pk, choice="less", now=MORNING)

    exported = privacy.export_subscriber_data(subscriber=reader)
    json.dumps(exported)
    assert exported["story_feedback"] == {
        "stories": [{"article": story.title, "choice": "less", "at": MORNING.astimezone(UTC).isoformat()}],
        "less_of": [{"kind": "section", "name": "رياضة"}],
    }

    privacy.erase(subscriber=reader)
    assert list(StoryFeedback.objects.values_list("subscriber", flat=True)) == [other.pk]
    assert list(LessLikeThis.objects.values_list("subscriber", flat=True)) == [other.pk]
