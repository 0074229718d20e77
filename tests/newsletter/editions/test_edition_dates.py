"""The day a reader would call it (issue 21): around each awkward moment (tests/clock.py), a
reader in Baghdad, Casablanca, London and Auckland gets the daily edition at 07:00 of their own clock,
and that edition's date, its Receipt, the archive address in the email and the email's dateline
all name the reader's own local date, never the newsroom's or UTC's. The clock is set by the
test (time-machine), one hourly wave run at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from newsletter.delivery.models import Delivery, Receipt
from newsletter.orchestration import runs
from newsletter.subscribers.models import Subscriber
from sitewide.dates import format_date
from tests.clock import AWKWARD_MOMENTS
from tests.conftest import read_outbox
from tests.newsletter.digest_helpers import ranked_articles, subscriber

# Auckland's 07:00 is the evening before in Baghdad: an edition dated by the newsroom's day (or
# UTC's) instead of the reader's would show there.
READERS = ("Asia/Baghdad", "Africa/Casablanca", "Europe/London", "Pacific/Auckland")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("moment", AWKWARD_MOMENTS, ids=lambda m: m.isoformat())
def test_each_reader_gets_the_edition_dated_their_own_day(moment, time_machine, outbox_dir, settings) -> None:
    settings.NUMERALS = "latin"
    start = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=30)
    ticks = [start + timedelta(hours=hour) for hour in range(60)]  # the hourly beat, moment ±30 h
    time_machine.move_to(start - timedelta(days=2), tick=False)
    for hours in range(-24, 72, 6):  # fresh stories read every six hours (editions do not repeat)
        ranked_articles(4, at=start + timedelta(hours=hours), prefix=f"الساعة {hours}")
    readers = {}
    for index, zone in enumerate(READERS):
        readers[zone] = subscriber(f"reader{index}@example.com")
        Subscriber.objects.filter(pk=readers[zone].pk).update(time_zone=zone)

    received_at: dict[int, datetime] = {}  # delivery id -> the tick its wave ran
    for tick in ticks:
        time_machine.move_to(tick, tick=False)
        runs.run_waves(frequency="daily", now=tick)
        for delivery_id in Delivery.objects.exclude(id__in=received_at).values_list("id", flat=True):
            received_at[delivery_id] = tick

    messages = {message["To"]: message for message in read_outbox(outbox_dir)}
    for zone, reader in readers.items():
        deliveries = Delivery.objects.filter(subscriber=reader).select_related("digest")
        assert deliveries, zone
        assert len(deliveries) >= 2, zone  # the days before and after the moment
        for delivery in deliveries:
            local = received_at[delivery.id].astimezone(ZoneInfo(zone))
            if received_at[delivery.id] >= start + timedelta(hours=6):  # before: the first run's catch-up
                assert (local.hour, local.minute) == (7, 0), (zone, local)
            their_day = local.date()
            assert delivery.digest.edition_date == their_day, (zone, local)
            receipt = Receipt.objects.get(subscriber_id=reader.pk, digest_id=delivery.digest_id)
            assert receipt.edition_date == their_day, zone
        # The last email this reader got: its archive link and its dateline name their day.
        latest = max(deliveries, key=lambda d: received_at[d.id])
        their_day = received_at[latest.id].astimezone(ZoneInfo(zone)).date()
        html = messages[reader.email].get_body(preferencelist=("html",)).get_content()
        assert f"/archive/daily/{their_day.isoformat()}/" in html, zone
        assert format_date(their_day, language="ar") in html, zone
