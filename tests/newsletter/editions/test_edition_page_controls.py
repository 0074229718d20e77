"""The edition page as a newsroom found it in its first week (issue 22): a pin could only be a pin
(the model's `for_everyone` had no control, so a politics lead vanished from the sport segment),
every story showed 0 readers until the first roll-up, removed stories looked like kept ones and
shared a number with them, the live progress box could not pause or cancel, and a test send
covered only the all-sections segment."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse

from articles.reading import reads
from newsletter.delivery import dispatch
from newsletter.editions import curation, segments
from newsletter.editions.models import Digest, DigestItem
from newsletter.orchestration import runs
from tests.newsletter.digest_helpers import article, ranked_articles, section, subscriber
from tests.newsletter.editions.test_digest_admin import inline_post, posted, url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def thursday_afternoon(time_machine) -> None:
    time_machine.move_to(datetime(2026, 12, 3, 15, 0, tzinfo=ZoneInfo("Asia/Baghdad")))


@pytest.fixture
def editor_client() -> Client:
    user = get_user_model().objects.create_user("editor1", "editor1@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


def test_a_pin_for_everyone_reaches_every_segment(editor_client: Client) -> None:
    sport = section("رياضة", "sport")
    ranked_articles(3, prefix="سياسة")
    for n in range(4):
        article(f"رياضة {n}", readers=400 - n, sec=sport)
    digest = runs.next_draft("daily")
    lead = curation.active_items(digest)[0]  # a politics story
    assert lead.article.section.slug == "politics"
    data = inline_post(digest, changes={lead.pk: {"pinned": True, "for_everyone": True}})
    data["items-TOTAL_FORMS"] = data["items-INITIAL_FORMS"]
    assert editor_client.post(url("change", digest.pk), data).status_code == 302
    item = DigestItem.objects.get(pk=lead.pk)
    assert item.pinned and item.for_everyone
    digest.refresh_from_db()
    sport_stories = segments.select(digest, (sport.pk,)).stories
    assert sport_stories[0].pk == lead.article_id  # the editor's lead leads the sport email too
    # And a pin only for its section stays out of sport, as before.
    data = inline_post(digest, changes={lead.pk: {"for_everyone": False}})
    data["items-TOTAL_FORMS"] = data["items-INITIAL_FORMS"]
    editor_client.post(url("change", digest.pk), data)
    digest.refresh_from_db()
    assert lead.article_id not in {a.pk for a in segments.select(digest, (sport.pk,)).stories}


def test_story_rows_show_live_readers_before_any_roll_up(editor_client: Client) -> None:
    stories = [article(f"خبر حي {n}", readers=0) for n in range(4)]
    for index, story in enumerate(stories):
        for visitor in range(5 - index):
            reads.record_read(story.pk, f"visitor-{visitor}")  # Redis only: no roll-up has run
    digest = runs.next_draft("daily")
    assert curation.active_items(digest)  # the ranking saw the Redis reads
    page = editor_client.get(url("change", digest.pk)).content.decode()
    assert "القرّاء في فترة العدد: ٥" in page and "القرّاء في فترة العدد: ٢" in page
    assert "القرّاء في فترة العدد: ٠" not in page


def test_a_removed_story_is_marked_and_shows_no_number(editor_client: Client) -> None:
    ranked_articles(5)
    digest = runs.next_draft("daily")
    gone = curation.active_items(digest)[1]
    curation.remove(digest_id=digest.pk, article_id=gone.article_id)
    page = editor_client.get(url("change", digest.pk)).content.decode()
    rows = re.findall(r'<tr class="form-row has_original[^"]*"[^>]*>(.*?)</tr>', page, re.S)
    removed = [row for row in rows if gone.article.title in row]
    assert len(removed) == 1 and "محذوفة: لن تُرسل" in removed[0] and "<del" in removed[0]
    assert 'type="number"' not in removed[0]  # no position beside the kept rows' positions
    kept = [
        re.search(r'type="number" name="items-\d+-position" value="(\d+)"', row) for row in rows if row not in removed
    ]
    numbers = [match.group(1) for match in kept if match]
    assert len(numbers) == 4 and len(set(numbers)) == 4


def test_the_progress_box_pauses_resumes_and_cancels(editor_client: Client, django_capture_on_commit_callbacks) -> None:
    ranked_articles(4)
    for n in range(3):
        subscriber(f"r{n}@example.com")
    digest = runs.next_draft("daily")
    curation.approve(digest, None)
    dispatch.dispatch(digest_id=digest.pk, enqueue=False)  # sending, its batch not run yet
    page = editor_client.get(url("change", digest.pk)).content.decode()
    box = page[page.index('id="edition-progress"') :]
    assert 'form="digest-sending-pause"' in box and 'form="digest-sending-cancel"' in box
    assert 'id="digest-sending-pause"' in page  # the form the button submits, outside the change form

    control = lambda name: reverse("admin:newsletter_digest_sending_control", args=[digest.pk, name])  # noqa: E731
    assert posted(editor_client, control("pause")) == ["أُوقف الإرسال مؤقتًا؛ لم يُرسل شيء آخر حتى تستأنفه."]
    digest.refresh_from_db()
    assert digest.status == Digest.Status.PAUSED
    assert 'form="digest-sending-resume"' in editor_client.get(url("progress", digest.pk)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        posted(editor_client, control("resume"))
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT  # eager Celery: the batch ran on resume
    assert posted(editor_client, control("cancel"))[0].startswith("لم يتغير شيء")  # sent: nothing to cancel


def test_only_who_may_change_editions_controls_a_send(django_capture_on_commit_callbacks) -> None:
    ranked_articles(4)
    subscriber("r@example.com")
    digest = runs.next_draft("daily")
    curation.approve(digest, None)
    dispatch.dispatch(digest_id=digest.pk, enqueue=False)
    viewer = get_user_model().objects.create_user("viewer", "v@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_digest"))
    client = Client()
    client.force_login(viewer)
    page = client.get(url("change", digest.pk)).content.decode()
    assert "edition-progress" in page and "digest-sending-pause" not in page
    response = client.post(reverse("admin:newsletter_digest_sending_control", args=[digest.pk, "pause"]))
    assert response.status_code == 403
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENDING


def test_a_test_send_covers_the_segment_the_editor_picks(editor_client: Client, outbox) -> None:
    sport = section("رياضة", "sport")
    ranked_articles(4, prefix="سياسة")
    for n in range(4):
        article(f"رياضة {n}", readers=300 - n, sec=sport)
    subscriber("fan@example.com", topics=(sport,))
    subscriber("all@example.com")
    digest = runs.next_draft("daily")
    page = editor_client.get(url("change", digest.pk)).content.decode()
    assert f'<option value="ar:{sport.pk}">العربية — رياضة</option>' in page

    editor_client.post(url("send_test", digest.pk), {"addresses": "ed@example.com", "segment": f"ar:{sport.pk}"})
    [test] = outbox()
    html = test.get_body(preferencelist=("html",)).get_content()
    assert "رياضة 0" in html and "(العربية — رياضة)" in test["Subject"]
    assert segments.select(digest, (sport.pk,)).stories[0].title in html

    editor_client.post(url("send_test", digest.pk), {"addresses": "ed@example.com", "segment": "every"})
    every = outbox()[1:]
    assert len(every) == 2  # one per segment of the audience: sport readers, all-sections readers
    assert sorted("رياضة" in m["Subject"] for m in every) == [False, True]
    assert all(m["X-Newsletter-Test"] == "1" for m in every)


def test_a_test_send_needs_the_change_permission_skips_who_left_and_is_limited(
    editor_client: Client, outbox, settings
) -> None:
    from newsletter.subscribers.addresses import suppress
    from newsletter.subscribers.models import Subscriber, Suppression

    ranked_articles(4)
    digest = runs.next_draft("daily")
    viewer = get_user_model().objects.create_user("viewer2", "v2@example.com", "pw", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_digest"))
    viewing = Client()
    viewing.force_login(viewer)
    assert "digest-test-send" not in viewing.get(url("change", digest.pk)).content.decode()
    response = viewing.post(url("send_test", digest.pk), {"addresses": "anyone@example.com"})
    assert response.status_code == 403 and outbox() == []

    suppress("erased@example.com", reason=Suppression.Reason.ERASED)
    Subscriber.objects.create(email="complained@example.com", status=Subscriber.Status.COMPLAINED)
    shown = posted(
        editor_client,
        url("send_test", digest.pk),
        {"addresses": "erased@example.com, complained@example.com, ed@example.com"},
    )
    assert [m["To"] for m in outbox()] == ["ed@example.com"]
    assert any("erased@example.com" in text and "complained@example.com" in text for text in shown)

    settings.TEST_SENDS_PER_USER_PER_HOUR = 3  # one used above
    editor_client.post(url("send_test", digest.pk), {"addresses": "a@example.com, b@example.com"})
    assert len(outbox()) == 3
    shown = posted(editor_client, url("send_test", digest.pk), {"addresses": "c@example.com"})
    assert len(outbox()) == 3 and any("حد النسخ التجريبية" in text for text in shown)
