"""Personal editions' settings (sitewide.conf says how groups are filled and read). The switch
itself, DIGEST_PERSONAL, is the subscribers room's (newsletter.subscribers.conf): the reader's
preference page reads it too, and a room reads only its own settings and those below it."""

from __future__ import annotations

from dataclasses import dataclass

from newsletter.subscribers import conf as subscribers_conf
from sitewide.conf import room_settings


@dataclass(frozen=True)
class PersonalSettings:
    """DIGEST_PERSONAL_HOLDOUT_PERCENT: the share of readers, chosen by a stable hash of the
    subscriber and the month, who get the edition's order, so the report can measure the lift.
    PERSONAL_HISTORY_DAYS: how long a reader's clicks and site reads are kept."""

    DIGEST_PERSONAL_HOLDOUT_PERCENT: int = 10
    PERSONAL_HISTORY_DAYS: int = 30


def settings() -> PersonalSettings:
    return room_settings(PersonalSettings)


def enabled() -> bool:
    """Personal editions on (DIGEST_PERSONAL)."""
    return subscribers_conf.settings().DIGEST_PERSONAL
