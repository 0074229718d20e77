"""Analytics' settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class AnalyticsSettings:
    """ANALYTICS_ROLLUP_DAYS: editions whose figures the roll-up recomputes, counted from the
    start of their send. ANALYTICS_MACHINE_OPEN_SECONDS: an open this soon after delivery is a
    machine's. ANALYTICS_SCANNER_MIN_LINKS / _BURST_SECONDS / _AFTER_DELIVERY_SECONDS: clicks on
    this many stories within this many seconds, starting this soon after delivery, are a link
    scanner's and not counted (newsletter.analytics.heuristics)."""

    ANALYTICS_ROLLUP_DAYS: int = 14
    ANALYTICS_MACHINE_OPEN_SECONDS: int = 10
    ANALYTICS_SCANNER_AFTER_DELIVERY_SECONDS: int = 120
    ANALYTICS_SCANNER_BURST_SECONDS: int = 10
    ANALYTICS_SCANNER_MIN_LINKS: int = 3


def settings() -> AnalyticsSettings:
    return room_settings(AnalyticsSettings)
