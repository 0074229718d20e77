"""Pause, resume and cancel an edition (point 7 of the delivery guarantee in this package's
docstring). Each is one transition of newsletter.editions.state plus what it means for the rows."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from newsletter.editions import state

from . import claims
from .dispatch import enqueue_batches
from .models import Delivery

D = claims.D


@dataclass(frozen=True)
class CancelResult:
    cancelled: bool  # this call moved the edition to cancelled
    skipped: int = 0  # queued rows turned into skipped


def pause(*, digest_id: int) -> bool:
    """sending -> paused. Batch tasks that start afterwards leave their rows queued."""
    return state.apply(state.Transition.PAUSE, digest_id=digest_id)


def resume(*, digest_id: int) -> list[int]:
    """paused -> sending, and enqueue (on commit) every batch that still has queued rows.
    Rows already sent are not queued, so nobody is sent twice. Returns the batch numbers."""
    with transaction.atomic():
        if not state.apply(state.Transition.RESUME, digest_id=digest_id):
            return []
        queued = Delivery.objects.filter(digest_id=digest_id, status=D.QUEUED)
        numbers = sorted(queued.values_list("batch", flat=True).distinct())
        queued.update(queued_at=timezone.now())
        if numbers:
            transaction.on_commit(lambda: enqueue_batches(digest_id=digest_id, batches=numbers))
        else:
            claims.finish_if_done(digest_id)
    return numbers


def cancel(*, digest_id: int) -> CancelResult:
    """Stop an edition for good, whether a draft, approved, testing its subjects, waiting for
    their result, sending or paused: the remaining queued (and held) rows become skipped (claimed ones are settled by the sweeper within its window)."""
    with transaction.atomic():
        if not state.apply(state.Transition.CANCEL, digest_id=digest_id):
            return CancelResult(cancelled=False)
        skipped = Delivery.objects.filter(digest_id=digest_id, status__in=[D.QUEUED, D.HELD]).update(
            status=D.SKIPPED, error="edition cancelled"
        )
    return CancelResult(cancelled=True, skipped=skipped)
