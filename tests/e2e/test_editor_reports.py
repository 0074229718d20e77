"""Issue 22, done means: the demo editor (`seed_demo`'s "editor", in the Editors group) walks from
the admin index to an edition's report and to the dashboard by clicking only, in Debian's
Chromium, and the report's figures agree with the dashboard's. The edition is the demo's daily,
sent through the development outbox (so no deliveries are reported) to its two readers of
everything and its sport follower, two of whom click their email's lead story in their own
browser; then the 5-minute roll-up runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from newsletter.analytics import rollup
from newsletter.delivery import dispatch
from newsletter.demo import DEMO_ACCOUNTS
from newsletter.editions import compose
from newsletter.editions.models import Digest
from tests.e2e.conftest import assert_reads_rtl, editors_group, html_of, messages_to
from tests.e2e.test_analytics_screens import beat_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
READER_BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
FIGURES = ("sent", "delivered", "human_opens", "human_open_rate", "unique_clicks", "click_rate")


def sent_demo_edition(outbox, browser) -> Digest:
    editors_group()  # with its permissions (a transactional test flushed the migration's rows)
    beat_row()
    call_command("seed_demo", verbosity=0)
    digest = compose.compose(frequency="daily")
    assert dispatch.send_all_sync(digest_id=digest.pk).sent == 3
    for address in ("sports.fan@example.com", "reader1@example.com"):
        reader = browser.new_context(user_agent=READER_BROWSER, locale="ar")  # the reader's own browser
        page = reader.new_page()
        page.set_content(html_of(messages_to(outbox, address)[0]))
        page.locator("h2 a").first.click()  # the lead story, through /c/ to the article page
        page.wait_for_url("**/articles/**")
        reader.close()
    rollup.rollup(now=timezone.now() + timedelta(seconds=rollup.SETTLE_SECONDS + 5))
    return digest


def figures_on(page, rows: str) -> dict[str, str]:
    return {
        name: page.locator(f"{rows} [data-figure='{name}'] td, {rows} td[data-figure='{name}']")
        .first.inner_text()
        .split()[0]
        for name in FIGURES
    }


def test_demo_editor_clicks_from_the_index_to_the_report_and_dashboard_and_they_agree(
    site, context_factory, browser, outbox, settings
) -> None:
    settings.DEBUG = True  # seed_demo is for development, as `make run` runs it
    digest = sent_demo_edition(outbox, browser)
    username, password, _ = DEMO_ACCOUNTS[1]
    page = context_factory(width=1000).new_page()
    page.goto(site.url + "/admin/")  # the one address typed: the admin, which asks for a login
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator("input[type=submit]").click()
    page.wait_for_url("**/admin/")

    page.get_by_role("link", name="تقارير الأعداد المُرسلة").click()
    page.wait_for_url("**/admin/newsletter/digest/?status__exact=sent")
    page.locator(f"a[href$='/digest/{digest.pk}/report/']").click()
    page.wait_for_url(f"**/digest/{digest.pk}/report/")
    assert_reads_rtl(page, selector="body", text_selector="#content")
    report = figures_on(page, "#edition-figures")
    assert (report["sent"], report["delivered"], report["unique_clicks"]) == ("٣", "٠", "٢")
    assert page.locator("#rates-base").is_visible()  # the rates are relative to the sent
    segments = page.locator("#story-clicks table.segment-stories")
    assert [segments.nth(i).get_attribute("data-segment") for i in range(segments.count())] == [
        "العربية · كل الأقسام",
        "العربية · رياضة",
    ]
    assert "آخر تحديث للأرقام" in page.locator("#figures-taken").inner_text()

    page.get_by_role("link", name="نمو القائمة والتفاعل").first.click()
    page.wait_for_url("**/admin/newsletter/digest/dashboard/")
    dashboard = figures_on(page, f"tr[data-digest='{digest.pk}']")
    assert dashboard == report
    assert "التحديث القادم" in page.locator("#growth-taken").inner_text()
    assert "لا حركة" not in page.locator("table[aria-labelledby=growth]").inner_text()  # the demo's signups

    # And back: the dashboard's edition leads to the same report; the edition page links both.
    page.locator(f"tr[data-digest='{digest.pk}'] a").click()
    page.wait_for_url(f"**/digest/{digest.pk}/report/")
    page.locator(f".breadcrumbs a[href$='/digest/{digest.pk}/change/']").click()  # to the edition page
    page.wait_for_url(f"**/digest/{digest.pk}/change/")
    assert page.get_by_role("link", name="التقرير", exact=True).is_visible()
    assert page.locator("a[href*='/newsletter/delivery/']").count() == 0  # editors may not open it
