"""The editions' settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class EditionSettings:
    """DIGEST_TOP_N: stories per edition. DIGEST_MIN_STORIES: fewer in the general list and no
    edition goes out; a topic segment with fewer of its own is topped up to this many.
    DIGEST_REQUIRE_APPROVAL: an edition is sent only after an editor approves it.
    SUBJECT_TEST_SHARE_PERCENT / SUBJECT_TEST_WAIT_MINUTES: a subject-line test's defaults (the
    share of the audience the variants go to first, and the wait before the winner is chosen);
    each edition may set its own (newsletter.orchestration.subject_tests)."""

    DIGEST_TOP_N: int = 10
    DIGEST_MIN_STORIES: int = 3
    DIGEST_REQUIRE_APPROVAL: bool = False
    SUBJECT_TEST_SHARE_PERCENT: int = 20
    SUBJECT_TEST_WAIT_MINUTES: int = 60


def settings() -> EditionSettings:
    return room_settings(EditionSettings)
