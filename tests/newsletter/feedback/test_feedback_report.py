"""Issue 27: the edition report shows, per story and segment, how many readers asked for more
and for less (through the links of their own emails, counted by the analytics roll-up)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.newsletter.analytics.report_pages import editor_client, feedback_cells, roll_up
from tests.newsletter.feedback.sending import BROWSER

pytestmark = pytest.mark.django_db
ARABIC = "العربية · كل الأقسام"
ENGLISH = "الإنجليزيّة · كل الأقسام"
LATIN = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")


def test_the_report_counts_the_readers_who_asked_for_more_and_for_less(sent) -> None:
    first, second = sent["stories"][:2]
    votes = [
        ("reader@example.com", first, "less"),
        ("reader@example.com", second, "more"),
        ("english@example.com", first, "less"),
        ("english@example.com", first, "less"),  # the same again: still one reader
    ]
    for address, story, choice in votes:
        assert Client().post(sent["links"][address][(story.pk, choice)], HTTP_USER_AGENT=BROWSER).status_code == 200
    Client().get(sent["links"]["reader@example.com"][(first.pk, "more")], HTTP_USER_AGENT=BROWSER)  # only asked

    roll_up()

    page = editor_client().get(reverse("admin:newsletter_digest_report", args=[sent["digest"].pk])).content.decode()
    tables = {
        name: {title: (int(more.translate(LATIN)), int(less.translate(LATIN))) for title, more, less in rows}
        for name, rows in feedback_cells(page).items()
    }
    assert set(tables) == {ARABIC, ENGLISH}
    assert tables[ARABIC][first.title] == (0, 1) and tables[ARABIC][second.title] == (1, 0)
    assert tables[ENGLISH][first.title] == (0, 1) and tables[ENGLISH][second.title] == (0, 0)
    assert all(votes == (0, 0) for title, votes in tables[ARABIC].items() if title not in (first.title, second.title))
