"""Read counting's settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class ReadingSettings:
    """READS_RETENTION_DAYS: days the Redis read counters are kept (longest digest window and a
    margin). READS_MAX_READERS_PER_IP_PER_DAY: new distinct readers one client network (an IPv4
    address, an IPv6 /64) may add to one article per day; its further reads still count as views.
    Stops one machine buying a place in the most-read list with fresh cookies; mobile carriers put
    many readers behind one address, so raise it if most readers come through a few; 0: no cap."""

    READS_RETENTION_DAYS: int = 9
    READS_MAX_READERS_PER_IP_PER_DAY: int = 50


def settings() -> ReadingSettings:
    return room_settings(ReadingSettings)
