"""The public archive: sent editions only, the email's stories in the RTL site layout with the
signup link instead of per-recipient links, a paginated list and an RSS feed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from newsletter.editions import compose, curation
from newsletter.editions.models import Digest
from newsletter.email.links import archive_url
from tests.newsletter.digest_helpers import article, ranked_articles

pytestmark = pytest.mark.django_db


def sent_edition(*, now: datetime | None = None) -> Digest:
    ranked_articles(4, at=now)
    digest = compose.compose(frequency="daily", now=now)
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENT)
    digest.refresh_from_db()
    return digest


def test_edition_page_shows_stories_rtl_with_signup_link(client) -> None:
    digest = sent_edition()
    response = client.get(archive_url(digest).removeprefix("http://testserver"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    for item in curation.active_items(digest):
        assert item.article.title in html
    assert reverse("newsletter:signup") in html
    assert "[[" not in html and "unsubscribe" not in html


def test_edition_address_carries_the_iso_date_and_old_unpadded_links_still_open_it(client) -> None:
    # The first nine days of a month: the address read /archive/daily/2027-01-5/ (issue 21).
    digest = sent_edition(now=datetime(2027, 1, 5, 9, 0, tzinfo=ZoneInfo("Asia/Baghdad")))
    assert archive_url(digest) == "http://testserver/archive/daily/2027-01-05/"
    assert client.get("/archive/daily/2027-01-05/").status_code == 200
    old = client.get("/archive/daily/2027-1-5/")
    assert (old.status_code, old["Location"]) == (301, "/archive/daily/2027-01-05/")
    assert client.get("/archive/daily/2027-1-32/").status_code == 404


def test_unsent_edition_is_not_public(client) -> None:
    ranked_articles(4)
    digest = compose.compose(frequency="daily")
    assert client.get(archive_url(digest).removeprefix("http://testserver")).status_code == 404
    assert client.get("/archive/daily/2026-02-30/").status_code == 404
    assert client.get("/archive/monthly/2026-02-03/").status_code == 404


def test_list_paginates_and_links_editions(client) -> None:
    digest = sent_edition()
    response = client.get(reverse("archive:list"))
    assert response.status_code == 200
    assert archive_url(digest) in response.content.decode()
    assert client.get(reverse("archive:list") + "?page=999").status_code == 200
    assert client.get(reverse("archive:list") + "?page=abc").status_code == 200


def test_rss_feed_lists_sent_editions(client) -> None:
    digest = sent_edition()
    response = client.get(reverse("archive:feed"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/rss+xml")
    body = response.content.decode()
    assert archive_url(digest) in body
    assert curation.active_items(digest)[0].article.title in body


def test_script_in_title_escaped_on_archive(client) -> None:
    ranked_articles(3)
    article("<script>alert(1)</script> عنوان", readers=9000)
    digest = compose.compose(frequency="daily")
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENT)
    html = client.get(archive_url(digest).removeprefix("http://testserver")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
