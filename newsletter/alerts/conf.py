"""Breaking-news alerts' settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class AlertSettings:
    """ALERTS_PER_DAY: at most this many alerts reach one reader per local day (the reader's
    time zone; blank: the site's). ALERT_CANCEL_SECONDS: after the editor confirms, how long the
    alert waits (and may be cancelled) before anything leaves."""

    ALERTS_PER_DAY: int = 3
    ALERT_CANCEL_SECONDS: int = 60


def settings() -> AlertSettings:
    return room_settings(AlertSettings)
