"""Issue 14 in the browser: an editor opens an edition's report and the growth dashboard
(computed right to left, no horizontal scroll at 375 px, a table beside each chart);
screenshots `admin-report-*.png` and `admin-dashboard-*.png` for the README."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from newsletter.models import DailyGrowth, Digest, EditionStats, StoryClickStats
from tests.e2e.conftest import assert_no_horizontal_scroll, assert_reads_rtl, editors_group, screenshots_dir
from tests.integration.helpers import make_digest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "analytics-e2e-pw"


def figures() -> Digest:
    """Three sent editions with rolled-up figures and 30 days of growth."""
    today = timezone.localdate()
    digest = None
    for number in range(3):
        digest = make_digest(stories=6, status=Digest.Status.SENT)
        Digest.objects.filter(pk=digest.pk).update(edition_date=today - timedelta(days=2 - number))
        delivered = 9700 + 40 * number
        EditionStats.objects.create(
            digest=digest,
            audience=10000,
            sent=9980,
            delivered=delivered,
            bounced=120,
            complaints=3,
            human_opens=3100 + 150 * number,
            machine_opens=2400,
            unique_clicks=820 + 60 * number,
            unsubscribes_72h=14,
        )
        items = digest.items.select_related("article").order_by("position")
        for position, item in enumerate(items, start=1):
            StoryClickStats.objects.create(
                digest=digest,
                position=position,
                article_id=item.article_id,
                title=item.article.title,
                url=f"https://news.example/articles/{item.article.slug}/?utm_source=newsletter",
                unique_clicks=max(0, 400 - 70 * position + 10 * number),
            )
    for offset in range(30):
        DailyGrowth.objects.create(
            day=today - timedelta(days=offset),
            signups=40 + (offset * 7) % 25,
            confirmations=30 + (offset * 5) % 20,
            unsubscribes=5 + offset % 6,
            bounces=offset % 4,
            complaints=offset % 2,
        )
    assert digest is not None
    return digest


def test_editor_sees_report_and_dashboard(site, context_factory) -> None:
    digest = figures()
    editor = get_user_model().objects.create_user("analyst", "analyst@example.com", PASSWORD, is_staff=True)
    editor.groups.add(editors_group())
    for width in (1000, 375):
        page = context_factory(width=width).new_page()
        page.goto(site.url + "/admin/login/?next=/admin/")
        page.locator("#id_username").fill("analyst")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("input[type=submit]").click()
        page.wait_for_url("**/admin/")

        page.goto(f"{site.url}/admin/newsletter/digest/{digest.pk}/report/")
        assert_reads_rtl(page, selector="body", text_selector="#content")
        rows = page.locator("#story-clicks tbody tr")
        assert rows.count() == 6
        assert page.locator("#edition-figures").inner_text().count("\n") >= 9
        if width == 375:
            assert_no_horizontal_scroll(page, width)
        page.screenshot(path=str(screenshots_dir() / f"admin-report-{width}.png"), full_page=True)

        page.goto(f"{site.url}/admin/newsletter/digest/dashboard/")
        assert page.locator("svg.chart").count() == 2
        assert page.locator("table[aria-labelledby=growth] tbody tr").count() == 30
        assert page.locator("table[aria-labelledby=rates] tbody tr").count() == 3
        page.screenshot(path=str(screenshots_dir() / f"admin-dashboard-{width}.png"), full_page=True)
