"""The sweeper (every minute): progress without Redis or the original worker, point 6 of the
delivery guarantee in this package's docstring. Rows claimed too long go back to queued, batches
whose queued rows wait too long are enqueued again, rows stuck in `sending` become `unknown`."""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from newsletter.editions import state
from newsletter.editions.models import Digest

from . import claims, conf
from .dispatch import enqueue_batches
from .models import Delivery

log = logging.getLogger(__name__)

D = claims.D
# Editions whose deliveries may still be pending (the sweeper looks only at these). A cancelled
# edition can still have rows a dying worker left claimed or sending; a day is far longer than
# it takes to settle them, and keeps old cancelled editions out of every sweep.
LIVE_EDITIONS = state.LIVE_STATUSES
CANCELLED_SETTLE_WINDOW = timedelta(days=1)


@dataclass
class SweepReport:
    requeued_claimed: int = 0
    settled_unknown: int = 0
    reenqueued_batches: int = 0
    finished_digests: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Recover from dead workers and lost broker messages (see the guarantee, point 6)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=conf.settings().SEND_STUCK_AFTER_SECONDS)
    report = SweepReport()
    # Only these editions can hold queued/claimed/sending rows (dispatch creates rows and moves
    # the edition to sending in one transaction; it becomes sent only once none is pending).
    # Scoping by edition lets the (digest, ...) indexes serve these scans: no index on
    # newsletter_delivery includes status, so that status updates stay HOT (migration 0005).
    live = list(
        Digest.objects.filter(
            Q(status__in=LIVE_EDITIONS)
            | Q(status=Digest.Status.CANCELLED, updated_at__gte=now - CANCELLED_SETTLE_WINDOW)
        ).values_list("id", flat=True)
    )
    # sending past the timeout: the ESP may have accepted it -> unknown, never resent.
    stuck_sending = (
        Delivery.objects.filter(digest_id__in=live, status=D.SENDING, sending_at__lt=cutoff)
        .values("digest_id")
        .annotate(n=Count("id"))
    )
    for row in list(stuck_sending):
        with transaction.atomic():
            settled = Delivery.objects.filter(
                digest_id=row["digest_id"], status=D.SENDING, sending_at__lt=cutoff
            ).update(status=D.UNKNOWN, error="worker stopped during the ESP call; outcome unknown")
            Digest.objects.filter(id=row["digest_id"]).update(unknown_count=F("unknown_count") + settled)
        report.settled_unknown += settled
    # claimed past the timeout: never handed to the ESP -> queued again (and enqueued below);
    # in a cancelled edition -> skipped, as cancel() did with the queued rows.
    stuck_claimed = Delivery.objects.filter(digest_id__in=live, status=D.CLAIMED, claimed_at__lt=cutoff)
    stuck_claimed.filter(digest__status=Digest.Status.CANCELLED).update(
        status=D.SKIPPED, claimed_at=None, error="edition cancelled"
    )
    report.requeued_claimed = stuck_claimed.update(status=D.QUEUED, claimed_at=None, queued_at=cutoff)
    # queued past the timeout, for editions still sending: the task was lost (or never ran).
    stale = list(
        Delivery.objects.filter(status=D.QUEUED, queued_at__lte=cutoff, digest__status__in=state.SENDING_STATUSES)
        .values_list("digest_id", "batch")
        .distinct()
    )
    by_digest: dict[int, list[int]] = defaultdict(list)
    for digest_id, number in stale:
        by_digest[digest_id].append(number)
    for digest_id, numbers in by_digest.items():
        with transaction.atomic():
            # Fresh timestamp: the re-enqueued task gets a full timeout before the next sweep.
            Delivery.objects.filter(
                digest_id=digest_id, batch__in=numbers, status=D.QUEUED, queued_at__lte=cutoff
            ).update(queued_at=now)
            transaction.on_commit(functools.partial(enqueue_batches, digest_id=digest_id, batches=sorted(numbers)))
        report.reenqueued_batches += len(numbers)
    for digest_id in Digest.objects.filter(status__in=state.SENDING_STATUSES).values_list("id", flat=True):
        report.finished_digests += int(claims.finish_if_done(digest_id))
    if report.settled_unknown or report.requeued_claimed or report.reenqueued_batches:
        log.warning("sweep: %s", report.as_dict())
    return report
