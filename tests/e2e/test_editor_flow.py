"""An editor in a real browser, as a member of the Editors group (not a superuser): log into the
admin, open the next daily edition, pin an article and move it to the top, preview the edition
(600 px and 375 px), send a test to themselves, approve it; then the real send runs and every
subscriber's digest shows the editor's order. Runs with JavaScript on and off."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from newsletter import jobs
from newsletter.models import Delivery, Digest, DigestItem
from tests.e2e.conftest import (
    assert_reads_rtl,
    check_at_widths,
    editors_group,
    html_of,
    messages_to,
    screenshots_dir,
)
from tests.newsletter.digest_helpers import ranked_articles, subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EDITOR_EMAIL = "editor.e2e@example.com"
PASSWORD = "a-long-editor-password-2026"


def headlines(page, html: str) -> list[str]:
    """The story headlines of an email, in the order a reader sees them."""
    page.set_content(html)
    return [text.strip() for text in page.locator("h2 a").all_inner_texts()]


def schedule_daily_at_end_of_today() -> None:
    """The daily run at 23:59 (the admin's crontab row), so the next edition is today's whatever
    the hour the test runs, and `send_digest` (the period ending now) sends the one the editor
    curated. Only a run that straddles 23:59-00:00 local time would see two different days."""
    crontab = CrontabSchedule.objects.create(minute="59", hour="23", timezone=settings.TIME_ZONE)
    PeriodicTask.objects.update_or_create(
        name="Daily digest",
        defaults={"task": jobs.RUN_SCHEDULED_DIGEST, "crontab": crontab, "kwargs": '{"frequency": "daily"}'},
    )


def test_editor_pins_reorders_previews_tests_approves_and_the_send_keeps_the_order(
    site, page, javascript, outbox
) -> None:
    schedule_daily_at_end_of_today()
    articles = ranked_articles(12)
    readers = [subscriber(f"daily{i}.e2e@example.com") for i in range(2)]
    editor = get_user_model().objects.create_user("editor", EDITOR_EMAIL, PASSWORD, is_staff=True)
    editor.groups.add(editors_group())
    assert not editor.is_superuser

    # Log in.
    page.goto(site.url + "/admin/login/?next=/admin/newsletter/digest/")
    page.locator("#id_username").fill("editor")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/newsletter/digest/")
    assert_reads_rtl(page, selector="body", text_selector="#content")

    # The next daily edition, composed as a draft from the most read.
    page.get_by_role("button", name="العدد اليومي القادم").click()
    page.wait_for_url("**/admin/newsletter/digest/*/change/")
    digest = Digest.objects.get(frequency="daily")
    assert digest.status == Digest.Status.DRAFT
    items = list(DigestItem.objects.filter(digest=digest, removed=False).order_by("position"))
    assert [i.article_id for i in items] == [a.pk for a in articles[:10]]

    # Pin the 4th story, save, then move it up to the top with the ▲ buttons.
    chosen = items[3]
    row = page.locator(f"tr:has(input[name$='-id'][value='{chosen.pk}'])")
    row.locator("input[name$='-pinned']").check()
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()
    chosen.refresh_from_db()
    assert chosen.pinned
    for expected_position in (2, 1, 0):
        page.locator(f"tr:has(input[name$='-id'][value='{chosen.pk}'])").get_by_title("إلى الأعلى").click()
        page.wait_for_load_state()
        chosen.refresh_from_db()
        assert chosen.position == expected_position
    expected = [
        articles[3].title,
        articles[0].title,
        articles[1].title,
        articles[2].title,
        *(a.title for a in articles[4:10]),
    ]
    ordered = DigestItem.objects.filter(digest=digest, removed=False).order_by("position")
    assert [i.article.title for i in ordered.select_related("article")] == expected

    # Preview: the email at 600 px and 375 px, in sandboxed iframes, in the editor's order.
    page.get_by_role("link", name="معاينة").first.click()
    page.wait_for_url("**/preview/")
    frames = page.locator("iframe")
    assert frames.count() == 2
    assert [frames.nth(i).get_attribute("width") for i in range(2)] == ["600", "375"]
    preview_html = frames.first.get_attribute("srcdoc")
    assert_reads_rtl(page, selector="body", text_selector="#content")
    if javascript:
        # The preview page is for a desktop: both renderings side by side, then each one.
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.screenshot(path=str(screenshots_dir() / "admin-preview-page.png"))
        for index, width in enumerate((600, 375)):
            page.locator("figure").nth(index).screenshot(path=str(screenshots_dir() / f"admin-preview-{width}.png"))
    assert headlines(page, preview_html) == expected
    # The preview email itself reads right to left.
    check_at_widths(page, None, selector="div[role=article]")

    # Send a test to myself.
    page.goto(site.url + f"/admin/newsletter/digest/{digest.pk}/change/")
    page.get_by_role("button", name="أرسل نسخة تجريبية إليّ").click()
    page.wait_for_load_state()
    tests = messages_to(outbox, EDITOR_EMAIL)
    assert len(tests) == 1
    # (the subject may start with an RLM so "[" does not flip it left to right: EMAIL.md 15)
    assert str(tests[0]["Subject"]).strip().lstrip("\u200f").startswith("[تجربة] ")
    assert headlines(page, html_of(tests[0])) == expected
    digest.refresh_from_db()
    assert digest.status == Digest.Status.DRAFT  # a test send changes nothing
    assert not Delivery.objects.exists()

    # Approve.
    page.goto(site.url + f"/admin/newsletter/digest/{digest.pk}/change/")
    page.get_by_role("button", name="اعتماد").click()
    page.wait_for_load_state()
    digest.refresh_from_db()
    assert digest.status == Digest.Status.APPROVED
    assert digest.approved_by_id == editor.pk

    # The send, through the operator's command: each subscriber gets the edition once, in the
    # editor's order.
    assert digest.edition_date == timezone.localdate()
    output = io.StringIO()
    call_command("send_digest", "--frequency", "daily", "--sync", stdout=output)
    assert f"edition {digest.pk}:" in output.getvalue() and "sent: 2," in output.getvalue()
    digest.refresh_from_db()
    assert digest.status == Digest.Status.SENT
    for reader in readers:
        received = messages_to(outbox, reader.email)
        assert len(received) == 1
        assert headlines(page, html_of(received[0])) == expected
    if javascript:
        page.set_content(html_of(messages_to(outbox, readers[0].email)[0]))
        check_at_widths(page, "digest-email", selector="div[role=article]")
