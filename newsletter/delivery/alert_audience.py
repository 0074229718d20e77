"""Who a breaking-news alert reaches (newsletter.alerts): the confirmation page's count and the
snapshot dispatch takes, both from one WHERE clause, so the editor is shown what will be sent.

The audience is the digest's rule (active subscribers: bounced, complained, unsubscribed and
pending readers are never active; erased ones have no row) narrowed to readers who opted into
alerts, less those who already got ALERTS_PER_DAY alerts on their own local day (their
`time_zone`; blank or a name PostgreSQL does not know: the site's TIME_ZONE, as for waves). Local-time waves do not apply: news does not wait.

The daily cap is counted from the Delivery rows of the alerts sent in the last two days (every
local day that can still be today somewhere lies in them): one GROUP BY over those rows, then an
anti-join, instead of a count per reader. Rows `skipped` (the reader left, the alert was
cancelled) do not count. Two alerts dispatched at the same moment would each count without the
other's uncommitted rows, so the alert snapshot takes a transaction-level advisory lock first:
alert dispatches run one after the other (PostgreSQL; other databases serialise writes anyway).
On SQLite, which knows no time zones, the cap is counted in Python (`_capped`): the embedded
database serves one machine's lists, not millions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import connection

from newsletter.alerts import conf as alerts_conf
from newsletter.editions.models import ALERT, Digest
from newsletter.subscribers.models import Subscriber

from .models import Delivery

# Any constant: the key of the advisory lock alert dispatches share.
ALERT_LOCK_KEY = 27_0003
CAP_WINDOW = timedelta(hours=50)  # UTC-12 .. UTC+14, plus the day itself


def _recent_alerts(*, now: datetime, exclude: int | None) -> list[int]:
    recent = Digest.objects.filter(frequency=ALERT, sending_started_at__gte=now - CAP_WINDOW)
    if exclude is not None:
        recent = recent.exclude(id=exclude)
    return list(recent.values_list("id", flat=True))


def _audience_sql(*, now: datetime, exclude: int | None) -> tuple[str, list[Any]]:
    """FROM ... WHERE ... over subscribers `s` who would get an alert sent at `now`."""
    subscriber = Subscriber._meta.db_table
    sql = f"FROM {subscriber} s WHERE s.status = %s AND s.alerts"
    params: list[Any] = [Subscriber.Status.ACTIVE]
    recent = _recent_alerts(now=now, exclude=exclude)
    if not recent:
        return sql, params
    if connection.vendor != "postgresql":
        capped = _capped(recent=recent, now=now)
        if capped:  # ids from our own rows: integers, written into the statement
            sql += f" AND s.id NOT IN ({', '.join(str(int(pk)) for pk in sorted(capped))})"
        return sql, params
    delivery, digest = Delivery._meta.db_table, Digest._meta.db_table
    # Joined to the zones PostgreSQL knows (one hash join): an unknown name would fail the statement.
    zone = "COALESCE(z.name, %s)"
    sql += f"""
        AND s.id NOT IN (
            SELECT d.subscriber_id FROM {delivery} d
            JOIN {digest} g ON g.id = d.digest_id
            JOIN {subscriber} r ON r.id = d.subscriber_id
            LEFT JOIN pg_timezone_names z ON z.name = r.time_zone
            WHERE d.digest_id = ANY(%s) AND d.status <> %s
              AND (g.sending_started_at AT TIME ZONE {zone})::date = (%s::timestamptz AT TIME ZONE {zone})::date
            GROUP BY d.subscriber_id HAVING COUNT(*) >= %s
        )
    """
    tz = settings.TIME_ZONE
    params += [recent, Delivery.Status.SKIPPED, tz, now, tz, alerts_conf.settings().ALERTS_PER_DAY]
    return sql, params


def _capped(*, recent: list[int], now: datetime) -> set[int]:
    """The embedded database (SQLite, one newsroom's machine) has no time-zone table: the same
    rule as the PostgreSQL statement, counted in Python over the recent alerts' rows."""
    started = dict(Digest.objects.filter(id__in=recent).values_list("id", "sending_started_at"))
    rows = list(
        Delivery.objects.filter(digest_id__in=recent)
        .exclude(status=Delivery.Status.SKIPPED)
        .values_list("subscriber_id", "digest_id")
    )
    zones = dict(Subscriber.objects.filter(id__in={pk for pk, _ in rows}).values_list("id", "time_zone"))
    cap = alerts_conf.settings().ALERTS_PER_DAY
    counts: dict[int, int] = {}
    for subscriber_id, digest_id in rows:
        zone, at = _zone(zones.get(subscriber_id, "")), started[digest_id]
        if at is not None and at.astimezone(zone).date() == now.astimezone(zone).date():
            counts[subscriber_id] = counts.get(subscriber_id, 0) + 1
    return {pk for pk, sent in counts.items() if sent >= cap}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else ZoneInfo(settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def count(*, now: datetime) -> int:
    """How many readers an alert sent at `now` would reach (the confirmation page)."""
    where, params = _audience_sql(now=now, exclude=None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) {where}", params)
        return int(cursor.fetchone()[0])


def snapshot(*, digest_id: int, size: int, now: datetime) -> int:
    """A Delivery per reader of the alert's audience, in one INSERT ... SELECT (no reader rows
    through Python), batches numbered in id order. Call inside dispatch's transaction."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ALERT_LOCK_KEY])
        where, params = _audience_sql(now=now, exclude=digest_id)
        cursor.execute(
            f"""
            INSERT INTO {Delivery._meta.db_table}
                (digest_id, subscriber_id, batch, status, attempts, esp_message_id, error, queued_at)
            SELECT %s, s.id, (ROW_NUMBER() OVER (ORDER BY s.id) - 1) / %s, %s, 0, '', '', %s
            {where}
            ON CONFLICT (digest_id, subscriber_id) DO NOTHING
            """,
            [digest_id, size, Delivery.Status.QUEUED, now, *params],
        )
        return max(cursor.rowcount, 0)
