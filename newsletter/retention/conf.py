"""Retention's settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class RetentionSettings:
    """DELIVERY_RETENTION_DAYS: an edition that finished and began sending longer ago loses its
    Delivery and Receipt rows (its figures frozen first); 0 keeps them forever.
    DELIVERY_PRUNE_CHUNK: rows deleted per short transaction. DELIVERY_PRUNE_PAUSE_SECONDS: a pause
    between chunks, to leave room for other writers (0: none)."""

    DELIVERY_RETENTION_DAYS: int = 90
    DELIVERY_PRUNE_CHUNK: int = 5000
    DELIVERY_PRUNE_PAUSE_SECONDS: float = 0.0


def settings() -> RetentionSettings:
    return room_settings(RetentionSettings)
