"""The content room's settings: feeds (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class FeedSettings:
    """FEED_URLS: feeds imported every 15 minutes. FEED_ALLOWED_HOSTS: host names a feed may be
    fetched from though they resolve to a private or reserved address (a CMS on the internal
    network). FEED_FETCH_DEADLINE_SECONDS: one deadline for a whole fetch (DNS, connect, TLS,
    redirects, body)."""

    FEED_URLS: tuple[str, ...] = ()
    FEED_ALLOWED_HOSTS: tuple[str, ...] = ()
    FEED_FETCH_DEADLINE_SECONDS: float = 30.0


def settings() -> FeedSettings:
    return room_settings(FeedSettings)
