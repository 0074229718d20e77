"""`send_status`: what the sending side is doing now, for an operator during a long send.

Prints the depth of each Celery queue, the oldest delivery still queued, the deliveries the ESP
accepted in the last minute, and each live edition's progress (sent/total, rate, estimated
finish) from its counters. Read-only; /healthz stays the cheap liveness check."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from newsletter.delivery.status import send_status


class Command(BaseCommand):
    help = "Queue depths, the oldest queued delivery, the last minute's send rate and live editions."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        status = send_status(now=now)
        for name, depth in status.queues.items():
            self.stdout.write(f"queue {name}: {'broker unreachable' if depth is None else depth}")
        oldest = status.oldest_queued_at
        waited = f" ({(now - oldest).total_seconds():.0f} s ago)" if oldest else ""
        self.stdout.write(f"oldest queued delivery: {oldest.isoformat() if oldest else '-'}{waited}")
        self.stdout.write(f"accepted in the last minute: {status.sent_last_minute}")
        if not status.editions:
            self.stdout.write("no edition is sending")
        for edition in status.editions:
            finish = edition.estimated_finish(now=now)
            self.stdout.write(
                f"edition {edition.digest_id} {edition.label} [{edition.status}]: "
                f"{edition.settled}/{edition.audience} ({edition.fraction:.0%}), "
                f"{edition.rate_per_second(now=now):.0f}/s, "
                f"finish ~{timezone.localtime(finish):%H:%M:%S}" * bool(finish)
            )
