"""Delivery's settings (sitewide.conf says how groups are filled and read)."""

from __future__ import annotations

from dataclasses import dataclass

from sitewide.conf import room_settings


@dataclass(frozen=True)
class DeliverySettings:
    """SEND_RATE_PER_SECOND: messages per second across all workers (Redis token bucket); 0:
    unlimited. SEND_BATCH_SIZE: recipients per batch task; 0: the ESP's own (esp.py).
    SEND_MAX_ATTEMPTS: ESP attempts of a batch it clearly refused (connect error, 429, 5xx).
    SEND_RETRY_BASE_SECONDS / SEND_RETRY_MAX_SECONDS: exponential backoff with jitter between them,
    always far below the broker's visibility timeout. SEND_STUCK_AFTER_SECONDS: the sweeper
    re-queues rows stuck this long. TEST_SENDS_PER_USER_PER_HOUR: test messages one editor may
    send per hour (0: no limit). WEBHOOK_ESP: the one ESP whose tracking webhook answers (empty:
    the ESP of EMAIL_BACKEND)."""

    SEND_RATE_PER_SECOND: float = 0.0
    SEND_BATCH_SIZE: int = 0
    SEND_MAX_ATTEMPTS: int = 8
    SEND_STUCK_AFTER_SECONDS: int = 60
    SEND_RETRY_BASE_SECONDS: float = 5.0
    SEND_RETRY_MAX_SECONDS: float = 300.0
    TEST_SENDS_PER_USER_PER_HOUR: int = 50
    WEBHOOK_ESP: str = ""


def settings() -> DeliverySettings:
    return room_settings(DeliverySettings)
