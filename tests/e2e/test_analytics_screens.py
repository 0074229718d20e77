"""Issue 14 in the browser: an editor opens an edition's report (story rows per segment, issue
22; personal editions against the hold-out, issue 25) and the growth dashboard (computed right
to left, no horizontal scroll at 375 px, a table beside each chart);
screenshots `admin-report-*.png` and `admin-dashboard-*.png` for the README."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from newsletter import task_names
from newsletter.analytics.models import DailyGrowth, EditionArmStats, EditionStats, StoryClickStats
from newsletter.delivery.models import EditionSegment
from newsletter.editions.models import Digest
from tests.e2e.conftest import assert_no_horizontal_scroll, assert_reads_rtl, editors_group, screenshots_dir
from tests.integration.helpers import make_digest, make_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "analytics-e2e-pw"


def beat_row() -> None:
    """The analytics roll-up's beat row (a migration makes it; transactional tests flush it)."""
    every, _ = IntervalSchedule.objects.get_or_create(every=300, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.get_or_create(
        name="Roll up analytics", defaults={"task": task_names.ROLLUP_ANALYTICS, "interval": every}
    )


def figures() -> Digest:
    """Three sent editions with rolled-up figures for two segments (readers of everything and
    the sport followers) and 30 days of growth."""
    today = timezone.localdate()
    sport = make_section("sport", "رياضة")
    digest = None
    for number in range(3):
        digest = make_digest(stories=6, status=Digest.Status.SENT, sections=[make_section("politics", "سياسة"), sport])
        Digest.objects.filter(pk=digest.pk).update(
            edition_date=today - timedelta(days=2 - number),
            sending_started_at=timezone.now() - timedelta(days=2 - number),
        )
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
        # Personal editions and the hold-out (issue 25): 90 % and 10 % of the sent.
        for arm, sent, share in (("p", 8982, 1.0), ("h", 998, 0.8)):
            clickers = int(sent * 0.085 * share)
            EditionArmStats.objects.create(
                digest=digest,
                arm=arm,
                recipients=sent,
                human_openers=int(sent * 0.32 * share),
                clickers=clickers,
                clicks=int(clickers * 1.6),
                clicks_squared=int(clickers * 3.4),
            )
        items = list(digest.items.select_related("article").order_by("position"))
        sport_items = [item for item in items if item.article.section_id == sport.pk]
        segments = [
            (EditionSegment.objects.create(
                digest=digest, language="ar", stories=[i.article_id for i in items], own_stories=len(items),
                sent=8000, delivered=delivered - 1960,
            ), items),
            (EditionSegment.objects.create(
                digest=digest, language="ar", sections=str(sport.pk), stories=[i.article_id for i in sport_items],
                own_stories=len(sport_items), sent=1980, delivered=1960,
            ), sport_items),
        ]  # fmt: skip
        for segment, listed in segments:
            for position, item in enumerate(listed, start=1):
                StoryClickStats.objects.create(
                    digest=digest,
                    segment=segment,
                    position=position,
                    article_id=item.article_id,
                    title=item.article.title,
                    url=f"https://news.example/articles/{item.article.slug}/?utm_source=newsletter",
                    unique_clicks=max(0, (400 - 70 * position + 10 * number) * segment.sent // 10000),
                )
    for offset in range(30):
        DailyGrowth.objects.create(
            day=today - timedelta(days=offset),
            signups=40 + (offset * 7) % 25,
            confirmations=30 + (offset * 5) % 20,
            unsubscribes=5 + offset % 6,
            bounces=offset % 4,
            complaints=offset % 2,
            updated_at=timezone.now(),
        )
    beat_row()
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
        assert page.locator("#story-clicks table.segment-stories").count() == 2  # one per segment
        assert page.locator("#story-clicks tbody tr").count() == 6 + 3
        assert page.locator("#edition-figures").inner_text().count("\n") >= 9
        assert page.locator("#arm-comparison tbody tr").count() == 4  # recipients and three figures
        if width == 375:
            assert_no_horizontal_scroll(page, width)
        page.screenshot(path=str(screenshots_dir() / f"admin-report-{width}.png"), full_page=True)

        page.goto(f"{site.url}/admin/newsletter/digest/dashboard/")
        assert page.locator("svg.chart").count() == 2
        assert page.locator("table[aria-labelledby=growth] tbody tr").count() == 30
        assert page.locator("table[aria-labelledby=rates] tbody tr").count() == 3
        assert page.locator("#arm-comparison tbody tr").count() == 4  # the three editions summed
        if width == 375:  # the comparison fits a phone (the rates table, 8 columns, never did)
            box = page.locator("#arm-comparison table").bounding_box()
            assert box is not None and box["width"] <= width
        page.screenshot(path=str(screenshots_dir() / f"admin-dashboard-{width}.png"), full_page=True)
