"""The editor's side of breaking-news alerts (issue 27): the article page's button (Editors
group only), the confirmation step with the audience count, the cancel window and its button,
refusals in Arabic that change nothing, and the alerts' list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client

from articles.content.models import Article
from newsletter.alerts.models import Alert
from newsletter.editions.models import ALERT, Digest
from newsletter.subscribers.models import Subscriber
from tests.integration.helpers import make_subscribers
from tests.newsletter.digest_helpers import article

pytestmark = pytest.mark.django_db
NOON = datetime(2027, 5, 4, 9, 0, tzinfo=UTC)


def logged_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="ar")
    client.force_login(user)
    return client


@pytest.fixture
def clock(time_machine):
    # Set before anyone logs in: a session begun at the real time would be long expired at NOON.
    time_machine.move_to(NOON, tick=False)
    return time_machine


@pytest.fixture
def editor(clock) -> Client:
    user = User.objects.create_user("alert-ed", password="pw-editor-123", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return logged_in(user)


@pytest.fixture
def writer(clock) -> Client:
    """Staff who may edit articles but is not in the Editors group."""
    user = User.objects.create_user("writer", password="pw-writer-123", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="articles", codename__endswith="_article")
    )
    return logged_in(user)


@pytest.fixture
def story(clock) -> Article:
    ids = make_subscribers(4)
    Subscriber.objects.filter(id__in=ids[:3]).update(alerts=True)
    return article("انفجار في الميناء", readers=0)


def test_the_button_is_on_the_article_page_for_editors_only(editor, writer, story) -> None:
    url = f"/admin/articles/article/{story.pk}/change/"
    send = f"/admin/newsletter/alert/send/{story.pk}/"
    page = editor.get(url).content.decode()
    assert "أرسل تنبيهًا عاجلًا" in page and send in page
    other = writer.get(url)
    assert other.status_code == 200 and send not in other.content.decode()
    assert writer.get(send).status_code == 403
    assert writer.post(send).status_code == 403 and not Alert.objects.exists()


def test_confirm_shows_the_count_then_the_window_lets_the_editor_cancel(editor, story, clock) -> None:
    send = f"/admin/newsletter/alert/send/{story.pk}/"
    page = editor.get(send).content.decode()
    assert "انفجار في الميناء" in page and "يصل التنبيه إلى ٣ من القرّاء" in page
    assert not Alert.objects.exists()  # the confirmation step changes nothing
    response = editor.post(send)
    alert = Alert.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/newsletter/alert/{alert.pk}/window/"
    window = editor.get(response["Location"]).content.decode()
    assert "ألغِ التنبيه" in window and "يُرسل التنبيه في" in window
    clock.move_to(NOON + timedelta(seconds=30), tick=False)
    cancelled = editor.post(f"/admin/newsletter/alert/{alert.pk}/cancel/", follow=True).content.decode()
    assert "أُلغي التنبيه: لم يُرسل شيء." in cancelled and "ألغِ التنبيه" not in cancelled
    assert Digest.objects.get(pk=alert.digest_id).status == Digest.Status.CANCELLED
    # A second click says so and changes nothing.
    again = editor.post(f"/admin/newsletter/alert/{alert.pk}/cancel/", follow=True).content.decode()
    assert "لم يُلغَ التنبيه" in again
    listing = editor.get("/admin/newsletter/alert/")
    assert listing.status_code == 200 and "انفجار في الميناء" in listing.content.decode()
    # Its edition row opens on the alert's page: the edition page's "send now" would skip the window.
    edition_page = editor.get(f"/admin/newsletter/digest/{alert.digest_id}/change/")
    assert edition_page.status_code == 302 and edition_page["Location"] == f"/admin/newsletter/alert/{alert.pk}/window/"
    assert editor.get("/admin/newsletter/digest/nonsense/change/").status_code in (302, 404)


@pytest.mark.parametrize("change", ["draft", "excluded", "deleted", "sent"])
def test_a_refused_article_gets_the_reason_and_nothing_changes(editor, story, change) -> None:
    story_id = story.pk
    if change == "sent":
        editor.post(f"/admin/newsletter/alert/send/{story.pk}/")
    elif change == "deleted":
        story.delete()
    else:
        fields = {"status": Article.Status.DRAFT} if change == "draft" else {"exclude_from_digests": True}
        Article.objects.filter(pk=story.pk).update(**fields)
    before = (Alert.objects.count(), Digest.objects.filter(frequency=ALERT).count())
    send = f"/admin/newsletter/alert/send/{story_id}/"
    page = editor.get(send)
    assert page.status_code == 200 and 'id="alert-refusal"' in page.content.decode()
    assert 'id="alert-confirm"' not in page.content.decode()
    response = editor.post(send)
    assert response.status_code == 400 and 'id="alert-refusal"' in response.content.decode()
    assert (Alert.objects.count(), Digest.objects.filter(frequency=ALERT).count()) == before
