"""Preview as a reader and the distinct-lists count (issue 25, newsletter.personal.preview),
against the real database and Redis: what an editor is shown of a reader's edition is what the
send gives that reader (the edition sent through the outbox and each email's stories read back
from its click links), and the count of distinct emails is the one worked out by hand below.
The newsroom and its readers are described in tests/newsletter/personal/newsroom.py.
"""

from __future__ import annotations

import math
from email.message import EmailMessage

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.delivery import dispatch
from newsletter.editions import curation
from newsletter.editions.models import Digest
from newsletter.personal import preview, profiles
from newsletter.personal.arms import Arm
from newsletter.personal.preview import Why
from newsletter.subscribers.models import Subscriber
from tests.newsletter.personal.newsroom import history, ids_in_arm, personal_newsroom, reader, stories

pytestmark = pytest.mark.django_db


@pytest.fixture
def newsroom(settings) -> dict:
    return personal_newsroom(settings)


def sent_to(messages: list[EmailMessage], address: str) -> EmailMessage:
    [message] = [m for m in messages if str(m["To"]) == address]
    return message


def test_a_readers_own_list_with_its_reasons_is_what_the_send_gives_them(newsroom, outbox) -> None:
    digest, news, games = newsroom["digest"], newsroom["news"], newsroom["games"]
    shown = preview.reader_preview(digest, newsroom["personal"], now=timezone.now())
    listed = [entry.article.pk for entry in shown.entries]
    assert shown.arm == Arm.PERSONAL and shown.own_list and shown.in_audience
    # The pinned story keeps the first place although they read it; the other story they read
    # is left out; their section leaning (sport) comes first among the unpinned stories.
    assert listed[0] == news[0].pk and shown.entries[0].why == Why.PINNED
    assert [a.pk for a in shown.already_read] == [news[1].pk] and news[1].pk not in listed
    assert listed[1] == games[0].pk
    assert shown.entries[1].why == Why.SECTION and shown.entries[1].section == newsroom["sport"]
    for entry in shown.entries[1:]:  # sport follows their clicks; politics is simply read by many
        assert entry.why == (Why.SECTION if entry.article.section_id == newsroom["sport"].pk else Why.POPULAR)
    assert {entry.why for entry in shown.entries} == {Why.PINNED, Why.SECTION, Why.POPULAR}
    assert len(listed) == 4 and stories(shown.rendered.text) == listed
    assert "[[" not in shown.rendered.html and "personal@example.com" not in shown.rendered.html

    report = dispatch.send_all_sync(digest_id=digest.pk)
    assert report.sent == 8
    message = sent_to(outbox(), "personal@example.com")
    assert stories(message.get_body(("plain",)).get_content()) == listed
    assert str(message["Subject"]).strip() == shown.rendered.subject  # names a story their email contains
    twin = sent_to(outbox(), "twin@example.com")
    assert stories(twin.get_body(("plain",)).get_content()) == listed


def test_hold_out_and_personal_order_off_see_the_editions_order(newsroom, outbox) -> None:
    digest, news = newsroom["digest"], newsroom["news"]
    edition_order = [item.article_id for item in curation.active_items(digest)]
    assert edition_order == [a.pk for a in news[:4]]
    shown = {
        name: preview.reader_preview(digest, newsroom[name], now=timezone.now()) for name in ("holdout", "off", "fresh")
    }
    assert shown["holdout"].arm == Arm.HOLDOUT and shown["holdout"].holdout
    assert shown["off"].arm == Arm.NONE and shown["fresh"].arm == Arm.PERSONAL
    for name, seen in shown.items():
        assert [entry.article.pk for entry in seen.entries] == edition_order, name
        assert [entry.why for entry in seen.entries] == [Why.PINNED, Why.POPULAR, Why.POPULAR, Why.POPULAR]
        assert not seen.own_list and seen.already_read == () and seen.gave_way == ()
    dispatch.send_all_sync(digest_id=digest.pk)
    for name in shown:
        message = sent_to(outbox(), f"{name}@example.com")
        assert stories(message.get_body(("plain",)).get_content()) == edition_order, name


def test_a_readers_topics_still_restrict_their_stories(newsroom, outbox) -> None:
    digest, games = newsroom["digest"], newsroom["games"]
    shown = preview.reader_preview(digest, newsroom["follower"], now=timezone.now())
    assert shown.segment.section_ids == (newsroom["sport"].pk,) and list(shown.topics) == [newsroom["sport"]]
    listed = [entry.article.pk for entry in shown.entries]
    # Sport only: the story they clicked left out, the next sport story in its place.
    assert listed == [g.pk for g in games[1:5]]
    assert [a.pk for a in shown.already_read] == [games[0].pk]
    assert all(entry.why == Why.SECTION and entry.section == newsroom["sport"] for entry in shown.entries)
    dispatch.send_all_sync(digest_id=digest.pk)
    message = sent_to(outbox(), "follower@example.com")
    assert stories(message.get_body(("plain",)).get_content()) == listed


def test_a_reader_who_read_nearly_everything_gets_the_segments_list_as_the_send_does(newsroom, outbox) -> None:
    """Their own list would have fewer than DIGEST_MIN_STORIES stories (it would not render):
    the preview and the send both give them their segment's list."""
    digest, news, games = newsroom["digest"], newsroom["news"], newsroom["games"]
    [pk] = ids_in_arm(Arm.PERSONAL, digest.edition_date, 1, 20_000_000)
    greedy = reader(pk, "greedy@example.com")
    history(greedy, clicked=games, read=news[1:])
    profiles.build([greedy.pk], now=timezone.now())
    shown = preview.reader_preview(digest, greedy, now=timezone.now())
    edition_order = [item.article_id for item in curation.active_items(digest)]
    assert [entry.article.pk for entry in shown.entries] == edition_order and not shown.own_list
    dispatch.send_all_sync(digest_id=digest.pk)
    message = sent_to(outbox(), "greedy@example.com")
    assert stories(message.get_body(("plain",)).get_content()) == edition_order


def test_a_reader_outside_the_audience_is_told_apart(newsroom) -> None:
    weekly = reader(newsroom["fresh"].pk + 10, "weekly@example.com", frequency="weekly")
    left = reader(newsroom["fresh"].pk + 11, "left@example.com")
    Subscriber.objects.filter(pk=left.pk).update(status=Subscriber.Status.UNSUBSCRIBED)
    left.refresh_from_db()
    for subscriber in (weekly, left):
        shown = preview.reader_preview(newsroom["digest"], subscriber, now=timezone.now())
        assert not shown.in_audience and shown.rendered is not None
    assert preview.reader_preview(newsroom["digest"], newsroom["fresh"], now=timezone.now()).in_audience


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("personal@example.com", "personal"),
        ("  Personal@EXAMPLE.com ", "personal"),  # normalised as every stored address
        ("{pk}", "personal"),
        ("#{pk}", "personal"),
        ("{arabic}", "personal"),  # Arabic-Indic digits
    ],
)
def test_a_reader_is_found_by_address_or_id(newsroom, typed: str, found: str) -> None:
    pk = newsroom[found].pk
    arabic = str(pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert preview.find_reader(typed.format(pk=pk, arabic=arabic)) == newsroom[found]


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("nobody@example.com", preview.NotFound.NO_ADDRESS),
        ("999999999", preview.NotFound.NO_ID),
        ("9" * 40, preview.NotFound.MALFORMED),  # no id is this long: not an address either
        ("not an address", preview.NotFound.MALFORMED),
        ("'; DROP TABLE newsletter_subscriber; --", preview.NotFound.MALFORMED),
        ("a@b@c", preview.NotFound.MALFORMED),
        ("", preview.NotFound.MALFORMED),
    ],
)
def test_an_unknown_or_malformed_reader_is_reported(newsroom, typed: str, why: preview.NotFound) -> None:
    with pytest.raises(preview.ReaderNotFound) as raised:
        preview.find_reader(typed)
    assert raised.value.why == why


def emails_by_segment_and_list(messages: list[EmailMessage]) -> set[tuple]:
    """The distinct emails of a send: (language, topics, stories) of each message."""
    found = set()
    for message in messages:
        subscriber = Subscriber.objects.get(email=str(message["To"]))
        topics = tuple(sorted(subscriber.topics.values_list("pk", flat=True)))
        found.add((subscriber.language, topics, tuple(stories(message.get_body(("plain",)).get_content()))))
    return found


def test_distinct_lists_counts_segments_and_personal_lists(newsroom, outbox) -> None:
    """By hand: three segments (Arabic with every section, Arabic following sport, English), each
    one email (`fan` gets the sport segment's); `personal` and `twin` share one list of their own,
    `follower` has another: 5 emails. The hold-out, personal order off and no history get their
    segment's email; a weekly and a pending subscriber are not in the daily audience."""
    reader(newsroom["fresh"].pk + 10, "weekly@example.com", frequency="weekly")
    Subscriber.objects.create(email="pending@example.com")
    count = preview.distinct_lists(newsroom["digest"], now=timezone.now())
    assert (count.lists, count.segments, count.own_lists, count.readers) == (5, 3, 3, 8)
    assert count.version == newsroom["digest"].updated_at.isoformat()
    dispatch.send_all_sync(digest_id=newsroom["digest"].pk)
    assert len(emails_by_segment_and_list(outbox())) == 5  # what the send made


def test_distinct_lists_reads_the_audience_in_chunks_with_three_queries_each(newsroom) -> None:
    digest = Digest.objects.get(pk=newsroom["digest"].pk)
    audience = Subscriber.objects.filter(status=Subscriber.Status.ACTIVE, frequency="daily").count()
    lists, queries = {}, {}
    for chunk in (2, 1000):
        with CaptureQueriesContext(connection) as captured:
            lists[chunk] = preview.distinct_lists(digest, now=timezone.now(), chunk=chunk).lists
        queries[chunk] = len(captured.captured_queries)
    assert lists[2] == lists[1000] == 5
    # Subscribers, their topics and their profiles per chunk; the stories once per segment.
    assert queries[2] - queries[1000] == 3 * (math.ceil(audience / 2) - 1)


def test_the_count_is_kept_with_its_time_and_the_edition_page_reads_it(newsroom) -> None:
    digest = newsroom["digest"]
    assert preview.stored_count(digest).count is None
    before = timezone.now()
    assert preview.request_count(digest, now=before)  # the task runs eagerly in the tests
    stored = preview.stored_count(digest)
    assert stored.count is not None and stored.count.lists == 5 and stored.running_since is None
    assert stored.count.computed_at >= before and not stored.changed_since
    items = curation.active_items(digest)
    curation.set_positions(digest_id=digest.pk, item_ids=[item.pk for item in reversed(items)])
    digest.refresh_from_db()
    assert preview.stored_count(digest).changed_since  # the editor reordered the edition since
