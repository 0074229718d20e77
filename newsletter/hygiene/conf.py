"""List hygiene's settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class HygieneSettings:
    """HYGIENE_REMINDER_HOURS: one reminder to a subscriber still pending after this.
    HYGIENE_PENDING_PURGE_DAYS: pending signups older than this are deleted.
    HYGIENE_SOFT_BOUNCE_LIMIT / HYGIENE_SOFT_BOUNCE_DAYS: soft bounces (in different deliveries)
    within the window that suppress an address. SUNSET_ENABLED: the sunset policy on or off.
    SUNSET_INACTIVE_DAYS / SUNSET_GRACE_DAYS: no human open and no click for this long: one
    "still want this?" email; no click within the grace period: unsubscribed as inactive."""

    HYGIENE_REMINDER_HOURS: int = 48
    HYGIENE_PENDING_PURGE_DAYS: int = 30
    HYGIENE_SOFT_BOUNCE_LIMIT: int = 3
    HYGIENE_SOFT_BOUNCE_DAYS: int = 30
    SUNSET_ENABLED: bool = True
    SUNSET_INACTIVE_DAYS: int = 180
    SUNSET_GRACE_DAYS: int = 14


def settings() -> HygieneSettings:
    return room_settings(HygieneSettings)
