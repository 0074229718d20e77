"""What an operator asks during a long send, without touching /healthz (which stays cheap):
depth of each Celery queue, the oldest delivery still queued, the send rate of the last minute,
and each live edition's progress from its counters (no scan of its rows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from celery import current_app
from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from newsletter.editions.models import Digest

from .claims import D
from .models import Delivery
from .sweeper import LIVE_EDITIONS

RATE_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class EditionProgress:
    digest_id: int
    label: str
    status: str
    audience: int
    settled: int  # sent + failed + unknown + skipped, from the edition's counters
    started_at: datetime | None

    @property
    def fraction(self) -> float:
        return self.settled / self.audience if self.audience else 1.0

    def rate_per_second(self, *, now: datetime) -> float:
        if not self.started_at or not self.settled:
            return 0.0
        return self.settled / max((now - self.started_at).total_seconds(), 0.001)

    def estimated_finish(self, *, now: datetime) -> datetime | None:
        rate = self.rate_per_second(now=now)
        if not rate or self.settled >= self.audience:
            return None
        return now + timedelta(seconds=(self.audience - self.settled) / rate)


@dataclass(frozen=True)
class SendStatus:
    queues: dict[str, int | None]  # None: the broker did not answer
    oldest_queued_at: datetime | None
    sent_last_minute: int
    editions: list[EditionProgress]


def queue_names() -> list[str]:
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values() if "queue" in route}
    return sorted({settings.CELERY_TASK_DEFAULT_QUEUE, *routed})


def queue_depths() -> dict[str, int | None]:
    depths: dict[str, int | None] = {}
    try:
        with current_app.connection_for_read() as conn:
            channel = conn.default_channel
            for name in queue_names():
                try:
                    declared = channel.queue_declare(queue=name, passive=True)  # type: ignore[attr-defined]  # kombu Channel
                    depths[name] = declared.message_count
                except conn.channel_errors:  # no worker has declared it yet: nothing waits in it
                    depths[name] = 0
    except Exception:  # noqa: BLE001  (a status report shows the broker as unreachable)
        depths = dict.fromkeys(queue_names())
    return depths


def progress(digest: Digest) -> EditionProgress:
    """One edition's progress from the counters on its row (no query)."""
    return EditionProgress(
        digest_id=digest.pk,
        label=str(digest),
        status=digest.status,
        audience=digest.audience_count,
        settled=digest.sent_count + digest.failed_count + digest.unknown_count + digest.skipped_count,
        started_at=digest.sending_started_at,
    )


def live_progress() -> list[EditionProgress]:
    return [progress(digest) for digest in Digest.objects.filter(status__in=LIVE_EDITIONS).order_by("pk")]


def send_status(*, now: datetime | None = None) -> SendStatus:
    now = now or timezone.now()
    live = Digest.objects.filter(status__in=LIVE_EDITIONS).values_list("pk", flat=True)
    rows = Delivery.objects.filter(digest_id__in=list(live))
    return SendStatus(
        queues=queue_depths(),
        oldest_queued_at=rows.filter(status=D.QUEUED).aggregate(oldest=Min("queued_at"))["oldest"],
        sent_last_minute=rows.filter(status=D.SENT, sent_at__gte=now - RATE_WINDOW).count(),
        editions=live_progress(),
    )
