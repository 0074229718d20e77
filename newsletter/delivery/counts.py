"""Where an edition's deliveries stand, in one aggregate query: what `send_digest --sync`
prints, what the admin's edition page shows, what tests and benchmarks check.

Once retention has pruned an edition's Delivery rows, newsletter.retention.pruning.send_report gives the
same figures from its EditionStats row, where they were frozen right before the rows went."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.db.models import Count, Q

from newsletter.editions.models import Digest

from .claims import PENDING, D
from .models import Delivery


@dataclass(frozen=True)
class SendReport:
    audience: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    queued: int = 0  # still queued, claimed or sending
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    bounced: int = 0
    complained: int = 0
    unsubscribed: int = 0
    rejected: int = 0

    @property
    def pending(self) -> int:
        return self.queued

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "pending": self.queued}


def report(*, digest_id: int) -> SendReport:
    """Where the edition's Delivery rows stand, in one aggregate query (an edition whose rows
    retention pruned reads its frozen figures through newsletter.retention.pruning.send_report)."""
    return SendReport(
        **Delivery.objects.filter(digest_id=digest_id).aggregate(
            audience=Count("id"),
            sent=Count("id", filter=Q(status=D.SENT)),
            failed=Count("id", filter=Q(status=D.FAILED)),
            unknown=Count("id", filter=Q(status=D.UNKNOWN)),
            skipped=Count("id", filter=Q(status=D.SKIPPED)),
            queued=Count("id", filter=Q(status__in=PENDING)),
            delivered=Count("id", filter=Q(delivered_at__isnull=False)),
            opened=Count("id", filter=Q(opened_at__isnull=False)),
            clicked=Count("id", filter=Q(clicked_at__isnull=False)),
            bounced=Count("id", filter=Q(bounced_at__isnull=False)),
            complained=Count("id", filter=Q(complained_at__isnull=False)),
            unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
            rejected=Count("id", filter=Q(rejected_at__isnull=False)),
        )
    )


def report_from_counters(digest: Digest) -> SendingCounts:
    """Where a sending edition stands from its counters (no scan of its rows): the tracking
    figures (delivered, opened, ...) are left out until the send is over."""
    settled = digest.sent_count + digest.failed_count + digest.unknown_count + digest.skipped_count
    return SendingCounts(
        audience=digest.audience_count,
        sent=digest.sent_count,
        failed=digest.failed_count,
        unknown=digest.unknown_count,
        skipped=digest.skipped_count,
        queued=max(digest.audience_count - settled, 0),
    )


@dataclass(frozen=True)
class SendingCounts:
    audience: int
    sent: int
    failed: int
    unknown: int
    skipped: int
    queued: int

    def as_dict(self) -> dict[str, int]:
        return {**asdict(self), "pending": self.queued}
