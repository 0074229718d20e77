"""Every status move of a Delivery row, each a conditional UPDATE on the current status (and,
from `claimed` on, on the claim token `claimed_at`): claims and bookkeeping for the batch run
(points 2-4 of the delivery guarantee in this package's docstring).

    queued -> claimed -> sending -> sent | failed | unknown      (or claimed -> skipped)

A row moves only from the status the caller expects, so a row the sweeper already settled (or
another copy of the task took) is never overwritten nor counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Case, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from newsletter.editions import state
from newsletter.editions.models import Digest

from . import conf
from .models import Delivery

D = Delivery.Status
PENDING = (D.QUEUED, D.CLAIMED, D.SENDING)


def id_set(ids: Iterable[int]) -> Any:
    """The value for an `id__in` filter over up to a batch of ids. On PostgreSQL one array
    parameter (`IN (SELECT unnest(%s))`) instead of one placeholder per id: Django compiling and
    psycopg binding 1,000 placeholders cost 5-10 ms per statement (measured; a batch runs 3-4
    such statements). Other databases get the plain list."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])
    return list(ids)


def claim(*, digest_id: int, batch: int, token: datetime) -> list[tuple[int, int]]:
    """Take the batch's queued rows: (delivery id, subscriber id), with one conditional
    UPDATE ... RETURNING (PostgreSQL; SQLite >= 3.35). A concurrent copy of this task waits for
    the row locks, re-checks `status = queued`, and gets none of them."""
    sql = f"""
        UPDATE {Delivery._meta.db_table} SET status = %s, claimed_at = %s
        WHERE digest_id = %s AND batch = %s AND status = %s
        RETURNING id, subscriber_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [D.CLAIMED, connection.ops.adapt_datetimefield_value(token), digest_id, batch, D.QUEUED])
        return [(int(row[0]), int(row[1])) for row in cursor.fetchall()]


def mark_skipped(skipped: Mapping[str, list[int]]) -> None:
    """claimed -> skipped, with the reason (the subscriber left, too few stories)."""
    for reason, ids in skipped.items():
        if ids:
            Delivery.objects.filter(id__in=id_set(ids), status=D.CLAIMED).update(status=D.SKIPPED, error=reason[:500])


def to_sending(ids: Sequence[int], *, token: datetime, segment: int | None = None, arm: str | Case = "") -> list[int]:
    """claimed -> sending for rows still under our claim; returns the ids we may send. The rows
    are marked with the segment whose email they get (EditionSegment) and the readers' arm of the
    personal-editions experiment in the same UPDATE."""
    moved = Delivery.objects.filter(id__in=id_set(ids), status=D.CLAIMED, claimed_at=token).update(
        status=D.SENDING, attempts=F("attempts") + 1, sending_at=timezone.now(), segment=segment, arm=arm
    )
    if moved == len(ids):
        return list(ids)
    # The sweeper took some back (we were slower than SEND_STUCK_AFTER_SECONDS): send only ours.
    return list(Delivery.objects.filter(id__in=ids, status=D.SENDING, claimed_at=token).values_list("id", flat=True))


def to_sending_by_arm(
    ids: Sequence[int], *, token: datetime, segment: int | None, arms: Mapping[int, str]
) -> list[int]:
    """`to_sending` for the recipients of one email, their arms written in the same UPDATE."""
    by_arm: dict[str, list[int]] = {}
    for delivery_id in ids:
        by_arm.setdefault(arms.get(delivery_id, ""), []).append(delivery_id)
    if len(by_arm) <= 1:
        return to_sending(ids, token=token, segment=segment, arm=next(iter(by_arm), ""))
    # Each arm's ids as one array parameter (id_set), not one placeholder per id: compiling and
    # binding the placeholders made this UPDATE cost 2.5 times the settling one (profiled).
    arm = Case(
        *(When(id__in=id_set(arm_ids), then=Value(value)) for value, arm_ids in by_arm.items()), default=Value("")
    )
    return to_sending(ids, token=token, segment=segment, arm=arm)


def requeue(ids: Sequence[int], *, token: datetime, delay: float) -> None:
    """Our claimed/sending rows back to queued, due again after `delay` seconds."""
    if ids:
        Delivery.objects.filter(id__in=ids, status__in=[D.CLAIMED, D.SENDING], claimed_at=token).update(
            status=D.QUEUED, claimed_at=None, queued_at=timezone.now() + timedelta(seconds=delay)
        )


def settle(ids: Sequence[int], *, status: str, error: str = "", message_id: str = "") -> int:
    """claimed/sending -> sent | failed | unknown; returns how many rows moved."""
    if not ids:
        return 0
    values: dict[str, Any] = {"status": status, "error": error[:500]}
    if status == D.SENT:
        values.update(sent_at=timezone.now(), esp_message_id=message_id[:255])
    return Delivery.objects.filter(id__in=id_set(ids), status__in=[D.SENDING, D.CLAIMED]).update(**values)


def settle_individually(by_outcome: Mapping[tuple[str, str, str], list[int]]) -> dict[str, int]:
    """Rows with their own message id each (ESPs with one id per recipient): bulk UPDATE ...
    CASE per final status, guarded on `sending` like every other move (a row the sweeper already
    settled as unknown keeps that status). Returns how many rows moved, per status."""
    now = timezone.now()
    moved: dict[str, int] = {}
    for status, outcomes in _by_status(by_outcome).items():
        rows = [
            Delivery(
                id=delivery_id,
                status=status,
                esp_message_id=message_id[:255],
                error=error[:500],
                sent_at=now if status == D.SENT else None,
            )
            for delivery_id, (message_id, error) in outcomes.items()
        ]
        # bulk_update filters each statement through this queryset: the guard is in the UPDATE.
        moved[status] = Delivery.objects.filter(status=D.SENDING).bulk_update(
            rows, ["status", "esp_message_id", "error", "sent_at"], batch_size=1000
        )
    return moved


def _by_status(by_outcome: Mapping[tuple[str, str, str], list[int]]) -> dict[str, dict[int, tuple[str, str]]]:
    grouped: dict[str, dict[int, tuple[str, str]]] = {}
    for (status, message_id, error), ids in by_outcome.items():
        for delivery_id in ids:
            grouped.setdefault(status, {})[delivery_id] = (message_id, error)
    return grouped


def mark_sent(sent: list[Delivery]) -> int:
    """sending -> sent for rows the ESP accepted one by one (their message ids saved too).
    Guarded on `sending` so a row the sweeper already settled is not counted twice."""
    if not sent:
        return 0
    count = Delivery.objects.filter(id__in=[row.id for row in sent], status=D.SENDING).update(
        status=D.SENT, sent_at=timezone.now()
    )
    Delivery.objects.bulk_update(sent, ["esp_message_id"])
    sent.clear()
    return count


def fail_exhausted(ids: Sequence[int], *, token: datetime, reason: str) -> tuple[set[int], int]:
    """Count an attempt for rows that failed before `sending` (a connect error: or it would
    loop), then fail the rows out of attempts. Returns (their ids, how many moved to failed)."""
    Delivery.objects.filter(id__in=ids, status=D.CLAIMED, claimed_at=token, sending_at__isnull=True).update(
        attempts=F("attempts") + 1
    )
    exhausted = set(
        Delivery.objects.filter(
            id__in=ids, claimed_at=token, attempts__gte=conf.settings().SEND_MAX_ATTEMPTS
        ).values_list("id", flat=True)
    )
    failed = 0
    if exhausted:
        failed = Delivery.objects.filter(id__in=exhausted, status__in=[D.SENDING, D.CLAIMED]).update(
            status=D.FAILED, error=f"gave up after {conf.settings().SEND_MAX_ATTEMPTS} attempts: {reason}"[:500]
        )
    return exhausted, failed


def most_attempts(ids: Sequence[int]) -> int:
    return Delivery.objects.filter(id__in=ids).order_by("-attempts").values_list("attempts", flat=True).first() or 1


def finish_if_settled(digest_id: int) -> bool:
    """The batch path's finish check. Asking the rows (`finish_if_done`) after every batch scans
    the edition until a pending row turns up: near the end of a 1,000,000-recipient send that was
    most of the edition, a thousand times over. The edition's counters answer with one row read;
    only when they add up to the audience do the rows confirm. A batch whose worker died before
    its counters were written leaves them short: the sweeper's full check finishes that edition."""
    sending = Q(status=Digest.Status.SENDING) | Q(status=Digest.Status.TESTING)  # state.SENDING_STATUSES
    settled = Digest.objects.filter(
        sending,
        id=digest_id,
        audience_count__lte=F("sent_count") + F("failed_count") + F("unknown_count") + F("skipped_count"),
    ).exists()
    return settled and finish_if_done(digest_id)


def finish_if_done(digest_id: int) -> bool:
    """The edition sending -> sent once none of its rows is queued, claimed or sending; a
    subject-line test's share testing -> waiting (its held rest is not pending)."""
    if Delivery.objects.filter(status__in=PENDING, digest_id=digest_id).exists():
        return False
    now = timezone.now()
    return state.apply(state.Transition.FINISH, digest_id=digest_id, sent_at=now) or (
        Digest.objects.filter(id=digest_id, status=Digest.Status.TESTING).exists()
        and state.apply(state.Transition.TEST_SENT, digest_id=digest_id, test_sent_at=now)
    )
