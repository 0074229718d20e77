"""Breaking-news alerts (newsletter.alerts, issue 27): who gets one (opted-in confirmed readers,
suppression as for digests, no topics, no waves), the daily cap on each reader's local day, an
article sent once, the refusals, the cancel window, and the email's own List-Id and
List-Unsubscribe that ends alerts only. Real database and Redis; the ESP is the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from articles.content.models import Article
from newsletter.alerts import services
from newsletter.alerts.models import Alert
from newsletter.delivery import alert_audience, dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions.models import ALERT, Digest
from newsletter.orchestration import runs
from newsletter.subscribers import token_links
from newsletter.subscribers.models import Subscriber
from newsletter.tasks import release_alert
from tests.integration.helpers import make_section, make_subscribers
from tests.newsletter.digest_helpers import article

pytestmark = pytest.mark.django_db
S = Subscriber.Status
# A Tuesday evening in UTC: 23:00 in Baghdad (UTC+3), 15:00 in New York (UTC-5 in March).
EVENING = datetime(2027, 3, 9, 20, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def arabic():
    # The refusals are asserted in Arabic, the editor's language (another test may leave English on).
    with translation.override("ar"):
        yield


@pytest.fixture
def editor() -> User:
    return User.objects.create_user("alert-editor", password="x")


def readers(count: int, *, alerts: bool = True, status: str = S.ACTIVE, time_zone: str = "") -> list[int]:
    ids = make_subscribers(count, status=status)
    Subscriber.objects.filter(id__in=ids).update(alerts=alerts, time_zone=time_zone)
    return ids


def send(alert: Alert, *, at: datetime) -> Digest:
    """The alert's window has passed at `at`: the beat (or its task) releases it; every batch runs."""
    digest = Digest.objects.get(pk=alert.digest_id)
    runs.release(digest, now=at)
    dispatch.send_all_sync(digest_id=digest.pk, sleep=lambda _: None)
    digest.refresh_from_db()
    return digest


def alert_at(editor: User, moment: datetime, time_machine, **fields: object) -> Alert:
    time_machine.move_to(moment, tick=False)
    alert = services.alert_create(article_id=article("خبر عاجل", readers=0, **fields).pk, user=editor)
    time_machine.move_to(moment + timedelta(seconds=61), tick=False)
    return alert


def received(subscriber_id: int) -> int:
    return Delivery.objects.filter(
        subscriber_id=subscriber_id, digest__frequency=ALERT, status=Delivery.Status.SENT
    ).count()


def test_an_alert_reaches_confirmed_opted_in_readers_only(editor, time_machine, outbox) -> None:
    wanted = readers(3)
    readers(2, alerts=False)  # the digest only
    for status in (S.PENDING, S.UNSUBSCRIBED, S.BOUNCED, S.COMPLAINED):
        readers(1, status=status)  # opted in, but not confirmed or suppressed
    topic_reader = readers(1)[0]
    Subscriber.objects.get(pk=topic_reader).topics.add(make_section("sport", "رياضة"))  # alerts ignore topics
    alert = alert_at(editor, EVENING, time_machine)
    digest = send(alert, at=EVENING + timedelta(seconds=61))
    assert digest.status == Digest.Status.SENT
    assert (digest.audience_count, digest.sent_count) == (4, 4)
    messages = outbox()
    assert sorted(m["To"] for m in messages) == sorted(
        Subscriber.objects.filter(id__in=[*wanted, topic_reader]).values_list("email", flat=True)
    )
    message = messages[0]
    subscriber = Subscriber.objects.get(email=message["To"])
    assert "<alerts." in message["List-Id"] and "-digest." not in message["List-Id"]
    assert message["List-Unsubscribe"].strip() == f"<{token_links.alerts_unsubscribe_url(subscriber.uuid)}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Subject"].startswith("عاجل: خبر عاجل")
    html = message.get_body(("html",)).get_content()
    assert 'dir="rtl"' in html and "أوقف التنبيهات العاجلة" in html


def test_the_daily_cap_counts_each_readers_own_local_day(editor, time_machine, settings) -> None:
    settings.ALERTS_PER_DAY = 2
    baghdad = readers(1, time_zone="Asia/Baghdad")[0]
    new_york = readers(1, time_zone="America/New_York")[0]
    site = readers(1)[0]  # blank: the site's zone (Asia/Baghdad)
    Subscriber.objects.filter(pk=readers(1, time_zone="Mars/Olympus")[0]).update(email="mars@example.com")
    mars = Subscriber.objects.get(email="mars@example.com").pk  # unknown: the site's zone too
    for minutes in (0, 10):
        send(
            alert_at(editor, EVENING + timedelta(minutes=minutes), time_machine),
            at=EVENING + timedelta(minutes=minutes, seconds=61),
        )
    assert (received(baghdad), received(new_york), received(site), received(mars)) == (2, 2, 2, 2)
    # 20:30 UTC: still the same day everywhere: nobody gets a third.
    third = send(alert_at(editor, EVENING + timedelta(minutes=30), time_machine), at=EVENING + timedelta(minutes=31))
    assert third.audience_count == 0 and third.status == Digest.Status.SENT
    # 21:30 UTC: 00:30 on Wednesday in Baghdad, still Tuesday afternoon in New York.
    late = EVENING + timedelta(hours=1, minutes=30)
    assert alert_audience.count(now=late) == 3
    fourth = send(alert_at(editor, late, time_machine), at=late + timedelta(seconds=61))
    assert fourth.audience_count == 3
    assert (received(baghdad), received(new_york), received(site), received(mars)) == (3, 2, 3, 3)


def test_an_article_goes_out_as_an_alert_once(editor, time_machine) -> None:
    time_machine.move_to(EVENING, tick=False)
    story = article("خبر عاجل", readers=0)
    first = services.alert_create(article_id=story.pk, user=editor)
    with pytest.raises(services.AlertRefused, match="مرة واحدة"):
        services.alert_create(article_id=story.pk, user=editor)
    assert Alert.objects.count() == 1 and Digest.objects.filter(frequency=ALERT).count() == 1
    # A cancelled alert frees its article: the editor may send it again (once).
    assert services.alert_cancel(alert_id=first.pk)
    again = services.alert_create(article_id=story.pk, user=editor)
    assert again.pk != first.pk
    with pytest.raises(services.AlertRefused):
        services.alert_create(article_id=story.pk, user=editor)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"status": Article.Status.DRAFT}, "غير منشور"),
        ({"exclude_from_digests": True}, "مستبعد"),
        ("delete", "حُذف"),
    ],
)
def test_an_unpublished_excluded_or_deleted_article_is_refused_in_arabic(editor, time_machine, change, message) -> None:
    time_machine.move_to(EVENING, tick=False)
    story = article("خبر", readers=0)
    article_id = story.pk
    if change == "delete":
        story.delete()
    else:
        Article.objects.filter(pk=article_id).update(**change)
    with pytest.raises(services.AlertRefused, match=message):
        services.alert_create(article_id=article_id, user=editor)
    assert not Alert.objects.exists() and not Digest.objects.filter(frequency=ALERT).exists()


def test_an_article_published_later_is_refused(editor, time_machine) -> None:
    time_machine.move_to(EVENING, tick=False)
    story = article("خبر", readers=0)
    Article.objects.filter(pk=story.pk).update(published_at=EVENING + timedelta(hours=1))
    with pytest.raises(services.AlertRefused, match="غير منشور"):
        services.alert_create(article_id=story.pk, user=editor)


def test_cancelled_in_the_window_nothing_leaves(editor, time_machine, outbox) -> None:
    readers(3)
    time_machine.move_to(EVENING, tick=False)
    alert = services.alert_create(article_id=article("خبر", readers=0).pk, user=editor)
    # Inside the window: the task (or the beat) finds it waiting for its time.
    assert release_alert(alert.digest_id)["result"] == runs.RunResult.SCHEDULED
    assert services.alert_cancel(alert_id=alert.pk)
    assert not services.alert_cancel(alert_id=alert.pk)  # a second click changes nothing
    time_machine.move_to(EVENING + timedelta(minutes=5), tick=False)
    assert release_alert(alert.digest_id)["result"] == runs.RunResult.CANCELLED
    assert runs.release_scheduled() == []
    assert not Delivery.objects.exists() and outbox() == []
    assert Digest.objects.get(pk=alert.digest_id).status == Digest.Status.CANCELLED


def test_after_the_window_the_task_or_the_beat_sends_it_once_and_cancel_is_refused(
    editor, time_machine, outbox
) -> None:
    readers(3)
    time_machine.move_to(EVENING, tick=False)
    alert = services.alert_create(article_id=article("خبر", readers=0).pk, user=editor)
    time_machine.move_to(EVENING + timedelta(seconds=61), tick=False)
    # The task was lost: the minute beat sends it; the task arriving late sends nothing more.
    released = runs.release_scheduled()
    assert [o.result for o in released] == [runs.RunResult.DISPATCHED]
    assert release_alert(alert.digest_id)["result"] == runs.RunResult.ALREADY
    assert not services.alert_cancel(alert_id=alert.pk)
    dispatch.send_all_sync(digest_id=alert.digest_id, sleep=lambda _: None)
    assert len(outbox()) == 3
    assert Delivery.objects.filter(digest_id=alert.digest_id).count() == 3


def test_a_reader_who_stops_alerts_after_dispatch_is_skipped(editor, time_machine, outbox) -> None:
    keep, stop = readers(2)
    alert = alert_at(editor, EVENING, time_machine)
    runs.release(Digest.objects.get(pk=alert.digest_id), now=EVENING + timedelta(seconds=61))
    Subscriber.objects.filter(pk=stop).update(alerts=False)
    dispatch.send_all_sync(digest_id=alert.digest_id, sleep=lambda _: None)
    assert [m["To"] for m in outbox()] == [Subscriber.objects.get(pk=keep).email]
    assert Delivery.objects.get(subscriber_id=stop).status == Delivery.Status.SKIPPED


def test_the_alert_unsubscribe_link_ends_alerts_only(client) -> None:
    subscriber = Subscriber.objects.get(pk=readers(1)[0])
    url = token_links.alerts_unsubscribe_url(subscriber.uuid).removeprefix("http://testserver")
    page = client.get(url)
    assert page.status_code == 200 and "أوقف التنبيهات العاجلة" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.alerts  # a GET never changes anything (link scanners)
    # RFC 8058: a POST with no cookie and no CSRF token, answered 200, never a redirect.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert not subscriber.alerts and subscriber.status == S.ACTIVE


def test_an_alert_is_no_edition_of_the_archive_nor_of_the_days_run(editor, time_machine) -> None:
    readers(1)
    send(alert_at(editor, EVENING, time_machine), at=EVENING + timedelta(seconds=61))
    assert runs.sent_today("daily", now=EVENING + timedelta(minutes=2)) is None
    from newsletter.archive.views import public_editions

    assert not public_editions().exists()


def test_an_article_unpublished_during_the_window_is_not_mailed(editor, time_machine, outbox) -> None:
    readers(2)
    alert = alert_at(editor, EVENING, time_machine)
    Article.objects.filter(pk=alert.article_id).update(status=Article.Status.DRAFT)
    digest = send(alert, at=EVENING + timedelta(seconds=61))
    assert outbox() == [] and digest.skipped_count == 2 and digest.status == Digest.Status.SENT
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.SKIPPED}
