"""Done-means 1 of issue 14: an edition sent through the Mailgun emulator, first-party clicks
through /c/, opens and deliveries through signed Mailgun webhooks (some from Apple's proxy), the
roll-up, then the report page and its CSV show the expected per-story counts and human/machine
opens. On PostgreSQL (skipped elsewhere)."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from articles.reading import rollup as read_rollup
from bench.esp_emulator import Emulator
from newsletter.analytics import rollup
from newsletter.analytics.models import EditionStats
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions.models import DigestItem
from tests.integration.helpers import make_digest, make_subscribers
from tests.newsletter.delivery.test_tracking import SECRET, SIGNING_KEY, mailgun_payload, post

pytestmark = pytest.mark.django_db
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
APPLE_PROXY = "Mozilla/5.0"
CLICK_RE = re.compile(r'href="(https?://[^"]+/c/[^"]+)"')


@pytest.fixture
def emulator():
    server = Emulator(keep_html=True).start()
    yield server
    server.stop()


@pytest.fixture
def mailgun(settings, emulator, is_postgres):
    if not is_postgres:
        pytest.skip("done-means 1 runs on PostgreSQL")
    settings.EMAIL_BACKEND = "newsletter.backends.mailgun.EmailBackend"
    settings.ANYMAIL = {
        "MAILGUN_API_URL": emulator.api_url,
        "MAILGUN_API_KEY": "test-key",
        "WEBHOOK_SECRET": SECRET,
        "MAILGUN_WEBHOOK_SIGNING_KEY": SIGNING_KEY,
    }
    settings.SITE_URL = "http://testserver"
    return emulator


def editor_client() -> Client:
    user = get_user_model().objects.create_user("editor-report", "editor-report@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


def story_links(record: dict) -> list[str]:
    """The recipient's click links in story order (each story links its title; no images here)."""
    return list(CLICK_RE.findall(record["html"]))


def test_report_and_csv_after_send_clicks_and_opens(client, mailgun) -> None:
    digest = make_digest(stories=5)
    make_subscribers(10)
    dispatch.send_all_sync(digest_id=digest.id)
    records = {r["to"]: r for r in mailgun.state.records}
    assert len(records) == 10
    deliveries = list(Delivery.objects.select_related("subscriber").order_by("id"))
    links = [story_links(records[d.subscriber.email]) for d in deliveries]
    assert all(len(found) == 5 for found in links)
    assert len({tuple(found) for found in links}) == 10  # every recipient has their own links

    sent_at = time.time()
    for delivery in deliveries:  # every message delivered now
        post(client, mailgun_payload("delivered", delivery, recipient=delivery.subscriber.email, timestamp=sent_at))

    browsers: dict[int, Client] = {}  # each reader clicks in their own browser (own `rid` cookie)

    def click(index: int, story: int, user_agent: str = CHROME) -> None:
        browser = browsers.setdefault(index, Client())
        response = browser.get(urlsplit(links[index][story]).path, HTTP_USER_AGENT=user_agent)
        assert response.status_code == 302
        assert "utm_source=newsletter" in response["Location"]

    click(0, 0)
    click(0, 1)
    click(1, 0)
    click(2, 0)
    click(2, 0)  # the same reader twice: one unique click
    for story in range(5):  # a link scanner: every link within a second of delivery
        click(3, story)
    client.get(urlsplit(links[4][0]).path, HTTP_USER_AGENT="curl/8.5")  # a bot: redirected, not counted

    def open_(index: int, after: float, user_agent: str, ip: str = "203.0.113.7") -> None:
        d = deliveries[index]
        extra = {"client-info": {"user-agent": user_agent}, "ip": ip}
        payload = mailgun_payload("opened", d, recipient=d.subscriber.email, timestamp=sent_at + after, **extra)
        assert post(client, payload).status_code == 200

    open_(0, 600, CHROME)  # human
    open_(5, 5, APPLE_PROXY, ip="17.58.0.10")  # Apple Mail Privacy Protection prefetch...
    open_(5, 3600, CHROME)  # ...then the reader really opens it: human
    open_(6, 5, APPLE_PROXY, ip="17.58.0.11")  # Apple prefetch only: machine
    open_(7, 2, CHROME)  # a fetch two seconds after delivery: a scanner, machine
    open_(8, 900, CHROME.replace("Chrome", "Mimecast Chrome"))  # a security gateway: machine

    rollup.rollup(now=timezone.now() + timedelta(seconds=rollup.SETTLE_SECONDS + 5))

    stats = EditionStats.objects.get(digest=digest)
    assert (stats.audience, stats.sent, stats.delivered) == (10, 10, 10)
    assert (stats.human_opens, stats.machine_opens, stats.unique_clicks) == (2, 3, 3)

    editor = editor_client()
    page = editor.get(reverse("admin:newsletter_digest_report", args=[digest.id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="story-clicks"' in html and "@example.com" not in html  # no personal data

    response = editor.get(reverse("admin:newsletter_digest_report_csv", args=[digest.id]))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    # The original five columns first and in order, then the segment the row belongs to.
    assert rows[0] == ["position", "title", "url", "unique_clicks", "clicks_per_1000_delivered", "segment"]
    assert {row[5] for row in rows[1:]} == {"العربية · كل الأقسام"}  # one segment: Arabic, every section
    items = list(DigestItem.objects.filter(digest=digest).select_related("article").order_by("position"))
    assert [row[1] for row in rows[1:]] == [item.article.title for item in items]
    assert [(row[0], row[3], row[4]) for row in rows[1:]] == [
        ("1", "3", "300.0"),
        ("2", "1", "100.0"),
        ("3", "0", "0.0"),
        ("4", "0", "0.0"),
        ("5", "0", "0.0"),
    ]
    assert all("utm_campaign=" in row[2] for row in rows[1:])
    assert rows[1][3] in html and items[0].article.title in html

    # The digest clicks counted as reads of the first story: three readers, once each today.
    readers = read_rollup.read_day(timezone.localdate())[items[0].article_id][1]
    assert readers == 3
