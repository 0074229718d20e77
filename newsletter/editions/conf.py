"""The editions' settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class EditionSettings:
    """DIGEST_TOP_N: stories per edition. DIGEST_MIN_STORIES: fewer in the general list and no
    edition goes out; a topic segment with fewer of its own is topped up to this many.
    DIGEST_REQUIRE_APPROVAL: an edition is sent only after an editor approves it."""

    DIGEST_TOP_N: int = 10
    DIGEST_MIN_STORIES: int = 3
    DIGEST_REQUIRE_APPROVAL: bool = False


def settings() -> EditionSettings:
    return room_settings(EditionSettings)
