"""An editor in a real browser, as a member of the Editors group (not a superuser): log into the
admin, open the next daily edition, type an intro, pin an article and drag it to the top (or type
its position without JavaScript), save once and find all three kept, preview the edition
(600 px and 375 px), send a test to themselves, approve it; then the real send runs and every
subscriber's digest shows the editor's order. Runs with JavaScript on and off."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest, DigestItem
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


def test_editor_pins_reorders_previews_tests_approves_and_the_send_keeps_the_order(
    site, page, javascript, outbox
) -> None:
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

    # Type an intro, tick a pin on the 4th story, then bring it to the top: by dragging its row
    # (JavaScript) or by typing the position fields (no JavaScript). One save keeps all three.
    chosen = items[3]
    page.locator("#id_intro").fill("مقدمة المحرر: أبرز ما قرأتم اليوم")
    row = page.locator(f"tr:has(input[name$='-id'][value='{chosen.pk}'])")
    row.locator("input[name$='-pinned']").check()
    if javascript:
        top = page.locator(f"tr:has(input[name$='-id'][value='{items[0].pk}'])")
        # A desktop window, with both rows on screen (a drag happens inside the viewport).
        page.set_viewport_size({"width": 1280, "height": 1000})
        top.scroll_into_view_if_needed()
        page.mouse.wheel(0, -200)
        source, target = row.locator("td.field-story").bounding_box(), top.locator("td.field-story").bounding_box()
        assert target["y"] >= 0 and source["y"] + source["height"] <= 1000
        # Playwright's own drag (Chromium's drag interception: dragstart, dragover, drop, dragend
        # as a real drag fires them). A hand-made mouse down/move/up lost the last dragover now
        # and then, on a quiet machine as much as on a loaded one.
        row.locator("td.field-story").drag_to(
            top.locator("td.field-story"),
            source_position={"x": 20, "y": source["height"] / 2},
            target_position={"x": 20, "y": 4},
        )
        assert page.locator("tr.has_original").first.get_attribute("id") == row.get_attribute("id")
        positions = page.locator("input.digest-position")
        assert [positions.nth(i).input_value() for i in range(4)] == ["1", "2", "3", "4"]  # counted from 1
        assert page.locator("#id_intro").input_value() == "مقدمة المحرر: أبرز ما قرأتم اليوم"
        assert row.locator("input[name$='-pinned']").is_checked()
    else:
        for item in items:
            position = 1 if item.pk == chosen.pk else item.position + 1
            page.locator(f"tr:has(input[name$='-id'][value='{item.pk}'])").locator("input.digest-position").fill(
                str(position)
            )
    page.locator("input[name=_continue]").click()
    page.wait_for_load_state()
    chosen.refresh_from_db()
    digest.refresh_from_db()
    assert chosen.pinned and chosen.position == 1
    assert digest.intro == "مقدمة المحرر: أبرز ما قرأتم اليوم"
    assert page.locator("#id_intro").input_value() == digest.intro
    expected = [
        articles[3].title,
        articles[0].title,
        articles[1].title,
        articles[2].title,
        *(a.title for a in articles[4:10]),
    ]
    ordered = DigestItem.objects.filter(digest=digest, removed=False).order_by("position")
    assert [i.article.title for i in ordered.select_related("article")] == expected
    # The rows show the full title, the section and the reads.
    first_row = page.locator("td.field-story").first
    assert articles[3].title in first_row.inner_text() and "القرّاء في فترة العدد" in first_row.inner_text()
    if javascript:
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.screenshot(path=str(screenshots_dir() / "admin-edition-page.png"), full_page=True)

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
    page.get_by_role("button", name="أرسل نسخة تجريبية").click()
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

    # The send: `send_digest` sends the edition the editor approved, once, in the editor's order.
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
