"""What an editor sees before approving (issue 12): each segment of the audience with its size and
story count, a preview of any segment (language, topics) at 600 and 375 px, and the waves of an
edition with their times and counts, through the Django test client as an editor."""

from __future__ import annotations

import importlib
import re
from datetime import UTC, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsletter.editions import compose
from newsletter.editions.models import Digest
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from tests.newsletter.digest_helpers import article, local_seven, ranked_articles, section, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor() -> Client:
    user = get_user_model().objects.create_user("editor-seg", "editor-seg@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


def editors_group() -> Group:
    """The Editors group as its data migration makes it: a transactional test may run after one
    that flushed the migration's rows (permissions survive: post_migrate recreates them)."""
    group, created = Group.objects.get_or_create(name="Editors")
    if created or not group.permissions.exists():
        migration = importlib.import_module("articles.migrations.0002_editors_group")
        group.permissions.set(
            Permission.objects.get(content_type__app_label=app_label, codename=f"{action}_{model}")
            for app_label, models in migration.EDITOR_PERMISSIONS.items()
            for model, actions in models.items()
            for action in actions
        )
    return group


def preview_url(digest: Digest) -> str:
    return reverse("admin:newsletter_digest_preview", args=[digest.pk])


def segment_table(page: str) -> list[list[str]]:
    table = page.split('id="digest-segments"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>(.*?)</td></tr>", table, flags=re.S)
    return [re.split(r"</td><td>", row) for row in rows]


@pytest.fixture
def edition(settings) -> Digest:
    settings.NUMERALS = "latin"
    settings.DIGEST_MIN_STORIES = 3
    sport = section("رياضة", "sport")
    politics = section()
    ranked_articles(6)  # politics, most read
    article("مباراة القمة", readers=50, sec=sport)  # one sport story: the segment is topped up
    for index in range(3):
        subscriber(f"all{index}@example.com")
    subscriber("sport@example.com", topics=(sport,))
    subscriber("both@example.com", topics=(sport, politics))
    subscriber("en@example.com", language="en")
    return compose.compose(frequency="daily")


def test_each_segment_with_its_audience_and_story_count(editor: Client, edition: Digest) -> None:
    page = editor.get(preview_url(edition)).content.decode()
    rows = segment_table(page)
    cells = [[re.sub(r"<[^>]+>", "", cell).strip() for cell in row] for row in rows]
    by_topics = {(row[0], row[1]): row for row in cells}
    assert by_topics[("العربية", "كل الأقسام")][2] == "3"
    assert by_topics[("العربية", "كل الأقسام")][3] == "7"
    assert by_topics[("العربية", "رياضة، سياسة")][3] == "7"
    sport = by_topics[("العربية", "رياضة")]
    assert sport[2] == "1" and sport[3].startswith("1") and "(و2 من الأكثر قراءة في الموقع)" in sport[3]
    [english] = [row for row in cells if row[0] != "العربية"]
    assert english[1:3] == ["كل الأقسام", "1"]
    assert len(cells) == 4  # all (ar), all (en), sport, sport + politics


def test_preview_any_segment_at_600_and_375(editor: Client, edition: Digest) -> None:
    sport = section("رياضة", "sport")
    page = editor.get(preview_url(edition) + f"?language=ar&topic={sport.pk}").content.decode()
    assert 'width="600"' in page and 'width="375"' in page
    frame = re.search(r'srcdoc="([^"]*)"', page).group(1)
    assert "مباراة القمة" in frame and "الأكثر قراءة في الموقع" in frame
    chosen = re.search(r'<p id="chosen-segment">(.*?)</p>', page, flags=re.S).group(1)
    assert "رياضة" in chosen and "قصص الشريحة: 1" in chosen
    assert f'value="{sport.pk}" checked' in page
    # The link from the segment table (topics=1,2) works the same; English renders in English.
    english = editor.get(preview_url(edition) + "?language=en").content.decode()
    assert 'lang="en"' in re.search(r'srcdoc="([^"]*)"', english).group(1).replace("&quot;", '"')


@pytest.mark.parametrize("query", ["?language=xx", "?topics=999999", "?topics=abc,", "?topic=1%27%3B"])
def test_a_bad_segment_link_says_so_and_still_previews(editor: Client, edition: Digest, query: str) -> None:
    response = editor.get(preview_url(edition) + query)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="errornote"' in page and 'width="600"' in page
    assert Digest.objects.get(pk=edition.pk).status == Digest.Status.DRAFT


@pytest.mark.django_db(transaction=True)
def test_the_edition_page_lists_its_waves_with_times_and_counts(settings) -> None:
    settings.NUMERALS = "latin"
    day = (timezone.now() - timedelta(days=3)).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    ranked_articles(6, at=day - timedelta(hours=12))
    for email, zone in (("dubai@example.com", "Asia/Dubai"), ("casa@example.com", "Africa/Casablanca")):
        reader = subscriber(email)
        Subscriber.objects.filter(pk=reader.pk).update(time_zone=zone)
    for hour in range(0, 8):
        runs.run_waves(frequency="daily", now=day.replace(hour=hour))
    _tick, casablanca = local_seven("Africa/Casablanca", [day.replace(hour=hour) for hour in range(24)])
    edition = Digest.objects.get(utc_offset__isnull=True, edition_date=day.date())
    user = get_user_model().objects.create_user("editor-w", "w@example.com", "pw", is_staff=True)
    user.groups.add(editors_group())  # a transactional test may follow one that flushed the group
    client = Client()
    client.force_login(user)
    for page_url in (reverse("admin:newsletter_digest_change", args=[edition.pk]), preview_url(edition)):
        page = client.get(page_url).content.decode()
        waves = page.split('id="digest-waves"', 1)[1].split("</table>", 1)[0]
        rows = re.findall(
            r"<tr><td><span dir=\"ltr\">(UTC[^<]+)</span></td><td>([^<]+)</td><td>[^<]*</td><td>(\d+)</td>", waves
        )
        # Casablanca is at +01:00, or +00:00 in Ramadan (from the time zone database: issue 21).
        assert {offset for offset, _when, _n in rows} == {"UTC+04:00", f"UTC+0{casablanca // 60}:00"}, page_url
        # Each wave at 07:00 of its zone, shown in the newsroom's time (Baghdad, UTC+3).
        assert {when.split("، ")[1] for _o, when, _n in rows} == {"06:00", f"{10 - casablanca // 60:02d}:00"}
        assert all(n == "1" for _o, _w, n in rows)
