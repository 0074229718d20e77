"""What a batch run reports and how it ends: the result record, `RetryLater` for rows the ESP
clearly did not take, the backoff between attempts, and giving up after SEND_MAX_ATTEMPTS
(point 4 of the delivery guarantee in this package's docstring)."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import claims, conf, throttle


class RetryLater(Exception):
    """The batch must run again after `countdown` seconds (its rows are back in `queued`)."""

    def __init__(self, countdown: float, reason: str) -> None:
        super().__init__(f"{reason}; retry in {countdown:.1f}s")
        self.countdown = countdown
        self.reason = reason


@dataclass
class BatchResult:
    digest_id: int
    batch: int
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    api_calls: int = 0
    note: str = ""
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k != "timings"}
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        return data

    def count(self, status: str, n: int) -> None:
        """Add `n` rows that reached `status` (sent, failed or unknown)."""
        if status == claims.D.SENT:
            self.sent += n
        elif status == claims.D.FAILED:
            self.failed += n
        elif status == claims.D.UNKNOWN:
            self.unknown += n


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter for the attempt-th retry (1-based)."""
    ceiling = min(
        conf.settings().SEND_RETRY_MAX_SECONDS, conf.settings().SEND_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0)
    )
    return random.uniform(ceiling / 2, ceiling)


def record(ids: Sequence[int], *, status: str, result: BatchResult, error: str = "", message_id: str = "") -> None:
    """Settle rows under our claim and count them in `result`."""
    result.count(status, claims.settle(ids, status=status, error=error, message_id=message_id))


def give_up_or_retry(
    ids: list[int], *, token: datetime, reason: str, result: BatchResult, throttled: bool = False
) -> None:
    """Rows the ESP did not take: back to queued and raise RetryLater, or failed when out of
    attempts. Never returns normally when something is retried."""
    if throttled:
        throttle.penalise()
    exhausted, failed = claims.fail_exhausted(ids, token=token, reason=reason)
    result.failed += failed
    retry = [i for i in ids if i not in exhausted]
    if not retry:
        return
    countdown = backoff(claims.most_attempts(retry))
    claims.requeue(retry, token=token, delay=countdown)
    raise RetryLater(countdown, reason)
