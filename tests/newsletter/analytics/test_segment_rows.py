"""Issue 22: the report's story rows per segment. With the demo content (`seed_demo`), the daily
edition goes to readers of everything and to the sport follower, whose email lists the sport
section's own most-read stories. Each reader clicks their email's lead story; the report then
has one table per segment (named as the preview page names segments), each story at its
position in the email that segment received, and the CSV gains a `segment` column after the
original five. Before, the segments were merged: the sport story stood at position 11 of the
general list, a place it never had in any email.

With first-party click tracking off, the ESP's click events find the story in the recipient's
own segment too (before, only the general list was searched, so a sport-only story's click was
dropped)."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

import pytest
from anymail.signals import AnymailTrackingEvent, EventType
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from articles.content.models import Article
from newsletter.analytics import events
from newsletter.analytics.models import StoryClick
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions import compose
from newsletter.editions.models import Digest
from newsletter.email import links
from tests.conftest import read_outbox
from tests.newsletter.analytics.report_pages import click, click_links, editor_client, roll_up, segment_tables

pytestmark = pytest.mark.django_db
EVERYTHING = "العربية · كل الأقسام"
SPORT = "العربية · رياضة"


def arabic_digits(value: object) -> str:
    """`value` with Arabic-Indic digits, as the report's Arabic page writes positions."""
    return str(value).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))


@pytest.fixture
def demo_edition(settings, django_capture_on_commit_callbacks) -> Digest:
    settings.DEBUG = True  # seed_demo is for development (`make run`), as a new user runs it
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    digest = compose.compose(frequency="daily")
    assert dispatch.send_all_sync(digest_id=digest.pk).sent == 3  # two readers of everything, one of sport
    return digest


def emails(outbox_dir) -> dict[str, str]:
    return {str(m["To"]): m.get_body(preferencelist=("html",)).get_content() for m in read_outbox(outbox_dir)}


def lead_story(html: str) -> Article:
    """The first story of an email, from its click link (`/c/e<edition>a<article>p1k.../...`)."""
    story_part = urlsplit(click_links(html)[0]).path.split("/")[2]
    parsed = links.read_story_part(story_part)
    assert parsed is not None and parsed[2] == 1
    return Article.objects.get(pk=parsed[1])


def test_each_segment_has_its_own_rows_in_its_emails_order(demo_edition, outbox_dir) -> None:
    html = emails(outbox_dir)
    click(click_links(html["sports.fan@example.com"])[0])
    click(click_links(html["reader1@example.com"])[0])
    roll_up()
    sport_lead = lead_story(html["sports.fan@example.com"])
    general_lead = lead_story(html["reader1@example.com"])
    assert sport_lead.section.slug == "sport" and sport_lead != general_lead

    editor = editor_client()
    page = editor.get(reverse("admin:newsletter_digest_report", args=[demo_edition.pk])).content.decode()
    tables = segment_tables(page)
    assert list(tables) == [EVERYTHING, SPORT]  # the larger segment first
    assert tables[SPORT][0] == ("١", sport_lead.title, "١", "١٠٠٠٫٠")  # 1 click of the 1 email sent there
    assert tables[EVERYTHING][0] == ("١", general_lead.title, "١", "٥٠٠٫٠")  # 1 of 2
    assert all(row[2] == "٠" for row in tables[EVERYTHING][1:] + tables[SPORT][1:])
    assert sport_lead.title not in [row[1] for row in tables[EVERYTHING]]  # not merged into the general list
    assert [row[0] for row in tables[SPORT]] == [arabic_digits(n) for n in range(1, len(tables[SPORT]) + 1)]

    response = editor.get(reverse("admin:newsletter_digest_report_csv", args=[demo_edition.pk]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == ["position", "title", "url", "unique_clicks", "clicks_per_1000_delivered", "segment"]
    by_title = {(row[1], row[5]): row for row in rows[1:]}
    assert by_title[(sport_lead.title, SPORT)][0] == "1"
    assert by_title[(sport_lead.title, SPORT)][3:5] == ["1", "1000.0"]
    assert (sport_lead.title, EVERYTHING) not in by_title
    assert {row[5] for row in rows[1:]} == {EVERYTHING, SPORT}


def test_an_esp_click_counts_in_the_recipients_segment(demo_edition, settings, outbox_dir) -> None:
    settings.ANALYTICS_CLICK_TRACKING = False
    fan = Delivery.objects.get(digest=demo_edition, subscriber__email="sports.fan@example.com")
    story = lead_story(emails(outbox_dir)[fan.subscriber.email])
    event = AnymailTrackingEvent(
        event_type=EventType.CLICKED,
        click_url=story.canonical_url or f"http://testserver{story.get_absolute_url()}",
        metadata={"delivery_id": str(fan.pk), "digest_id": str(demo_edition.pk)},
        recipient=fan.subscriber.email,
        timestamp=timezone.now(),
        user_agent="Mozilla/5.0 (X11; Linux x86_64) Chrome/126.0",
    )
    assert events.record_esp_click(event=event)
    roll_up()
    page = editor_client().get(reverse("admin:newsletter_digest_report", args=[demo_edition.pk])).content.decode()
    assert segment_tables(page)[SPORT][0][1:3] == (story.title, "١")
    click_row = StoryClick.objects.get(digest=demo_edition)
    assert (click_row.article_id, click_row.position, click_row.segment) == (story.pk, 1, fan.segment)


def test_an_edition_sent_before_segments_were_recorded_keeps_its_general_list(demo_edition) -> None:
    """No EditionSegment rows, deliveries and clicks without a segment: one table, as before."""
    from newsletter.delivery.models import EditionSegment  # (here: the defect tests above run on older code too)

    Delivery.objects.filter(digest=demo_edition).update(segment=None)
    EditionSegment.objects.filter(digest=demo_edition).delete()
    roll_up()
    page = editor_client().get(reverse("admin:newsletter_digest_report", args=[demo_edition.pk])).content.decode()
    tables = segment_tables(page)
    assert list(tables) == ["القائمة العامة للعدد"]
    general = demo_edition.items.filter(removed=False).order_by("position", "id").select_related("article")
    assert [row[1] for row in tables["القائمة العامة للعدد"]] == [item.article.title for item in general][:10]
