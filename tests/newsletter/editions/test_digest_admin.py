"""The editor's flow in the Django admin, as a member of the Editors group (done-means 5):
next edition as a draft, reorder, pin, remove, add, intro/subject, preview at 600/375 px, test
send, approve (twice), cancel; read-only once sent; no access to subscribers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from newsletter.editions import compose, curation
from newsletter.editions.models import Digest, DigestItem
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from sitewide import dates
from tests.newsletter.digest_helpers import ranked_articles, subscriber

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def outbox_backend(settings) -> None:
    settings.EMAIL_BACKEND = "newsletter.backends.outbox.OutboxEmailBackend"


@pytest.fixture
def editor_client() -> Client:
    user = get_user_model().objects.create_user("editor1", "editor1@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


def posted(client: Client, path: str, data: dict | None = None) -> list[str]:
    """POST as the browser does (following the redirect) and return the messages the editor
    sees on the next page; fails unless the answer was a redirect."""
    client.get(reverse("admin:index"))  # shows (and so drops) messages left by earlier requests
    response = client.post(path, data or {}, follow=True)
    assert [code for _, code in response.redirect_chain] == [302], response.status_code
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def approval_required(settings) -> None:
    settings.DIGEST_REQUIRE_APPROVAL = True


def url(name: str, *args: object) -> str:
    return reverse(f"admin:newsletter_digest_{name}", args=args)


def inline_post(
    digest: Digest,
    *,
    subject: str = "",
    intro: str = "",
    changes: dict[int, dict[str, object]] | None = None,
    add_article: int | None = None,
) -> dict[str, object]:
    """The change form as the browser posts it: edition texts plus the items formset."""
    items = list(DigestItem.objects.filter(digest=digest).order_by("removed", "position", "id"))
    data: dict[str, object] = {
        "subject": subject,
        "preheader": "",
        "intro": intro,
        "items-TOTAL_FORMS": len(items) + 1,
        "items-INITIAL_FORMS": len(items),
        "items-MIN_NUM_FORMS": 0,
        "items-MAX_NUM_FORMS": 1000,
    }
    for index, item in enumerate(items):
        row = {
            "id": item.pk,
            "digest": digest.pk,
            "article": item.article_id,
            "position": item.position,
            "pinned": item.pinned,
            "removed": item.removed,
        }
        row.update((changes or {}).get(item.pk, {}))
        for key, value in row.items():
            if value is True:
                data[f"items-{index}-{key}"] = "on"
            elif value is not False:
                data[f"items-{index}-{key}"] = value
    extra = len(items)
    data[f"items-{extra}-digest"] = digest.pk
    data[f"items-{extra}-position"] = 1  # as the browser posts the empty row's rendered default
    if add_article:
        data[f"items-{extra}-article"] = add_article
    return data


def test_editor_flow_end_to_end(editor_client: Client, outbox) -> None:
    articles = ranked_articles(12)
    subscriber("reader@example.com")

    # The next daily edition, composed from the current most-read list.
    response = editor_client.post(url("next", "daily"))
    digest = Digest.objects.get(frequency="daily")
    assert response.status_code == 302 and response["Location"] == url("change", digest.pk)
    page = editor_client.get(url("change", digest.pk))
    assert page.status_code == 200
    assert articles[0].title in page.content.decode()
    assert editor_client.get(reverse("admin:newsletter_digest_changelist")).status_code == 200

    # Remove the top story, pin the third, add the 12th (autocomplete field), write an intro.
    items = {i.article_id: i for i in DigestItem.objects.filter(digest=digest)}
    data = inline_post(
        digest,
        subject="",
        intro="صباح الخير، هذه أبرز القصص.",
        changes={items[articles[0].pk].pk: {"removed": True}, items[articles[2].pk].pk: {"pinned": True}},
        add_article=articles[11].pk,
    )
    response = editor_client.post(url("change", digest.pk), data)
    assert response.status_code == 302, (
        response.context["errors"],
        [f.errors for f in response.context["inline_admin_formsets"][0].formset.forms],
    )
    order = [i.article_id for i in curation.active_items(digest)]
    assert order[0] == articles[1].pk and articles[0].pk not in order and order[-1] == articles[11].pk
    assert DigestItem.objects.get(digest=digest, article=articles[11]).pinned
    assert DigestItem.objects.get(digest=digest, article=articles[2]).pinned

    # Move the added article to the top with the position fields (what the drag script writes,
    # and what an editor without JavaScript types), while typing a new intro in the same post.
    added = DigestItem.objects.get(digest=digest, article=articles[11])
    positions = {item.pk: item.position + 1 for item in curation.active_items(digest)}
    positions[added.pk] = 0
    data = inline_post(
        digest,
        intro="مقدمة معدّلة قبل الحفظ",
        changes={pk: {"position": position} for pk, position in positions.items()},
    )
    response = editor_client.post(url("change", digest.pk), data)
    assert response.status_code == 302
    order = [i.article_id for i in curation.active_items(digest)]
    assert order[0] == articles[11].pk and order[1] == articles[1].pk
    digest.refresh_from_db()
    assert digest.intro == "مقدمة معدّلة قبل الحفظ"
    assert DigestItem.objects.get(digest=digest, article=articles[2]).pinned

    # Preview at both widths, as Arabic and English.
    preview = editor_client.get(url("preview", digest.pk)).content.decode()
    assert 'width="600"' in preview and 'width="375"' in preview and "srcdoc=" in preview
    assert "مقدمة معدّلة" in preview
    assert editor_client.get(url("preview", digest.pk) + "?language=en").status_code == 200

    # Test send to a list of addresses the editor enters, each marked as a test.
    addresses = "editor1@example.com,\n desk@example.org، chief@example.net"
    response = editor_client.post(url("send_test", digest.pk), {"addresses": addresses, "language": "ar"})
    assert response.status_code == 302
    tests = outbox()
    assert sorted(m["To"] for m in tests) == ["chief@example.net", "desk@example.org", "editor1@example.com"]
    for test_message in tests:
        assert test_message["Subject"].strip().startswith("[تجربة]") and test_message["X-Newsletter-Test"] == "1"

    # Approve twice (double click): one transition, approved by this editor; the second click
    # is told the edition is no longer a draft.
    assert posted(editor_client, url("approve", digest.pk)) == [f"{digest}: اعتُمد."]
    assert posted(editor_client, url("approve", digest.pk)) == [f"{digest}: لم يُعتمد (ليس مسودة)."]
    digest.refresh_from_db()
    assert digest.status == Digest.Status.APPROVED and digest.approved_by.username == "editor1"


def test_approve_action_from_list_and_cancel(editor_client: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    response = editor_client.post(
        reverse("admin:newsletter_digest_changelist"), {"action": "approve_selected", "_selected_action": [digest.pk]}
    )
    assert response.status_code == 302
    digest.refresh_from_db()
    assert digest.status == Digest.Status.APPROVED
    assert posted(editor_client, url("cancel", digest.pk)) == ["أُلغي العدد."]
    digest.refresh_from_db()
    assert digest.status == Digest.Status.CANCELLED
    again = posted(editor_client, url("cancel", digest.pk))
    assert again == [f"لا يمكن إلغاء عدد حالته «{digest.get_status_display()}» من هنا."]


def test_sent_edition_is_read_only(editor_client: Client) -> None:
    articles = ranked_articles(4)
    digest = runs.next_draft("daily")
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENT)
    data = inline_post(digest, intro="تعديل متأخر")
    assert editor_client.post(url("change", digest.pk), data).status_code == 403
    editor_client.post(url("send", digest.pk))
    digest.refresh_from_db()
    assert digest.intro == ""
    assert [i.article_id for i in curation.active_items(digest)] == [a.pk for a in articles]
    assert editor_client.get(url("change", digest.pk)).status_code == 200  # still viewable
    assert editor_client.get(url("preview", digest.pk)).status_code == 200


def test_unapprove_returns_to_draft_and_says_when_it_cannot(editor_client: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    posted(editor_client, url("approve", digest.pk))
    digest.refresh_from_db()
    assert digest.status == Digest.Status.APPROVED
    assert posted(editor_client, url("unapprove", digest.pk)) == []
    digest.refresh_from_db()
    assert digest.status == Digest.Status.DRAFT and digest.approved_by is None
    assert posted(editor_client, url("unapprove", digest.pk)) == ["لم يعد العدد معتمدًا بانتظار الإرسال."]


def test_unpin_through_the_change_form(editor_client: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    item = curation.active_items(digest)[2]
    curation.pin(digest_id=digest.pk, article_id=item.article_id)
    data = inline_post(digest, changes={item.pk: {"pinned": False}})
    data["items-TOTAL_FORMS"] = data["items-INITIAL_FORMS"]  # no blank row for a new article
    response = editor_client.post(url("change", digest.pk), data)
    assert response.status_code == 302
    assert not DigestItem.objects.get(pk=item.pk).pinned


def test_pause_resume_and_cancel_sending_actions(
    editor_client: Client, approval_required, django_capture_on_commit_callbacks
) -> None:
    """The changelist actions call delivery.controls: pause leaves rows queued, resume sends
    them, cancel skips what is left; each says how many editions or readers it touched."""
    ranked_articles(4)
    for n in range(3):
        subscriber(f"r{n}@example.com")
    changelist = reverse("admin:newsletter_digest_changelist")
    digest = runs.next_draft("daily")
    curation.approve(digest, get_user_model().objects.get(username="editor1"))
    dispatch.dispatch(digest_id=digest.pk, enqueue=False)

    def act(action: str) -> list[str]:
        shown = posted(editor_client, changelist, {"action": action, "_selected_action": [digest.pk]})
        digest.refresh_from_db()
        return shown

    assert act("pause_sending") == ["الأعداد التي أُوقف إرسالها: ١"] and digest.status == Digest.Status.PAUSED
    with django_capture_on_commit_callbacks(execute=True):
        assert act("resume_sending") == ["الأعداد التي استؤنف إرسالها: ١"]
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT  # eager Celery: the queued batch ran on resume
    assert Delivery.objects.filter(digest=digest, status=Delivery.Status.SENT).count() == 3

    other = runs.next_draft("weekly")
    subscriber("w@example.com", frequency="weekly")
    curation.approve(other, get_user_model().objects.get(username="editor1"))
    dispatch.dispatch(digest_id=other.pk, enqueue=False)
    digest = other
    assert act("cancel_sending") == ["أُلغي الإرسال؛ المشتركون الذين لن يصلهم: ١"]
    assert digest.status == Digest.Status.CANCELLED
    assert Delivery.objects.get(digest=digest).status == Delivery.Status.SKIPPED


def test_change_form_refuses_when_sending_started_meanwhile(editor_client: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    data = inline_post(digest, intro="نص")
    # Another tab dispatched it after this form was loaded.
    Digest.objects.filter(pk=digest.pk).update(status=Digest.Status.SENDING)
    response = editor_client.post(url("change", digest.pk), data)
    assert response.status_code in (200, 403)
    digest.refresh_from_db()
    assert digest.intro == ""


def test_waiting_for_approval_and_skip_reason_shown(editor_client: Client, settings) -> None:
    settings.DIGEST_REQUIRE_APPROVAL = True
    ranked_articles(2)
    skipped = compose.compose(frequency="weekly")
    ranked_articles(3, prefix="إضافي")
    waiting = compose.compose(frequency="daily")
    page = editor_client.get(reverse("admin:newsletter_digest_changelist")).content.decode()
    assert skipped.status == Digest.Status.SKIPPED and skipped.skip_reason in page
    assert waiting.status == Digest.Status.DRAFT and "بانتظار الاعتماد" in page


def test_editors_cannot_touch_subscribers_or_users(editor_client: Client) -> None:
    assert editor_client.get(reverse("admin:newsletter_subscriber_changelist")).status_code == 403
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_get_does_not_change_state(editor_client: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    for name in ("approve", "cancel", "send_test", "refresh"):
        assert editor_client.get(url(name, digest.pk)).status_code == 405
    digest.refresh_from_db()
    assert digest.status == Digest.Status.DRAFT


@pytest.mark.parametrize(
    "addresses",
    ["", "not-an-address", "ok@example.com, bad@", ",".join(f"r{i}@example.com" for i in range(11))],
)
def test_test_send_refuses_bad_address_lists_and_sends_nothing(editor_client: Client, outbox, addresses) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    response = editor_client.post(url("send_test", digest.pk), {"addresses": addresses, "language": "ar"}, follow=True)
    assert response.status_code == 200
    assert outbox() == []
    assert 'class="error"' in response.content.decode()


def test_send_now_confirmation_shows_audience_per_segment_then_sends_once(
    editor_client: Client, outbox, django_capture_on_commit_callbacks
) -> None:
    from tests.newsletter.digest_helpers import section

    ranked_articles(4)
    sport = section("رياضة", "sport")
    subscriber("a@example.com")
    subscriber("b@example.com", language="en")
    subscriber("c@example.com", topics=(sport,))
    subscriber("w@example.com", frequency="weekly")
    digest = runs.next_draft("daily")

    page = editor_client.get(url("send", digest.pk)).content.decode()
    assert "رياضة" in page and "كل الأقسام" in page
    assert Digest.objects.get(pk=digest.pk).status == Digest.Status.DRAFT  # GET changes nothing
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(\d+)</td></tr>", page)
    assert sorted(int(n) for *_, n in rows) == [1, 1, 1]

    with django_capture_on_commit_callbacks(execute=True):
        editor_client.post(url("send", digest.pk), {"_send_now": "1"})
        editor_client.post(url("send", digest.pk), {"_send_now": "1"})  # a second click
    digest.refresh_from_db()
    assert digest.status in (Digest.Status.SENDING, Digest.Status.SENT)
    # One delivery and one email per subscriber: the sport-only reader's edition is topped up
    # from the general list (newsletter.editions.segments), never skipped.
    assert Delivery.objects.filter(digest=digest).count() == 3
    assert sorted(m["To"] for m in outbox()) == ["a@example.com", "b@example.com", "c@example.com"]


def test_schedule_at_from_the_edition_page(editor_client: Client) -> None:
    ranked_articles(4)
    digest = runs.next_draft("daily")
    when = timezone.localtime() + timedelta(hours=3)
    editor_client.post(url("send", digest.pk), {"_schedule": "1", "when": f"{when:%Y-%m-%dT%H:%M}"})
    digest.refresh_from_db()
    assert digest.status == Digest.Status.APPROVED
    assert timezone.localtime(digest.send_at).strftime("%Y-%m-%d %H:%M") == f"{when:%Y-%m-%d %H:%M}"
    past = timezone.localtime() - timedelta(hours=1)
    other = runs.next_draft("weekly")
    editor_client.post(url("send", other.pk), {"_schedule": "1", "when": f"{past:%Y-%m-%dT%H:%M}"})
    other.refresh_from_db()
    assert other.status == Digest.Status.DRAFT and other.send_at is None


def test_schedule_form_writes_the_beat_rows_in_arabic(editor_client: Client) -> None:
    from django_celery_beat.models import PeriodicTask

    page = editor_client.get(url("schedule")).content.decode()
    assert "السبت" in page and "العدد اليومي" in page
    response = editor_client.post(
        url("schedule"),
        {
            "daily_enabled": "on",
            "daily_time": "06:30",
            "weekly_enabled": "on",
            "weekly_day": "4",
            "weekly_time": "09:15",
        },
    )
    assert response.status_code == 302
    daily = PeriodicTask.objects.get(name="Daily digest").crontab
    weekly = PeriodicTask.objects.get(name="Weekly digest").crontab
    assert (daily.hour, daily.minute, daily.day_of_week) == ("6", "30", "*")
    assert (weekly.hour, weekly.minute, weekly.day_of_week) == ("9", "15", "5")  # Friday in crontab terms
    assert timezone.localtime(runs.next_run("weekly")).weekday() == 4
    # Bad input: a clear error and nothing changed.
    response = editor_client.post(url("schedule"), {"daily_time": "25:99", "weekly_day": "9", "weekly_time": "x"})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert PeriodicTask.objects.get(name="Daily digest").crontab.hour == "6"


def test_raw_periodic_task_screens_are_for_administrators_only(editor_client: Client) -> None:
    assert editor_client.get("/admin/django_celery_beat/periodictask/").status_code == 403
    assert "django_celery_beat" not in editor_client.get("/admin/").content.decode()


# Figures on the admin pages we render ourselves follow NUMERALS like the email and the site
# (Arabic-Indic digits in Arabic by default, Latin when NUMERALS=latin); the newsroom's zone is
# named by its city.
@pytest.mark.parametrize(("numerals", "three"), [("", "٣"), ("arabic", "٣"), ("latin", "3")])
def test_the_send_page_counts_in_the_configured_digits(editor_client: Client, settings, numerals, three) -> None:
    settings.NUMERALS = numerals
    settings.TIME_ZONE = "Asia/Baghdad"
    ranked_articles(4)
    for name in "abc":
        subscriber(f"{name}@example.com")
    digest = runs.next_draft("daily")
    page = editor_client.get(url("send", digest.pk)).content.decode()
    assert f"أرسل الآن (المشتركون: {three})" in page
    assert f'<tfoot><tr><th scope="row" colspan="2">المجموع</th><td>{three}</td></tr></tfoot>' in page
    assert "بتوقيت غرفة الأخبار (بغداد)" in page  # not "(Asia/Baghdad)"


@pytest.mark.parametrize(("numerals", "two"), [("", "٢"), ("latin", "2")])
def test_the_dashboard_counts_in_the_configured_digits(admin_client: Client, settings, numerals, two) -> None:
    settings.NUMERALS = numerals
    for name in "ab":
        Subscriber.objects.create(email=f"{name}@example.com", status=Subscriber.Status.PENDING)
    page = admin_client.get("/admin/newsletter/digest/dashboard/").content.decode()
    assert f'<tr><th scope="row">بانتظار التأكيد</th><td>{two}</td></tr>' in page


def test_the_edition_page_shows_its_dates_in_the_configured_style(editor_client: Client, settings) -> None:
    settings.NUMERALS = ""
    settings.TIME_ZONE = "Asia/Baghdad"
    ranked_articles(4)
    digest = runs.next_draft("daily")
    Digest.objects.filter(pk=digest.pk).update(scheduled_for=datetime(2026, 12, 1, 4, 0, tzinfo=UTC))
    page = editor_client.get(url("change", digest.pk)).content.decode()
    assert "١ ديسمبر ٢٠٢٦، ٠٧:٠٠" in page  # 04:00 UTC in Baghdad, as the email writes dates
    assert "ديسمبر 1, 2026" not in page  # Django's own "N j, Y" with Latin digits
    changelist = editor_client.get(reverse("admin:newsletter_digest_changelist")).content.decode()
    assert f'<td class="field-shown_audience_count">{dates.digits(0)}</td>' in changelist
