"""Email's settings (sitewide.conf says how groups are filled and read; the sender's identity is
sitewide.conf.SiteSettings, shared with the pages)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class EmailSettings:
    """DIGEST_UTM_PARAMS: appended to story links (`utm_campaign=<frequency>-<date>` added unless
    set). ANALYTICS_CLICK_TRACKING: story links go through the first-party `/c/` redirect
    (newsletter.clicks); off: direct links, and clicks come from the ESP's click events when it
    reports them."""

    DIGEST_UTM_PARAMS: str = "utm_source=newsletter&utm_medium=email"
    ANALYTICS_CLICK_TRACKING: bool = True


def settings() -> EmailSettings:
    return room_settings(EmailSettings)
