"""A reader in a real browser: article -> subscribe from the box at its end -> confirmation email
-> confirm (button POST) -> a real digest email -> preference page -> change frequency ->
unsubscribe from that page. Database state is asserted after every step; each flow runs with
JavaScript on and off. Also the public pages (home, article, signup) are checked for what a
person sees (rtl, right-aligned text, no horizontal scroll at 375 px) and photographed."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from newsletter.delivery.models import Delivery
from newsletter.subscribers.models import Subscriber
from tests.e2e.conftest import (
    check_at_widths,
    html_of,
    link_in,
    messages_to,
    text_of,
)
from tests.newsletter.digest_helpers import ranked_articles

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READER = "reader.e2e@example.com"


def test_reader_subscribes_confirms_changes_frequency_and_unsubscribes(site, page, javascript, outbox) -> None:
    articles = ranked_articles(5)
    article = articles[0]

    # 1. The article page, read right to left.
    page.goto(site.url + article.get_absolute_url())
    assert page.locator("h1").inner_text() == article.title
    check_at_widths(page, None, text_selector=".article-body")

    # 2. Subscribe from the box at the end of the article.
    box = page.locator("section.subscribe-box")
    box.locator("input[name=email]").fill(READER)
    box.locator("input[name=frequency][value=daily]").check()
    box.locator("button[type=submit]").click()
    if javascript:
        # Enhanced: the generic message appears in place, the reader stays on the article.
        status = box.locator(".signup-status")
        status.wait_for(state="visible")
        # A locator wait, not wait_for_function: the site's CSP forbids eval, as it should.
        expect(page.locator(".signup-status")).to_have_text(re.compile(r"\S"))
        assert page.url.endswith(article.get_absolute_url())
    else:
        page.wait_for_url("**/newsletter/")
        assert page.locator("p.notice[role=status]").inner_text()
    subscriber = Subscriber.objects.get(email=READER)
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.source == Subscriber.Source.ARTICLE_BOX
    assert subscriber.frequency == "daily"
    assert subscriber.confirmed_at is None

    # 3. The confirmation email: one message, with a link to this site.
    sent = messages_to(outbox, READER)
    assert len(sent) == 1
    confirm_url = link_in(text_of(sent[0]), site.url, "confirm")
    assert confirm_url in html_of(sent[0])

    # 4. Opening the link shows a button; only the button's POST confirms (link scanners GET).
    page.goto(confirm_url)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    check_at_widths(page, None, text_selector="main")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None
    assert page.locator("p.notice[role=status]").count() == 1
    # The welcome email right after: when (in their time), the archive and their preferences.
    welcome = [m for m in messages_to(outbox, READER) if "/newsletter/confirm/" not in text_of(m)]
    assert len(welcome) == 1 and "/archive/" in text_of(welcome[0])
    assert link_in(text_of(welcome[0]), site.url, "preferences")

    # 5. The next daily digest, sent by the real command, reaches this reader once.
    call_command("send_digest", "--frequency", "daily", "--sync")
    assert Delivery.objects.filter(subscriber=subscriber, status=Delivery.Status.SENT).count() == 1
    digests = [m for m in messages_to(outbox, READER) if "/newsletter/confirm/" not in text_of(m)][1:]
    assert len(digests) == 1
    digest_html = html_of(digests[0])
    # The email body itself, as a mail client would show it.
    page.goto("about:blank")  # leave the site: its CSP must not apply to the email's inline styles
    page.set_content(digest_html)
    check_at_widths(page, None, selector="div[role=article]", text_selector="div[role=article]")
    preferences_url = link_in(digest_html, site.url, "preferences")
    assert preferences_url in text_of(digests[0])

    # 6. Preference page from the digest: switch to weekly.
    page.goto(preferences_url)
    check_at_widths(page, None, text_selector="main")
    page.locator("input[name=frequency][value=weekly]").check()
    page.locator("main form").first.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("p.notice[role=status]").count() == 1
    subscriber.refresh_from_db()
    assert subscriber.frequency == "weekly"
    assert subscriber.status == Subscriber.Status.ACTIVE

    # 7. Unsubscribe from the same page: one click, no confirmation step.
    page.locator("main form").nth(1).locator("button[type=submit]").click()
    page.wait_for_load_state()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None
    assert page.locator("p.notice[role=status]").count() == 1
    # Nothing else was mailed to the reader along the way (confirmation, welcome, digest).
    assert len(messages_to(outbox, READER)) == 3


def test_public_pages_read_right_to_left_and_fit_a_phone(site, context_factory) -> None:
    """Home, article and signup pages at 600 and 375 px, screenshots into var/screenshots/."""
    articles = ranked_articles(6)
    page = context_factory(javascript=True).new_page()
    for name, path, text_selector in (
        ("home", "/", "main"),
        ("article", articles[0].get_absolute_url(), ".article-body"),
        ("signup", "/newsletter/", "main"),
    ):
        page.goto(site.url + path)
        assert page.locator("html").get_attribute("dir") == "rtl"
        shots = check_at_widths(page, name, text_selector=text_selector)
        assert all(shot.stat().st_size > 1000 for shot in shots)


def _error_beside_the_email_field(page, form) -> str:
    """The email field's error: inside the field's own box, linked to the input with
    aria-describedby (a screen reader reads it with the field), the input marked invalid; the
    status line under the button carries no error. Returns the error text."""
    email = form.locator("input[name=email]")
    expect(email).to_have_attribute("aria-invalid", "true")
    described_by = (email.get_attribute("aria-describedby") or "").split()
    assert described_by, "the email field names no description"
    error = page.locator(f"[id='{described_by[-1]}']")
    expect(error).to_have_text(re.compile(r"\S"))
    field_box = form.locator(".field", has=page.locator("input[name=email]"))  # `has` is relative
    assert field_box.locator(f"[id='{described_by[-1]}']").count() == 1, "the error is not beside the field"
    assert error.locator("xpath=ancestor-or-self::*[@role='alert']").count() >= 1, "not announced"
    status = form.locator(".signup-status")
    assert status.count() == 0 or not status.inner_text().strip(), "the error is (also) under the button"
    return error.inner_text()


def test_signup_page_form_errors_are_shown_beside_the_field_without_a_write(site, page, javascript) -> None:
    """A bad address on the signup page: the error beside the field, announced; nothing stored."""
    page.goto(site.url + "/newsletter/")
    page.locator("input[name=email]").fill("not-an-address")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "name@example.com" in _error_beside_the_email_field(page, page.locator("main form"))
    assert Subscriber.objects.count() == 0
    # Corrected and sent again: the error goes, the generic answer comes.
    if javascript:
        page.locator("main form input[name=email]").fill("fixed.e2e@example.com")
        page.locator("main form button[type=submit]").click()
        expect(page.locator("main form .signup-status")).to_have_text(re.compile(r"\S"))
        assert page.locator("main form [aria-invalid]").count() == 0
        assert page.locator("main form .field-error").count() == 0


def test_article_box_errors_are_shown_beside_the_field(site, page, javascript) -> None:
    article = ranked_articles(1)[0]
    page.goto(site.url + article.get_absolute_url())
    box = page.locator("section.subscribe-box")
    box.locator("input[name=email]").fill("still-not-an-address")
    box.locator("button[type=submit]").click()
    if javascript:
        # Enhanced: the reader stays on the article, the error beside the box's field.
        _error_beside_the_email_field(page, box.locator("form"))
        assert page.url.endswith(article.get_absolute_url())
    else:
        page.wait_for_url("**/newsletter/")
        _error_beside_the_email_field(page, page.locator("main form"))
    assert Subscriber.objects.count() == 0
