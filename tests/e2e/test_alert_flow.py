"""Breaking-news alerts in a real browser (issue 27, done means 2 and 3): an editor of the Editors
group sends one article as an alert from its admin page (the confirmation shows the audience
count; screenshot `admin-alert-confirm-1000.png` for the README) and it reaches the opted-in
readers once the window has passed; they send another and cancel it inside the window, and
nothing of it leaves. Runs with JavaScript on and off."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from newsletter.alerts.models import Alert
from newsletter.editions.models import Digest
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from tests.e2e.conftest import assert_reads_rtl, editors_group, html_of, screenshots_dir
from tests.newsletter.digest_helpers import article, subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-editor-password-2026"
WINDOW_SECONDS = 2  # the product's 60 s, shortened so the test waits for it


def log_in(page, site) -> None:
    page.goto(site.url + "/admin/login/?next=/admin/")
    page.locator("#id_username").fill("alerts-editor")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")


def start_alert(page, site, article_id: int) -> None:
    """From the article's admin page to the alert's cancel window."""
    page.goto(f"{site.url}/admin/articles/article/{article_id}/change/")
    page.get_by_role("link", name="أرسل تنبيهًا عاجلًا").click()
    page.wait_for_url(f"**/admin/newsletter/alert/send/{article_id}/")


def test_an_editor_sends_an_alert_from_the_article_page_and_cancels_another(
    site, context_factory, javascript, outbox, settings
) -> None:
    settings.ALERT_CANCEL_SECONDS = WINDOW_SECONDS
    readers = [subscriber(f"alert{i}.e2e@example.com") for i in range(3)]
    Subscriber.objects.filter(pk__in=[r.pk for r in readers[:2]]).update(alerts=True)
    sent_story = article("عاجل: انفجار قرب ميناء البصرة", readers=0)
    cancelled_story = article("عاجل: إغلاق مطار بغداد مؤقتًا", readers=0)
    group = editors_group()
    group.permissions.add(*Permission.objects.filter(codename__in=["add_alert", "view_alert"]))
    editor = get_user_model().objects.create_user("alerts-editor", "ed@example.com", PASSWORD, is_staff=True)
    editor.groups.add(group)
    page = context_factory(javascript=javascript, width=1000, height=700).new_page()
    log_in(page, site)

    # The first alert: the confirmation step shows the headline and the audience (two opted in).
    start_alert(page, site, sent_story.pk)
    assert_reads_rtl(page, selector="body", text_selector="#content")
    assert "انفجار قرب ميناء البصرة" in page.locator("#alert-headline").inner_text()
    assert "٢" in page.locator("#alert-audience").inner_text()
    if javascript:
        page.screenshot(path=str(screenshots_dir() / "admin-alert-confirm-1000.png"), full_page=True)
    assert not Alert.objects.exists()
    page.locator("#alert-confirm").click()
    page.wait_for_url("**/admin/newsletter/alert/*/window/")
    assert page.locator("#alert-cancel").is_visible()
    assert outbox() == []  # nothing leaves inside the window

    # The second alert, cancelled inside its window.
    start_alert(page, site, cancelled_story.pk)
    page.locator("#alert-confirm").click()
    page.wait_for_url("**/admin/newsletter/alert/*/window/")
    page.locator("#alert-cancel").click()
    page.wait_for_url("**/admin/newsletter/alert/*/window/")
    assert "أُلغي التنبيه: لم يُرسل شيء." in page.locator("#content-start, body").first.inner_text()
    assert page.locator("#alert-cancel").count() == 0

    # The windows pass; the minute beat (release_scheduled) sends what was not cancelled.
    time.sleep(WINDOW_SECONDS + 0.5)
    runs.release_scheduled()
    sent = Digest.objects.get(alert__article=sent_story)
    assert sent.status == Digest.Status.SENT and sent.sent_count == 2
    assert Digest.objects.get(alert__article=cancelled_story).status == Digest.Status.CANCELLED
    messages = outbox()
    assert sorted(str(m["To"]).strip() for m in messages) == ["alert0.e2e@example.com", "alert1.e2e@example.com"]
    assert all("انفجار قرب ميناء البصرة" in html_of(m) and "إغلاق مطار" not in html_of(m) for m in messages)


def test_the_alert_screens_and_email_have_no_accessibility_violation(site, context_factory, outbox, settings) -> None:
    """axe-core, as tests/e2e/test_accessibility.py does for the other pages and emails."""
    from newsletter.alerts import services
    from newsletter.delivery import dispatch
    from newsletter.subscribers.token_links import alerts_unsubscribe_url
    from tests.e2e.accessibility import violations

    reader = subscriber("axe.alert@example.com")
    english = subscriber("axe.alert.en@example.com", language="en")
    Subscriber.objects.filter(pk__in=[reader.pk, english.pk]).update(alerts=True)
    story = article("عاجل: انفجار قرب ميناء البصرة", readers=0, image_url="https://cdn.example.com/port.jpg")
    waiting = article("عاجل: إغلاق مطار بغداد مؤقتًا", readers=0)
    group = editors_group()
    group.permissions.add(*Permission.objects.filter(codename__in=["add_alert", "view_alert"]))
    editor = get_user_model().objects.create_user("alerts-editor", "ed@example.com", PASSWORD, is_staff=True)
    editor.groups.add(group)
    settings.ALERT_CANCEL_SECONDS = 0
    sent = services.alert_create(article_id=story.pk, user=editor)
    runs.release_scheduled()
    dispatch.send_all_sync(digest_id=sent.digest_id, sleep=lambda _: None)
    settings.ALERT_CANCEL_SECONDS = 60
    pending = services.alert_create(article_id=waiting.pk, user=editor)
    page = context_factory(bypass_csp=True, width=1000).new_page()
    log_in(page, site)
    found = []
    for path in (
        f"/admin/newsletter/alert/send/{article('خبر آخر', readers=0).pk}/",
        f"/admin/newsletter/alert/send/{story.pk}/",  # refused: sent already
        f"/admin/newsletter/alert/{pending.pk}/window/",
        f"/admin/newsletter/alert/{sent.pk}/window/",
        "/admin/newsletter/alert/",
        f"/admin/articles/article/{story.pk}/change/",
        alerts_unsubscribe_url(reader.uuid).removeprefix("http://testserver").removeprefix(site.url),
    ):
        page.goto(site.url + path)
        found += [f"{path}: {line}" for line in violations(page)]
    for message in outbox():
        page.set_content(html_of(message))
        found += [f"alert email to {message['To']}: {line}" for line in violations(page)]
    assert len(outbox()) == 2
    assert not found, "\n".join(found)
