"""Personal editions (issue 25), rule by rule, through a real send (dispatch.send_all_sync and the
development outbox): what a reader already read is left out, their list leans to what they click,
pins and removals hold, the hold-out and readers who switched personal order off get the edition's
order, erase removes the history and the export lists it, forged inputs add nothing, a profile
that cannot be read costs the reader only their personal order, and the subject names a story of
the reader's own email."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from articles.content.models import Article
from articles.reading import reads, visitors
from newsletter import privacy
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions import compose, curation
from newsletter.editions.models import Digest, DigestItem
from newsletter.personal import history, profiles
from newsletter.personal import rollup as personal_rollup
from newsletter.personal.models import ReaderEvent, ReaderProfile
from newsletter.subscribers import lifecycle
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import article, section, subscriber

pytestmark = pytest.mark.django_db

BAGHDAD = ZoneInfo("Asia/Baghdad")
MORNING = datetime(2026, 12, 3, 7, 0, tzinfo=BAGHDAD)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"
STORY = re.compile(r"^\u200f?\((\d+)\) (.+?)\u200f?$", re.M)


@pytest.fixture
def newsroom(settings, time_machine):
    """Fourteen politics stories read since yesterday, the first the most read; every reader in
    the personal arm unless a test says otherwise."""
    settings.DIGEST_LOCAL_TIME = False
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 0
    time_machine.move_to(MORNING, tick=False)
    politics = section()
    stories = [
        article(f"خبر سياسي {i}", readers=1000 - i * 10, at=MORNING - timedelta(hours=3), sec=politics)
        for i in range(14)
    ]
    return {"politics": politics, "stories": stories}


def edition() -> Digest:
    return compose.compose(frequency="daily", now=timezone.now())


def history_of(reader: Subscriber, *, clicked: list[Article] = (), read: list[Article] = ()) -> None:  # type: ignore[assignment]
    for item in clicked:
        ReaderEvent.objects.create(subscriber=reader, article=item, kind="click", at=timezone.now() - timedelta(days=2))
    for item in read:
        ReaderEvent.objects.create(subscriber=reader, article=item, kind="read", at=timezone.now() - timedelta(hours=1))
    profiles.build([reader.pk], now=timezone.now())


def send(digest: Digest, outbox) -> dict[str, list[str]]:
    """Send the edition; each recipient's story titles in their email's order, and its subject."""
    dispatch.send_all_sync(digest_id=digest.pk)
    emails: dict[str, list[str]] = {}
    for message in outbox():
        text = message.get_body(("plain",)).get_content()
        emails[str(message["To"])] = [title.strip() for _, title in STORY.findall(text)]
        emails[str(message["To"]) + ":subject"] = [str(message["Subject"])]
    return emails


def titles(items: list[Article]) -> list[str]:
    return [item.title for item in items]


def test_already_read_is_left_out_and_the_next_story_takes_its_slot(newsroom, outbox) -> None:
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    subscriber("other@example.com")
    history_of(reader, clicked=[stories[1]], read=[stories[3]])
    digest = edition()
    assert list(digest.items.order_by("position").values_list("article_id", flat=True)) == [s.pk for s in stories[:10]]

    emails = send(digest, outbox)

    assert emails["other@example.com"] == titles(stories[:10])
    expected = titles([s for s in stories[:12] if s not in (stories[1], stories[3])])
    assert emails["reader@example.com"] == expected
    assert set(Delivery.objects.values_list("arm", flat=True)) == {"p"}


def test_the_list_leans_to_the_section_the_reader_clicks(newsroom, outbox) -> None:
    sport = section("رياضة", "sport")
    sport_stories = [
        article(f"خبر رياضي {i}", readers=600 - i * 10, at=MORNING - timedelta(hours=3), sec=sport) for i in range(4)
    ]
    fan = subscriber("fan@example.com")
    subscriber("other@example.com")
    older = [article(f"مباراة سابقة {i}", readers=0, sec=sport) for i in range(4)]
    history_of(fan, clicked=older)  # four sport clicks in earlier editions, none in this one
    digest = edition()

    emails = send(digest, outbox)

    assert emails["other@example.com"][0] == newsroom["stories"][0].title  # the edition's order
    first_sport = min(
        emails["fan@example.com"].index(s.title) for s in sport_stories if s.title in emails["fan@example.com"]
    )
    first_sport_default = min(
        (emails["other@example.com"].index(s.title) for s in sport_stories if s.title in emails["other@example.com"]),
        default=10,
    )
    assert emails["fan@example.com"][0] in titles(sport_stories)
    assert first_sport < first_sport_default
    # One section never takes every slot: at most half of them are sport.
    assert sum(title in titles(sport_stories) for title in emails["fan@example.com"]) <= 5


def test_pins_keep_their_place_and_removals_stay_out(newsroom, outbox) -> None:
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    history_of(reader, clicked=[stories[6]], read=[stories[0]])
    digest = edition()
    curation.pin(digest_id=digest.pk, article_id=stories[6].pk)
    curation.remove(digest_id=digest.pk, article_id=stories[2].pk)
    assert DigestItem.objects.get(digest=digest, article=stories[6]).pinned

    subscriber("other@example.com")

    emails = send(Digest.objects.get(pk=digest.pk), outbox)

    mine, theirs = emails["reader@example.com"], emails["other@example.com"]
    # Pinned for everyone at the editor's place, though this reader clicked it before.
    assert theirs.index(stories[6].title) == mine.index(stories[6].title) == 5
    assert stories[2].title not in mine  # removed by the editor, for everyone
    assert stories[0].title not in mine  # read on the site: left out


def test_the_holdout_gets_the_editions_order(newsroom, settings, outbox) -> None:
    settings.DIGEST_PERSONAL_HOLDOUT_PERCENT = 100
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    history_of(reader, clicked=[stories[1]], read=[stories[3]])

    emails = send(edition(), outbox)

    assert emails["reader@example.com"] == titles(stories[:10])
    assert list(Delivery.objects.values_list("arm", flat=True)) == ["h"]


def test_a_reader_who_switches_personal_order_off_gets_the_editions_order_and_loses_the_history(
    newsroom, outbox, django_capture_on_commit_callbacks
) -> None:
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    history_of(reader, clicked=[stories[1]], read=[stories[3]])
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.update_preferences(
            subscriber=reader, frequency="daily", topics=[], language="ar", personal_order=False
        )
    assert not ReaderEvent.objects.filter(subscriber=reader).exists()
    assert not ReaderProfile.objects.filter(subscriber=reader).exists()
    # Nor is a new click collected while it is off.
    history.record_clicks([history.Click(reader.pk, stories[5].pk, timezone.now(), "reader-id")])
    assert not ReaderEvent.objects.filter(subscriber=reader).exists()

    emails = send(edition(), outbox)

    assert emails["reader@example.com"] == titles(stories[:10])
    assert list(Delivery.objects.values_list("arm", flat=True)) == [""]


def test_the_preference_page_offers_the_switch_on_by_default(newsroom) -> None:
    from newsletter.subscribers.tokens import Purpose, make_token

    reader = subscriber("reader@example.com")
    page = Client().get(f"/newsletter/preferences/{make_token(reader.uuid, Purpose.PREFERENCES)}/")
    html = page.content.decode()
    assert "رتّب نشرتي حسب ما أقرؤه" in html
    assert re.search(r'<input[^>]*name="personal_order"[^>]*checked', html)


def test_erase_removes_the_history_and_the_export_lists_it(newsroom) -> None:
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    history_of(reader, clicked=[stories[1]], read=[stories[3]])

    exported = privacy.export_subscriber_data(subscriber=reader)["reading_history"]
    assert [(row["article"], row["kind"]) for row in exported] == [
        (stories[1].title, "click"),
        (stories[3].title, "read"),
    ]

    privacy.erase(subscriber=reader)
    assert not ReaderEvent.objects.exists() and not ReaderProfile.objects.exists()


def test_history_older_than_the_limit_is_deleted(newsroom, settings) -> None:
    settings.PERSONAL_HISTORY_DAYS = 30
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    ReaderEvent.objects.create(
        subscriber=reader, article=stories[0], kind="click", at=timezone.now() - timedelta(days=31)
    )
    ReaderEvent.objects.create(
        subscriber=reader, article=stories[1], kind="click", at=timezone.now() - timedelta(days=29)
    )
    assert history.prune(now=timezone.now()) == 1
    assert list(ReaderEvent.objects.values_list("article_id", flat=True)) == [stories[1].pk]


def test_a_followed_browser_adds_its_reads_and_forged_inputs_add_nothing(newsroom) -> None:
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    visitor = "v" * 20
    # A human click the roll-up stored: the browser that made it is followed from now on.
    history.record_clicks([history.Click(reader.pk, stories[0].pk, timezone.now(), visitor)])
    browser = Client(HTTP_USER_AGENT=BROWSER)
    browser.cookies[visitors.VISITOR_COOKIE] = visitors.sign_cookie(visitor)
    assert browser.get(stories[5].get_absolute_url()).status_code == 200

    forged = Client(HTTP_USER_AGENT=BROWSER)
    forged.cookies[visitors.VISITOR_COOKIE] = visitor + "." + "A" * 22  # the id without its signature
    assert forged.get(stories[6].get_absolute_url()).status_code == 200
    # A read of an article that does not exist, through the beacon, by the followed browser.
    assert browser.get("/r/", {"id": 999_999}).status_code in (204, 400, 404)

    personal_rollup.rollup(now=timezone.now())

    kinds = dict(ReaderEvent.objects.filter(subscriber=reader).values_list("article_id", "kind"))
    assert kinds == {stories[0].pk: "click", stories[5].pk: "read"}


def test_a_click_for_an_edition_the_reader_did_not_get_adds_nothing(newsroom) -> None:
    from newsletter.analytics import rollup
    from newsletter.clicks import clicklog

    stories = newsroom["stories"]
    reader, recipient = subscriber("reader@example.com"), subscriber("recipient@example.com")
    digest = edition()
    Delivery.objects.create(digest=digest, subscriber=recipient, batch=0, status="sent", sent_at=timezone.now())
    # The reader's own signed click token, paired with an edition only the recipient received.
    clicklog.record(
        digest_id=digest.pk, article_id=stories[0].pk, position=1, uuid_hex=reader.uuid.hex, reader="r" * 20
    )

    rollup.rollup(now=timezone.now() + timedelta(minutes=10))

    assert not ReaderEvent.objects.exists()


def test_a_profile_that_cannot_be_read_gives_the_editions_order(newsroom, outbox) -> None:
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    history_of(reader, clicked=[stories[1]])
    ReaderProfile.objects.filter(subscriber=reader).update(sections="not a mapping", seen=[stories[1].pk])

    emails = send(edition(), outbox)

    assert emails["reader@example.com"] == titles(stories[:10])
    assert Delivery.objects.get().status == "sent"


def test_the_subject_names_a_story_the_readers_email_contains(newsroom, outbox) -> None:
    stories = newsroom["stories"]
    reader = subscriber("reader@example.com")
    history_of(reader, read=[stories[0]])

    emails = send(edition(), outbox)

    assert emails["reader@example.com"][0] == stories[1].title
    subject = emails["reader@example.com:subject"][0]
    assert stories[1].title in subject and stories[0].title not in subject


def test_nothing_is_collected_when_personal_editions_are_off(newsroom, settings) -> None:
    settings.DIGEST_PERSONAL = False
    reader = subscriber("reader@example.com")
    history.record_clicks([history.Click(reader.pk, newsroom["stories"][0].pk, timezone.now(), "x" * 20)])
    assert not ReaderEvent.objects.exists()
    assert reads.drain_followed() == []
