"""A subject-line test from the test share to the rest: the beat's check that picks the winner
once the wait has passed, and the editor's "choose the winner now".

    dispatch (start_test) --> testing: the test share goes out, split evenly among the variants,
        the rest held (newsletter.delivery.subject_split)
    the share's last row settled (test_sent) --> waiting, since test_sent_at
    test_sent_at + wait <= now (the beat, every minute), or the editor's click
        --> choose_winner: the winner and why (analytics.variant_stats.decide) stored with the
            transition in one conditional UPDATE, the variants' figures frozen, the held rows
            queued and their batches enqueued on commit --> sending --> sent

Everything the flow needs is in the database (the statuses, test_sent_at, the held rows), so a
beat or worker restart during the wait loses nothing: the next check after it resumes the test.
Two clicks, or a click and the beat, make the transition once and release the rest once; a
release whose batch tasks were lost is re-enqueued by the delivery sweeper like any queued row.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from newsletter.analytics import variant_stats
from newsletter.analytics.experiment import ArmCounts
from newsletter.delivery import claims, subject_split
from newsletter.delivery.dispatch import enqueue_batches
from newsletter.editions import state
from newsletter.editions.models import Digest, SubjectVariant

log = logging.getLogger(__name__)
S = Digest.Status


def wait_over_at(digest: Digest) -> datetime | None:
    """When the edition's wait ends: its wait after the test share was all sent (None before)."""
    if digest.test_sent_at is None or digest.test_wait_minutes is None:
        return None
    return digest.test_sent_at + timedelta(minutes=digest.test_wait_minutes)


def choose_winner(*, digest_id: int, now: datetime | None = None) -> bool:
    """Pick the winner by the rule, store it and why, and release the rest; True only for the call
    that made the transition (a second click, or the beat after a click, changes nothing)."""
    now = now or timezone.now()
    with transaction.atomic():
        digest = Digest.objects.filter(id=digest_id, status__in=(S.TESTING, S.WAITING)).first()
        if digest is None:
            return False
        variants = list(SubjectVariant.objects.filter(digest_id=digest_id).order_by("position"))
        if not variants:
            return False
        counts = variant_stats.live_counts(digest_id)
        decision = variant_stats.decide(
            [(v.pk, counts.get(v.pk, ArmCounts())) for v in variants], metric=digest.test_metric
        )
        winner = next(v for v in variants if v.pk == decision.winner)
        # The winner becomes the edition's subject: the archive, the report and the rest's emails.
        moved = state.apply(
            state.Transition.CHOOSE_WINNER,
            digest_id=digest_id,
            test_winner=winner,
            test_winner_reason=decision.reason,
            test_decided_at=now,
            subject=winner.subject,
        )
        if not moved:
            return False
        for variant in variants:  # the figures the winner was chosen on
            figures = counts.get(variant.pk, ArmCounts())
            SubjectVariant.objects.filter(pk=variant.pk).update(
                recipients=figures.recipients, human_openers=figures.human_openers, clickers=figures.clickers
            )
        _decide_edition(digest, winner, decision.reason, now)
        batches = subject_split.release(digest_id=digest_id, now=now)
        if batches:
            transaction.on_commit(lambda: enqueue_batches(digest_id=digest_id, batches=batches))
        else:
            claims.finish_if_done(digest_id)
    log.info("subject test of digest %s: variant %s won (%s)", digest_id, winner.position, decision.reason)
    return True


def copy_to_wave(edition: Digest, wave: Digest) -> None:
    """A wave about to be dispatched: while no wave of the edition has chosen a winner, it runs
    the edition's test itself (its own copy of the lines and settings); after, it goes out with
    the winner, already the edition's subject. The edition is marked started, so its lines can
    no longer change. Call in the wave's transaction, the edition's row locked."""
    variants = list(SubjectVariant.objects.filter(digest=edition).order_by("position"))
    SubjectVariant.objects.filter(digest=wave).delete()
    if len(variants) < 2 or edition.test_decided_at is not None:
        return
    SubjectVariant.objects.bulk_create(
        SubjectVariant(digest=wave, position=v.position, subject=v.subject) for v in variants
    )
    settings = {
        "test_share_percent": edition.test_share_percent,
        "test_wait_minutes": edition.test_wait_minutes,
        "test_metric": edition.test_metric,
    }
    Digest.objects.filter(pk=wave.pk).update(**settings)
    Digest.objects.filter(pk=edition.pk, test_started_at__isnull=True).update(test_started_at=timezone.now())


def _decide_edition(wave: Digest, winner: SubjectVariant, reason: str, now: datetime) -> None:
    """The first wave to choose decides for its edition: the later waves copy the edition's
    subject, and the edition's report shows the figures the winner was chosen on."""
    edition_id = wave.wave_of_id
    if edition_id is None:
        return
    chosen = SubjectVariant.objects.filter(digest_id=edition_id, position=winner.position).first()
    decided = Digest.objects.filter(pk=edition_id, test_decided_at__isnull=True).update(
        subject=winner.subject, test_winner=chosen, test_winner_reason=reason, test_decided_at=now
    )
    if decided:
        for variant in SubjectVariant.objects.filter(digest=wave):
            SubjectVariant.objects.filter(digest_id=edition_id, position=variant.position).update(
                recipients=variant.recipients, human_openers=variant.human_openers, clickers=variant.clickers
            )


def advance(*, now: datetime | None = None) -> list[int]:
    """The beat's check (every minute): choose the winner of every test whose wait has passed.
    Returns the editions whose rest it released."""
    now = now or timezone.now()
    released = []
    for digest in Digest.objects.filter(status=S.WAITING):
        over = wait_over_at(digest)
        if over is not None and over <= now and choose_winner(digest_id=digest.pk, now=now):
            released.append(digest.pk)
    return released
