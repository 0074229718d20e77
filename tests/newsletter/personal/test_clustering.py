"""The send numbers readers of one personal list next to each other (issue 25 at a million): a
batch then holds few distinct lists, each rendered once and sent in one ESP call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions import compose
from newsletter.personal import arms
from newsletter.personal.models import ReaderProfile
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import article, section, subscriber

pytestmark = pytest.mark.django_db


def test_readers_of_one_list_share_batches(settings) -> None:
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 0  # the hold-out's place: the next test
    settings.SEND_BATCH_SIZE = 4
    politics, sport = section(), section("رياضة", "sport")
    stories = [article(f"خبر {i}", readers=1000 - i * 10, sec=politics if i % 2 else sport) for i in range(14)]
    readers = [subscriber(f"r{i}@example.com") for i in range(12)]
    # Interleaved by id: every third reader leans to sport, every third to politics, every third
    # read the most read story (and leans to politics); the rest of the list has no profile.
    for index, reader in enumerate(readers):
        if index % 3 == 0:
            ReaderProfile.objects.create(subscriber=reader, sections={str(sport.pk): 4}, list_key="sport", seen=[])
        elif index % 3 == 1:
            ReaderProfile.objects.create(
                subscriber=reader, sections={str(politics.pk): 4}, list_key="politics", seen=[]
            )
        else:
            ReaderProfile.objects.create(
                subscriber=reader, sections={str(politics.pk): 4}, list_key="politics", seen=[stories[0].pk]
            )
    plain = [subscriber(f"plain{i}@example.com") for i in range(4)]
    digest = compose.compose(frequency="daily", now=timezone.now() + timedelta(minutes=1))

    dispatch.dispatch(digest_id=digest.pk, enqueue=False)

    batch_of = dict(Delivery.objects.filter(digest=digest).values_list("subscriber_id", "batch"))
    groups = {
        "none": {batch_of[r.pk] for r in plain},
        "politics": {batch_of[r.pk] for i, r in enumerate(readers) if i % 3 == 1},
        "politics, read the first": {batch_of[r.pk] for i, r in enumerate(readers) if i % 3 == 2},
        "sport": {batch_of[r.pk] for i, r in enumerate(readers) if i % 3 == 0},
    }
    # Four readers of each list, batches of four: each list is exactly one batch.
    assert all(len(batches) == 1 for batches in groups.values()), groups
    assert len(set().union(*groups.values())) == 4
    assert Subscriber.objects.count() == 16


def test_without_personal_editions_batches_follow_the_ids(settings) -> None:
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_PERSONAL = False
    settings.SEND_BATCH_SIZE = 2
    for i in range(6):
        article(f"خبر {i}", readers=100 - i, sec=section())
    readers = [subscriber(f"r{i}@example.com") for i in range(4)]
    ReaderProfile.objects.create(subscriber=readers[3], sections={"1": 4}, list_key="a")
    digest = compose.compose(frequency="daily", now=timezone.now() + timedelta(minutes=1))
    dispatch.dispatch(digest_id=digest.pk, enqueue=False)
    batch_of = dict(Delivery.objects.filter(digest=digest).values_list("subscriber_id", "batch"))
    assert [batch_of[r.pk] for r in readers] == [0, 0, 1, 1]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the hold-out is ordered first on PostgreSQL only")
def test_the_database_computes_the_same_arms_and_numbers_the_editions_order_first(settings) -> None:
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 50
    settings.SEND_BATCH_SIZE = 4
    politics = section()
    for i in range(12):
        article(f"خبر {i}", readers=1000 - i * 10, sec=politics)
    digest = compose.compose(frequency="daily", now=timezone.now() + timedelta(minutes=1))
    month = digest.edition_date
    readers = [subscriber(f"r{i}@example.com") for i in range(16)]
    for reader in readers:  # one leaning for all: only the arm tells their lists apart
        ReaderProfile.objects.create(subscriber=reader, sections={str(politics.pk): 4}, list_key="politics", seen=[])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {arms.sql_bucket('id')} FROM {Subscriber._meta.db_table}", [arms.month_key(month)])
        assert dict(cursor.fetchall()) == {r.pk: arms.bucket(r.pk, month) for r in readers}

    dispatch.dispatch(digest_id=digest.pk, enqueue=False)

    batch_of = dict(Delivery.objects.filter(digest=digest).values_list("subscriber_id", "batch"))
    held = [r.pk for r in readers if arms.arm_of(r.pk, month=month) == arms.Arm.HOLDOUT]
    personal = [r.pk for r in readers if r.pk not in held]
    assert held and personal
    # The hold-out (the edition's order) before the personal readers: no batch mixes them but at
    # the one boundary between the two.
    assert max(batch_of[s] for s in held) <= min(batch_of[s] for s in personal)


def _leaning(readers: list[Subscriber], key: str, sections: dict[str, int]) -> None:
    for reader in readers:
        ReaderProfile.objects.create(subscriber=reader, sections=sections, list_key=key, seen=[])


def test_a_list_is_cut_by_a_batchs_end_only_every_batch_size_readers(settings) -> None:
    """A list straddling two batches costs an ESP call more: a list of 3 stays in the batch where
    it starts (that batch then holds 6 readers), and a list of 6 is cut after its 4th reader."""
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 0
    settings.SEND_BATCH_SIZE = 4
    politics, sport, culture = section(), section("رياضة", "sport"), section("ثقافة", "culture")
    for i in range(15):
        article(f"خبر {i}", readers=1000 - i * 10, sec=(politics, sport, culture)[i % 3])
    readers = [subscriber(f"r{i}@example.com") for i in range(12)]
    a, b, c = readers[0::4], readers[1::4], readers[2::4] + readers[3::4]  # 3, 3 and 6, interleaved
    _leaning(a, "a", {str(politics.pk): 4})
    _leaning(b, "b", {str(sport.pk): 4})
    _leaning(c, "c", {str(culture.pk): 4})
    digest = compose.compose(frequency="daily", now=timezone.now() + timedelta(minutes=1))

    dispatch.dispatch(digest_id=digest.pk, enqueue=False)

    batch_of = dict(Delivery.objects.filter(digest=digest).values_list("subscriber_id", "batch"))
    assert {batch_of[r.pk] for r in a} == {batch_of[r.pk] for r in b} == {0}
    pieces = sorted(batch_of[r.pk] for r in c)
    assert pieces == [1, 1, 1, 1, 2, 2], pieces


def test_an_esp_call_never_carries_more_than_a_batch_size(settings, mailoutbox) -> None:
    """Two leanings that rank alike get one email; kept whole in one batch they are 6 readers of
    it, and the ESP takes at most 4 (the batch size) in one call."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 0
    settings.SEND_BATCH_SIZE = 4
    politics, sport = section(), section("رياضة", "sport")
    for i in range(12):
        article(f"خبر {i}", readers=1000 - i * 10, sec=politics if i % 2 else sport)
    readers = [subscriber(f"r{i}@example.com") for i in range(6)]
    _leaning(readers[0::2], "x", {str(sport.pk): 4})
    _leaning(readers[1::2], "y", {str(sport.pk): 4})  # another key, the same ranking
    digest = compose.compose(frequency="daily", now=timezone.now() + timedelta(minutes=1))

    dispatch.send_all_sync(digest_id=digest.pk)

    assert sorted(len(message.to) for message in mailoutbox) == [2, 4]
    assert sorted(address for message in mailoutbox for address in message.to) == sorted(r.email for r in readers)
    assert set(Delivery.objects.filter(digest=digest).values_list("status", flat=True)) == {Delivery.Status.SENT}
