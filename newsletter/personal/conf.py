"""Personal editions' settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class PersonalSettings:
    """DIGEST_PERSONAL: each reader's edition leaves out what they read and leans to what they
    click (0: every reader gets the edition's order, and no history is collected).
    DIGEST_PERSONAL_HOLDOUT_PERCENT: the share of readers, chosen by a stable hash of the
    subscriber and the month, who get the edition's order, so the report can measure the lift.
    PERSONAL_HISTORY_DAYS: how long a reader's clicks and site reads are kept."""

    DIGEST_PERSONAL: bool = True
    DIGEST_PERSONAL_HOLDOUT_PERCENT: int = 10
    PERSONAL_HISTORY_DAYS: int = 30


def settings() -> PersonalSettings:
    return room_settings(PersonalSettings)
