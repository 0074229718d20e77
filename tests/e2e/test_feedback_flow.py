"""A reader in a real browser (issue 27, "more / less like this"): from a real digest email, the
"أقل من هذا" link opens a page that only asks (right to left, no horizontal scroll at 375 px);
one tap records it, the thank-you page undoes it, and the preference page lists what they asked
for less of with its undo. With JavaScript on and off; axe-core finds no violation on the pages."""

from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from newsletter.subscribers.models import LessLikeThis, StoryFeedback
from tests.e2e.accessibility import violations
from tests.e2e.conftest import check_at_widths, html_of, messages_to
from tests.newsletter.digest_helpers import article, section, subscriber

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READER = "feedback.e2e@example.com"
HUMAN = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"


def test_reader_asks_for_less_undoes_it_and_lifts_it_in_the_preferences(
    site, page, javascript, context_factory, outbox
) -> None:
    sport = section("رياضة", "sport")
    lead = article("نهائي الكأس الليلة", readers=900, sec=sport, tags=("نهائي_الكأس",))
    for i in range(3):
        article(f"خبر سياسي {i}", readers=500 - i)
    reader = subscriber(READER)
    call_command("send_digest", "--frequency", "daily", "--sync")
    [email] = messages_to(outbox, READER)
    less = re.search(
        r'href="(' + re.escape(site.url) + r"/f/e\d+a" + str(lead.pk) + r'p\d+k[0-9a-f]+/less/[^"]+)"', html_of(email)
    )
    assert less, "no less-like-this link for the lead story"

    # Headless Chromium says so in its user agent, which the bot rule refuses to count (a sandbox
    # that taps buttons records nothing either): this reader's browser says what a person's does.
    page.set_extra_http_headers({"User-Agent": HUMAN})

    # 1. The link only asks: nothing is recorded by opening it.
    page.goto(less.group(1))
    expect(page.locator("h1")).to_have_text("تريد أقل من هذا الخبر؟")
    check_at_widths(page, None)
    assert not StoryFeedback.objects.exists()

    # 2. One tap records it; the thank-you page offers the undo.
    page.get_by_role("button", name="نعم، أقل من هذا").click()
    expect(page.locator("h1")).to_have_text("شكرًا، سنعرض عليك أقل من هذا")
    assert set(LessLikeThis.objects.filter(subscriber=reader).values_list("kind", flat=True)) == {"section", "tag"}
    page.get_by_role("button", name="تراجع").click()
    expect(page.locator("h1")).to_have_text("ألغينا اختيارك")
    assert not StoryFeedback.objects.exists() and not LessLikeThis.objects.exists()

    # 3. Again, then lifted from the preference page.
    page.get_by_role("button", name="نعم، أقل من هذا").click()
    page.get_by_role("link", name="تفضيلات النشرة").click()
    expect(page.locator("#less-of")).to_have_text("ما طلبت أقل منه")
    if javascript:  # axe-core runs in the page: the question, the thank-you page, the list
        axe = context_factory(bypass_csp=True).new_page()
        found = []
        for url in (less.group(1).replace("/less/", "/more/"), less.group(1), page.url):
            axe.goto(url)
            found += [f"{url}: {line}" for line in violations(axe)]
        assert not found, "\n".join(found)
    page.locator("ul.less-of li", has_text="رياضة").get_by_role("button", name="تراجع").click()
    expect(page.locator("p.notice[role=status]").first).to_be_visible()
    assert list(LessLikeThis.objects.values_list("kind", flat=True)) == ["tag"]
