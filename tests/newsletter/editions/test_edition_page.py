"""The edition page (the digest's admin change form) with 10 stories stays cheap (issue 13: under
300 ms): its SQL is pinned here, query by query, whatever the number of stories; the server time
is measured by bench/edition_page.py (bench/README.md)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletter.editions import curation
from newsletter.editions.models import Digest, DigestItem
from newsletter.orchestration import runs
from newsletter.personal import preview
from tests.newsletter.digest_helpers import article, ranked_articles

pytestmark = pytest.mark.django_db

# One line per query the page runs, in order: the table read (FROM) and what for.
EXPECTED = [
    "django_session",  # the session
    "auth_user",  # the editor
    "newsletter_digest",  # the edition (ModelAdmin.get_object)
    "auth_permission",  # the editor's own permissions
    "auth_permission",  # the editor's group permissions
    "newsletter_digestitem",  # the story rows with their articles and sections (one query)
    "articles_articledailystats",  # reads in the edition's window, all stories at once
    "newsletter_digestitem",  # the previous editions' stories (the "in the previous edition" marks)
    "articles_section",  # the test send's segments (each language, every section or one: issue 22)
    "newsletter_digest",  # the edition's waves (local delivery time: newsletter.orchestration.waves)
    "newsletter_digest",  # today's editions' numbers: what "send now" dates it (the sending note)
    "newsletter_subjectvariant",  # the subject lines of the subject-line test box (issue 27)
]
FROM = re.compile(r'\bFROM "(\w+)"')


def tables(queries: list[dict[str, str]]) -> list[str]:
    return [(FROM.search(q["sql"]) or re.search(r"(\w+)", q["sql"]))[1] for q in queries]  # type: ignore[index]


@pytest.fixture
def editor_client() -> Client:
    user = get_user_model().objects.create_user("editor1", "editor1@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


def edition_with_previous(stories: int) -> Digest:
    articles = ranked_articles(stories + 2)
    for item in articles:
        item.image_url = f"https://cdn.example.com/{item.pk}.jpg"
        item.save(update_fields=["image_url"])
    digest = runs.next_draft("daily")
    previous = Digest.objects.create(
        frequency=digest.frequency,
        edition_date=digest.edition_date - timedelta(days=1),
        period_start=digest.period_start - timedelta(days=1),
        period_end=digest.period_end - timedelta(days=1),
        status=Digest.Status.SENT,
    )
    DigestItem.objects.create(digest=previous, article=articles[0], position=0)
    DigestItem.objects.create(digest=previous, article=article("قصة الأمس", readers=5), position=1)
    return digest


@pytest.mark.parametrize("stories", [3, 10])
def test_edition_page_runs_a_fixed_set_of_queries(editor_client: Client, settings, stories: int, time_machine) -> None:
    # Thursday afternoon: the next edition is Friday's, so the page says what "send now" sends.
    time_machine.move_to(datetime(2026, 12, 3, 15, 0, tzinfo=ZoneInfo("Asia/Baghdad")))
    settings.DIGEST_TOP_N = stories
    digest = edition_with_previous(stories)
    assert len(curation.active_items(digest)) == stories
    url = reverse("admin:newsletter_digest_change", args=[digest.pk])
    # A running server holds content types in memory after the first page (the test run clears
    # that cache between tests).
    ContentType.objects.get_for_model(Digest)
    # The distinct-lists count (issue 25) is shown from Redis: the page runs no query for it.
    preview.count_and_store(digest_id=digest.pk, now=timezone.now())
    with CaptureQueriesContext(connection) as captured:
        response = editor_client.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('class="digest-title"') == stories  # every story row rendered
    assert "في العدد السابق" in page  # the repeated story is marked, from the batched facts
    assert 'id="digest-lists-count"' in page
    assert tables(captured.captured_queries) == EXPECTED, "\n".join(q["sql"][:160] for q in captured.captured_queries)


def test_story_row_cells_sit_under_their_headers(editor_client: Client) -> None:
    """Each story row has one cell per column header (an existing row's fixed article keeps its
    cell, empty, under the header the add row's search uses)."""
    digest = edition_with_previous(3)
    page = editor_client.get(reverse("admin:newsletter_digest_change", args=[digest.pk])).content.decode()
    group = page[page.index('id="items-group"') :]
    header = group[group.index("<thead>") : group.index("</thead>")]
    # Visible headers and visible cells (Django's "hidden" class hides a th or td).
    columns = re.findall(r'<th class="column-(\w+)(?: required)?">', header)
    assert columns == ["story", "article", "position", "pinned", "for_everyone", "removed"]
    rows = re.findall(r'<tr class="form-row has_original[^"]*"[^>]*>(.*?)</tr>', group, re.S)
    assert len(rows) == DigestItem.objects.filter(digest=digest).count() > 0
    for row in rows:
        assert re.findall(r'<td class="field-(\w+)">', row) == columns
