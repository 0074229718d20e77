"""Watching a long send (issue 15): the edition page's progress box in the admin (from the
edition's counters, refreshing itself, never a count over its rows) and `send_digest --sync`'s
progress: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import re
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from newsletter.admin.digest_progress import progress_context
from newsletter.delivery import dispatch
from newsletter.editions.models import Digest
from tests.integration.helpers import make_digest, make_subscribers
from tests.newsletter.digest_helpers import ranked_articles

pytestmark = pytest.mark.django_db


def sending_edition(*, settled: int = 4, audience: int = 10, seconds: int = 2) -> Digest:
    digest = make_digest()
    make_subscribers(audience)
    dispatch.dispatch(digest_id=digest.id, enqueue=False)
    Digest.objects.filter(id=digest.id).update(
        sent_count=settled - 1, failed_count=1, sending_started_at=timezone.now() - timedelta(seconds=seconds)
    )
    return Digest.objects.get(id=digest.id)


def test_edition_page_shows_sent_total_rate_and_finish_while_sending(admin_client: Client) -> None:
    digest = sending_edition()

    page = admin_client.get(reverse("admin:newsletter_digest_change", args=[digest.id])).content.decode()

    box = re.search(r'<div id="edition-progress".*?</div>', page, re.S).group(0)
    assert 'data-live="1"' in box and f'data-url="/admin/newsletter/digest/{digest.id}/progress/"' in box
    assert '<progress max="10" value="4">' in box and "(٤٠٪)" in box  # figures in NUMERALS' digits
    assert "edition_progress.js" in page  # the script that refreshes the box
    assert digest.sending_started_at is not None
    now = digest.sending_started_at + timedelta(seconds=2)
    figures = progress_context(digest, now=now)
    assert (figures["sent"], figures["settled"], figures["audience"], figures["percent"]) == (3, 4, 10, 40)
    assert figures["rate"] == 2  # 4 settled in 2 seconds
    assert figures["finish"] is not None
    assert abs((figures["finish"] - now).total_seconds() - 3) < 0.5  # 6 left at 2/s
    assert re.search(r"\d\d:\d\d:\d\d", box)  # the estimated finish, shown as a time of day


def test_progress_refresh_reads_counters_not_rows_and_says_when_done(admin_client: Client) -> None:
    digest = sending_edition()
    url = reverse("admin:newsletter_digest_progress", args=[digest.id])

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)

    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    assert '<progress max="10" value="4">' in response.content.decode()
    assert not [q["sql"] for q in queries.captured_queries if "newsletter_delivery" in q["sql"]]

    Digest.objects.filter(id=digest.id).update(status=Digest.Status.SENT, sent_count=9)
    done = admin_client.get(url).content.decode()
    assert 'data-live="0"' in done and '<progress max="10" value="10">' in done
    page = admin_client.get(reverse("admin:newsletter_digest_change", args=[digest.id])).content.decode()
    assert 'id="edition-progress"' not in page  # a finished edition has no live box


def test_progress_view_needs_staff(client: Client) -> None:
    digest = sending_edition()
    response = client.get(reverse("admin:newsletter_digest_progress", args=[digest.id]))
    assert response.status_code == 302 and "/login/" in response["Location"]


class Terminal(StringIO):
    def isatty(self) -> bool:
        return True


def test_send_digest_sync_prints_plain_progress_lines_when_not_a_terminal(settings) -> None:
    settings.SEND_BATCH_SIZE = 2
    ranked_articles(6)
    make_subscribers(5)
    out = StringIO()

    call_command("send_digest", "--frequency", "daily", "--sync", stdout=out)

    lines = [line for line in out.getvalue().splitlines() if line.startswith("progress: ")]
    assert [line.split(",")[0] for line in lines] == [
        "progress: 0/5 (0%)",
        "progress: 2/5 (40%)",
        "progress: 4/5 (80%)",
        "progress: 5/5 (100%)",
    ]
    assert "sent: 5, failed: 0" in out.getvalue()
    assert "\x1b[" not in out.getvalue()  # no terminal escapes in a log


def test_send_digest_sync_draws_a_bar_on_a_terminal(settings) -> None:
    settings.SEND_BATCH_SIZE = 2
    ranked_articles(6)
    make_subscribers(5)
    out = Terminal()

    call_command("send_digest", "--frequency", "daily", "--sync", stdout=out)

    text = out.getvalue()
    assert "progress: " not in text
    assert "━" in text and "5/5" in text and "100%" in text
    assert "sent: 5, failed: 0" in text
