"""Retention: per-recipient rows of old editions do not grow forever (issue 15, "Storing it").

An edition that finished (sent, cancelled or skipped) and began sending more than
DELIVERY_RETENTION_DAYS ago loses its Delivery and Receipt rows, in two steps:

1. Freeze, once, in one transaction holding the edition's row lock: the roll-up runs one last
   time (EditionStats and StoryClickStats final, newsletter.analytics.rollup), the send report
   the admin shows (newsletter.delivery.counts) is copied onto EditionStats, and
   `EditionStats.pruned_at` is set. From then on the roll-up leaves the edition alone and the
   admin, the edition report and its CSV read the frozen figures.
2. Delete in chunks of DELIVERY_PRUNE_CHUNK rows, each its own short transaction (select ids by
   the (digest, subscriber) index, detach their tracking events, delete by id): row locks on one
   chunk at a time, never a table lock, and a run killed half-way loses nothing: the next run
   finds the edition still has rows, sees it already frozen (never re-freezes from a remainder)
   and goes on deleting.

Never touched: Subscriber rows, Suppression (the hashes that keep erased or bounced addresses
off the list), the consent fields on Subscriber, DeliveryEvent rows (kept, detached from the
deleted delivery as its SET_NULL foreign key says), Engagement and StoryClick.

Why here and not in newsletter.delivery: the freeze calls the roll-up, which sits above the
delivery layer (pyproject.toml's import-linter contract); this module sits above both.
Why chunked DELETE and not monthly partitions: bench/README.md ("Retention") has the figures.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from newsletter.analytics import rollup
from newsletter.analytics.models import EditionStats
from newsletter.delivery import counts
from newsletter.delivery.models import Delivery, DeliveryEvent, Receipt
from newsletter.editions.models import Digest

from . import conf

log = logging.getLogger(__name__)

FINISHED = (Digest.Status.SENT, Digest.Status.CANCELLED, Digest.Status.SKIPPED)


@dataclass
class PruneResult:
    editions: int = 0  # editions frozen or pruned by this run
    deliveries: int = 0
    receipts: int = 0
    chunks: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class DueEdition:
    digest_id: int
    label: str
    deliveries: int  # rows left (counted: only the dry run asks)
    frozen: bool


def cutoff(*, now: datetime) -> datetime | None:
    """Editions that began sending before this are due; None when retention is off (0 days)."""
    days = conf.settings().DELIVERY_RETENTION_DAYS
    return now - timedelta(days=days) if days > 0 else None


def due_editions(*, now: datetime) -> list[int]:
    """Finished editions past retention that still have Delivery or Receipt rows (an EXISTS per
    edition on the digest-leading indexes: no scan of the rows)."""
    before = cutoff(now=now)
    if before is None:
        return []
    has_rows = Exists(Delivery.objects.filter(digest_id=OuterRef("pk"))) | Exists(
        Receipt.objects.filter(digest_id=OuterRef("pk"))
    )
    return list(
        Digest.objects.filter(Q(status__in=FINISHED), sending_started_at__lt=before)
        .filter(has_rows)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# SendReport field -> EditionStats field (EditionStats names a few of them differently).
FROZEN_FIELDS = {
    "audience": "audience",
    "sent": "sent",
    "failed": "failed",
    "unknown": "unknown",
    "skipped": "skipped",
    "queued": "pending",
    "delivered": "delivered",
    "opened": "opened",
    "clicked": "clicked",
    "bounced": "bounced",
    "complained": "complaints",
    "unsubscribed": "unsubscribed",
    "rejected": "rejected",
}


def frozen_fields(report: counts.SendReport) -> dict[str, int]:
    """The report as EditionStats field values (what retention stores before pruning)."""
    return {stats_field: getattr(report, field) for field, stats_field in FROZEN_FIELDS.items()}


def send_report(*, digest_id: int) -> counts.SendReport:
    """Where an edition's deliveries stand: from its Delivery rows, or, once retention pruned them,
    from the figures frozen on its EditionStats right before, so the admin shows the numbers it
    showed before the prune instead of zeros."""
    frozen = EditionStats.objects.filter(digest_id=digest_id, pruned_at__isnull=False).first()
    if frozen is not None:
        return counts.SendReport(
            **{field: getattr(frozen, stats_field) for field, stats_field in FROZEN_FIELDS.items()}
        )
    return counts.report(digest_id=digest_id)


def describe_due(*, now: datetime | None = None) -> list[DueEdition]:
    """What a prune would do (`prune_deliveries --dry-run`); changes nothing."""
    ids = due_editions(now=now or timezone.now())
    frozen = set(EditionStats.objects.filter(digest_id__in=ids, pruned_at__isnull=False).values_list("pk", flat=True))
    return [
        DueEdition(
            digest_id=digest.pk,
            label=str(digest),
            deliveries=Delivery.objects.filter(digest_id=digest.pk).count(),
            frozen=digest.pk in frozen,
        )
        for digest in Digest.objects.filter(pk__in=ids).order_by("pk")
    ]


def freeze(*, digest_id: int, now: datetime) -> bool:
    """Step 1 (once per edition): final roll-up and the send report onto EditionStats, then
    `pruned_at`. False when it was frozen already (a second run, a concurrent run)."""
    with transaction.atomic():
        # The edition's row lock serialises two prune runs; the second sees `pruned_at` and
        # never re-freezes from rows the first one has started deleting.
        Digest.objects.select_for_update().filter(pk=digest_id).values_list("pk", flat=True).first()
        if EditionStats.objects.filter(digest_id=digest_id, pruned_at__isnull=False).exists():
            return False
        rollup.rollup_edition(digest_id=digest_id, now=now)
        figures = frozen_fields(counts.report(digest_id=digest_id))
        EditionStats.objects.update_or_create(digest_id=digest_id, defaults={**figures, "pruned_at": now})
    return True


def _id_list(ids: Sequence[int]) -> tuple[str, list[Any]]:
    """`IN (...)` contents for a chunk of ids: one array parameter on PostgreSQL."""
    if connection.vendor == "postgresql":
        return "SELECT unnest(%s::bigint[])", [list(ids)]
    return ", ".join(["%s"] * len(ids)), list(ids)


def _delete_chunk(model: type[Delivery] | type[Receipt], *, digest_id: int, chunk: int) -> int:
    table = model._meta.db_table
    with transaction.atomic():
        ids = list(model.objects.filter(digest_id=digest_id).values_list("pk", flat=True)[:chunk])
        if not ids:
            return 0
        in_ids, params = _id_list(ids)
        with connection.cursor() as cursor:
            if model is Delivery:
                events = DeliveryEvent._meta.db_table
                cursor.execute(f"UPDATE {events} SET delivery_id = NULL WHERE delivery_id IN ({in_ids})", params)
            cursor.execute(f"DELETE FROM {table} WHERE id IN ({in_ids})", params)
            return max(cursor.rowcount, 0)


def prune_edition(
    *, digest_id: int, now: datetime, chunk: int, pause: float, sleep: Callable[[float], None], result: PruneResult
) -> None:
    """Freeze (if not yet), then delete the edition's rows chunk by chunk."""
    freeze(digest_id=digest_id, now=now)
    for model in (Delivery, Receipt):
        while deleted := _delete_chunk(model, digest_id=digest_id, chunk=chunk):
            result.chunks += 1
            if model is Delivery:
                result.deliveries += deleted
            else:
                result.receipts += deleted
            if pause > 0:
                sleep(pause)
    result.editions += 1


def prune(
    *, now: datetime | None = None, chunk: int | None = None, sleep: Callable[[float], None] = time.sleep
) -> PruneResult:
    """Prune every due edition (the daily beat task and `manage.py prune_deliveries`)."""
    now = now or timezone.now()
    size = max(1, chunk or conf.settings().DELIVERY_PRUNE_CHUNK)
    result = PruneResult()
    for digest_id in due_editions(now=now):
        prune_edition(
            digest_id=digest_id,
            now=now,
            chunk=size,
            pause=conf.settings().DELIVERY_PRUNE_PAUSE_SECONDS,
            sleep=sleep,
            result=result,
        )
    log.info("delivery retention %s", result.as_dict())
    return result
