"""Alerts beside editions (issue 27): a sent alert is named by its headline in the editions list,
has the editions' progress display and its own report (its one story's clicks counted like a digest story's) and a row in the
dashboard's rates table, from the same roll-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from newsletter.alerts import services
from newsletter.delivery import dispatch
from newsletter.editions.models import Digest
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from tests.integration.helpers import make_subscribers
from tests.newsletter.analytics.report_pages import click, click_links, dashboard_row, editor_client, roll_up
from tests.newsletter.digest_helpers import article

pytestmark = pytest.mark.django_db
HEADLINE = "زلزال بقوة ست درجات"


def test_a_sent_alert_is_listed_reported_and_on_the_dashboard(outbox) -> None:
    ids = make_subscribers(3)
    Subscriber.objects.filter(id__in=ids).update(alerts=True)
    now = timezone.now()
    alert = services.alert_create(
        article_id=article(HEADLINE, readers=0).pk, user=User.objects.create_user("e"), now=now
    )
    runs.release(Digest.objects.get(pk=alert.digest_id), now=now + timedelta(seconds=61))
    dispatch.send_all_sync(digest_id=alert.digest_id, sleep=lambda _: None)
    [link] = click_links(outbox()[0].get_body(("html",)).get_content())[:1]
    click(link)
    roll_up()
    editor = editor_client()
    listing = editor.get("/admin/newsletter/digest/").content.decode()
    assert f"تنبيه عاجل: {HEADLINE}" in listing
    report = editor.get(f"/admin/newsletter/digest/{alert.digest_id}/report/")
    assert report.status_code == 200 and HEADLINE in report.content.decode()
    progress = editor.get(f"/admin/newsletter/digest/{alert.digest_id}/progress/")
    assert progress.status_code == 200 and "انتهى الإرسال" in progress.content.decode()  # the progress display
    row = dashboard_row(editor.get("/admin/newsletter/digest/dashboard/").content.decode(), alert.digest_id)
    assert f"تنبيه عاجل: {HEADLINE}" in row
    assert 'data-figure="sent">٣<' in row and 'data-figure="unique_clicks">١<' in row
