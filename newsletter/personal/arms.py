"""Which arm of the experiment a reader is in this month: the personal editions, or the hold-out
that gets the edition's order so the report can measure the lift (analytics.figures).

A stable hash of the subscriber and the month (not of the edition): a reader stays in one arm for
a whole month, so a month's editions compare like with like, and the hold-out is renewed each
month, so nobody is left out of personal editions for long. Readers who switched personal order
off, and everyone when DIGEST_PERSONAL is off, are in neither arm (NONE)."""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from datetime import date

from . import conf


class Arm(enum.StrEnum):
    PERSONAL = "p"
    HOLDOUT = "h"
    NONE = ""


def bucket(subscriber_id: int, month: date) -> int:
    """0-99, stable for a subscriber within a month, independent from one month to the next."""
    return _bucket(subscriber_id, month_key(month))


def _bucket(subscriber_id: int, key: str) -> int:
    # MD5 because PostgreSQL computes the same bucket (`sql_bucket`): dispatch numbers the readers
    # who get the edition's order apart from the personal ones. Not a secret: a fair coin.
    digest = hashlib.md5(f"{subscriber_id}:{key}".encode(), usedforsecurity=False).hexdigest()
    return int(digest[:8], 16) % 100


def sql_bucket(subscriber: str) -> str:
    """`_bucket` as a PostgreSQL expression of the subscriber id column `subscriber`; its one
    parameter is the month key (`month_key`)."""
    return f"(('x' || substr(md5({subscriber}::text || ':' || %s), 1, 8))::bit(32)::bigint %% 100)"


def month_key(month: date) -> str:
    return f"{month:%Y-%m}"


def arms_of(readers: Iterable[tuple[int, bool]], *, month: date) -> dict[int, Arm]:
    """`arm_of` for many readers ((subscriber id, personal order on) each), the settings read once."""
    if not conf.enabled():
        return {subscriber_id: Arm.NONE for subscriber_id, _ in readers}
    holdout, key = conf.settings().DIGEST_PERSONAL_HOLDOUT_PERCENT, month_key(month)
    return {
        subscriber_id: Arm.NONE
        if not personal_order
        else Arm.HOLDOUT
        if _bucket(subscriber_id, key) < holdout
        else Arm.PERSONAL
        for subscriber_id, personal_order in readers
    }


def arm_of(subscriber_id: int, *, month: date, personal_order: bool = True) -> Arm:
    if not conf.enabled() or not personal_order:
        return Arm.NONE
    if bucket(subscriber_id, month) < conf.settings().DIGEST_PERSONAL_HOLDOUT_PERCENT:
        return Arm.HOLDOUT
    return Arm.PERSONAL
