"""Issue 22: the growth chart after a newcomer's first minutes. A signup, an unsubscribe and an
import made today show on the dashboard after the next 5-minute roll-up (before, only the hourly
growth task counted them, and django-celery-beat first runs an interval task one interval after
it starts: the dashboard said "لا حركة"), with the time the figures were taken and when the next
roll-up is due."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletter.analytics import rollup
from newsletter.analytics.models import DailyGrowth
from newsletter.subscribers import csv_io, lifecycle, signup
from newsletter.subscribers.models import Subscriber
from sitewide.dates import format_date, format_datetime
from tests.newsletter.analytics.report_pages import editor_client

pytestmark = pytest.mark.django_db
# Noon in Baghdad on an ordinary day, far from any real date.
NOON = datetime(2031, 3, 12, 9, 0, tzinfo=UTC)


def growth_rows(html: str) -> dict[str, list[str]]:
    body = html.split('<table aria-labelledby="growth">', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><td>([^<]+)</td>((?:<td>[^<]*</td>)+)</tr>", body)
    return {day: re.findall(r"<td>([^<]*)</td>", cells) for day, cells in rows}


def test_todays_signup_unsubscribe_and_import_show_after_the_next_rollup(time_machine) -> None:
    time_machine.move_to(NOON - timedelta(days=1), tick=False)
    leaving = Subscriber.objects.create(email="leaving@example.com", status="active", confirmed_at=timezone.now())
    time_machine.move_to(NOON, tick=False)
    assert signup.subscribe(email="newcomer@example.com").subscriber_id is not None  # pending
    lifecycle.unsubscribe(subscriber=leaving)
    imported = csv_io.apply_import(
        b"email\na@example.com\nb@example.com\n", send_confirmation=False, only_valid_rows=True
    )
    assert imported.created == 2

    time_machine.move_to(NOON + timedelta(minutes=2), tick=False)
    rollup.rollup()  # the 5-minute analytics roll-up, not the hourly growth task

    editor = editor_client()
    page = editor.get(reverse("admin:newsletter_digest_dashboard")).content.decode()
    rows = growth_rows(page)
    today = format_date(timezone.localdate(NOON), with_weekday=False)
    # signups (the form's and the two imported), confirmations (imported active), unsubscribes
    assert rows[today][:3] == ["٣", "٢", "١"]
    assert "لا حركة في هذه الفترة" not in page
    taken = page.split('id="growth-taken">', 1)[1].split("</p>", 1)[0]
    assert format_datetime(NOON + timedelta(minutes=2)) in taken  # when the figures were taken
    assert format_datetime(NOON + timedelta(minutes=7)) in taken  # the next roll-up (beat: every 5 min)

    # Nothing rolled up for twenty minutes: the page says the next roll-up is late, not a time.
    time_machine.move_to(NOON + timedelta(minutes=22), tick=False)
    late = editor.get(reverse("admin:newsletter_digest_dashboard")).content.decode()
    assert "تأخر التحديث التالي" in late.split('id="growth-taken">', 1)[1].split("</p>", 1)[0]


def test_the_growth_rollup_reads_the_subscribers_once_and_never_lowers_a_day(time_machine) -> None:
    from newsletter.analytics import growth  # (imported here: the defect test above runs on older code too)

    time_machine.move_to(NOON, tick=False)
    pending = signup.subscribe(email="pending@example.com").subscriber_id
    with CaptureQueriesContext(connection) as captured:
        assert growth.rollup_growth() == 3
    scans = [q["sql"] for q in captured.captured_queries if 'FROM "newsletter_subscriber"' in q["sql"]]
    assert len(scans) == 1  # one pass for five figures over three days
    assert pending is not None
    Subscriber.objects.filter(pk=pending).delete()  # purged later: the day keeps its signup
    growth.rollup_growth()
    day = DailyGrowth.objects.get(day=timezone.localdate(NOON))
    assert (day.signups, day.updated_at) == (1, NOON)
