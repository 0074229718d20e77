"""Issue 27: the preference center lists what the reader asked for less of, each with an undo
(a POST from the page; the profile is rebuilt by the next roll-up)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from newsletter.editions.models import Digest
from newsletter.subscribers import feedback
from newsletter.subscribers.models import LessLikeThis
from newsletter.subscribers.tokens import Purpose, make_token
from sitewide.redis_client import get_redis
from tests.newsletter.digest_helpers import article, section, subscriber

pytestmark = pytest.mark.django_db

MORNING = datetime(2026, 12, 3, 7, 0, tzinfo=ZoneInfo("Asia/Baghdad"))


@pytest.fixture
def asked(django_capture_on_commit_callbacks):
    """A reader (and another) who asked for less of a sport story tagged نهائي_الكأس."""
    reader, other = subscriber("reader@example.com"), subscriber("other@example.com")
    story = article("نهائي الكأس الليلة", readers=10, at=MORNING, sec=section("رياضة", "sport"), tags=("نهائي_الكأس",))
    digest = Digest.objects.create(
        frequency="daily", edition_date=MORNING.date(), period_start=MORNING - timedelta(days=1), period_end=MORNING
    )
    with django_capture_on_commit_callbacks(execute=True):
        for who in (reader, other):
            feedback.record(subscriber_id=who.pk, digest_id=digest.pk, article_id=story.pk, choice="less", now=MORNING)
    get_redis().delete(feedback.CHANGED_KEY)
    return {"reader": reader, "other": other, "story": story}


def page_of(reader) -> str:
    return f"/newsletter/preferences/{make_token(reader.uuid, Purpose.PREFERENCES)}/"


def test_the_preference_center_lists_each_less_with_an_undo(asked, django_capture_on_commit_callbacks) -> None:
    reader, story = asked["reader"], asked["story"]
    client = Client(enforce_csrf_checks=True)
    page = client.get(page_of(reader))
    html = page.content.decode()
    assert "ما طلبت أقل منه" in html and "رياضة" in html and "نهائي الكأس" in html
    undo = f"{page_of(reader)}less/section/{story.section_id}/"
    assert f'action="{undo}"' in html

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(undo, {"csrfmiddlewaretoken": page.cookies["csrftoken"].value})
    assert response.status_code == 303 and response["Location"] == page_of(reader) + "?lifted=1"
    assert set(LessLikeThis.objects.filter(subscriber=reader).values_list("kind", flat=True)) == {"tag"}
    assert LessLikeThis.objects.filter(subscriber=asked["other"]).count() == 2  # another reader's stay
    assert get_redis().smembers(feedback.CHANGED_KEY) == {str(reader.pk).encode()}
    after = client.get(response["Location"]).content.decode()
    assert "ألغينا طلبك" in after and "نهائي الكأس" in after


def test_a_get_a_forged_token_or_an_unknown_kind_lifts_nothing(asked) -> None:
    reader, story = asked["reader"], asked["story"]
    client = Client()
    undo = f"{page_of(reader)}less/section/{story.section_id}/"
    assert client.get(undo).status_code == 405
    assert client.post(undo.replace("/section/", "/author/")).status_code == 404
    assert client.post(undo.replace(f"/{story.section_id}/", "/" + "9" * 30 + "/")).status_code == 404
    forged = f"/newsletter/preferences/{make_token(reader.uuid, Purpose.UNSUBSCRIBE)}/less/section/{story.section_id}/"
    assert client.post(forged).status_code == 404
    assert LessLikeThis.objects.count() == 4
