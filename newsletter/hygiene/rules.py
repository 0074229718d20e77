"""Automatic list hygiene, run from beat; every function is idempotent and takes `now` (tests
drive a controlled clock):

- `remind_pending`: ONE reminder to a subscriber still pending HYGIENE_REMINDER_HOURS (48) after
  signing up (SubscriberActivity.reminded_at is claimed in SQL before the email is enqueued).
- `purge_pending`: pending signups older than HYGIENE_PENDING_PURGE_DAYS (30) are deleted
  (they never consented; DailyGrowth has already counted them), except a reader who had left
  and signed up again without confirming: deleting that row would forget that they left (an
  import could then add them), so they go back to unsubscribed ("expired" in their history).
- `suppress_soft_bounces`: an address whose messages soft-bounced (ESP `deferred` events) in
  HYGIENE_SOFT_BOUNCE_LIMIT (3) different deliveries within HYGIENE_SOFT_BOUNCE_DAYS (30) is
  marked bounced and added to the suppression list, like a hard bounce.
Every status change here appends its consent history row (newsletter.subscribers.consent) in
the transaction of the change.
- `run_sunset` (off with SUNSET_ENABLED=0): an active subscriber with no human open and no click
  for SUNSET_INACTIVE_DAYS (180), counted from confirmation for newcomers, gets one "still want
  this?" email; a click since then (the stay link or any story) keeps them; without one within
  SUNSET_GRACE_DAYS (14) they are unsubscribed with the reason "inactive".
- `sunset_stages`: how many subscribers are in each stage (the admin dashboard).
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Count, DateTimeField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from newsletter import task_names
from newsletter.delivery.models import DeliveryEvent
from newsletter.subscribers import consent
from newsletter.subscribers.addresses import suppress
from newsletter.subscribers.models import Subscriber, SubscriberActivity, Suppression

from . import conf
from .emails import HygieneEmail

CHUNK = 1000
Status = Subscriber.Status
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.get_fixed_timezone(0))


def _enqueue_after_commit(subscriber_ids: list[int], kind: HygieneEmail) -> None:
    for subscriber_id in subscriber_ids:
        transaction.on_commit(
            functools.partial(task_names.enqueue, task_names.SEND_HYGIENE_EMAIL, subscriber_id, kind.value)
        )


def _claim(ids: list[int], *, field: str, now: datetime) -> list[int]:
    """Set `field` = now on the activity rows of `ids` where it is still empty; the ids claimed.
    Rows locked by a concurrent run are skipped (that run sends their email)."""
    SubscriberActivity.objects.bulk_create([SubscriberActivity(subscriber_id=i) for i in ids], ignore_conflicts=True)
    claimed = list(
        SubscriberActivity.objects.select_for_update(skip_locked=True)
        .filter(subscriber_id__in=ids, **{f"{field}__isnull": True})
        .values_list("subscriber_id", flat=True)
    )
    SubscriberActivity.objects.filter(subscriber_id__in=claimed).update(**{field: now})
    return claimed


def remind_pending(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    due = Subscriber.objects.filter(
        status=Status.PENDING,
        created_at__lte=now - timedelta(hours=conf.settings().HYGIENE_REMINDER_HOURS),
        created_at__gt=now - timedelta(days=conf.settings().HYGIENE_PENDING_PURGE_DAYS),
    ).exclude(activity__reminded_at__isnull=False)
    total = 0
    while True:
        with transaction.atomic():
            ids = list(due.order_by("id").values_list("id", flat=True)[:CHUNK])
            claimed = _claim(ids, field="reminded_at", now=now) if ids else []
            _enqueue_after_commit(claimed, HygieneEmail.REMINDER)
        total += len(claimed)
        if len(ids) < CHUNK or not claimed:
            return total


def purge_pending(*, now: datetime | None = None) -> int:
    """Stale pending signups: deleted, or back to unsubscribed for a reader who had left (their
    `unsubscribed_at` stays set while a re-signup waits for confirmation). Returns how many rows
    it settled either way."""
    now = now or timezone.now()
    stale = Subscriber.objects.filter(
        status=Status.PENDING, created_at__lt=now - timedelta(days=conf.settings().HYGIENE_PENDING_PURGE_DAYS)
    )
    total = 0
    while ids := list(stale.order_by("id").values_list("id", flat=True)[:CHUNK]):
        with transaction.atomic():
            returning = list(
                Subscriber.objects.select_for_update()
                .filter(id__in=ids, status=Status.PENDING, unsubscribed_at__isnull=False)
                .values_list("id", flat=True)
            )
            Subscriber.objects.filter(id__in=returning).update(status=Status.UNSUBSCRIBED, updated_at=now)
            consent.append_many(
                consent.event(
                    subscriber_id=pk,
                    kind=consent.Kind.EXPIRED,
                    source=consent.Source.HYGIENE,
                    status=Status.UNSUBSCRIBED,
                    at=now,
                )
                for pk in returning
            )
            Subscriber.objects.filter(id__in=ids, status=Status.PENDING).delete()
        total += len(ids)
    return total


def suppress_soft_bounces(*, now: datetime | None = None) -> int:
    now = now or timezone.now()
    offenders = (
        DeliveryEvent.objects.filter(
            event_type="deferred",
            timestamp__gte=now - timedelta(days=conf.settings().HYGIENE_SOFT_BOUNCE_DAYS),
            delivery__isnull=False,
        )
        .values("delivery__subscriber_id")
        .annotate(deliveries=Count("delivery_id", distinct=True))
        .filter(deliveries__gte=conf.settings().HYGIENE_SOFT_BOUNCE_LIMIT)
        .values_list("delivery__subscriber_id", flat=True)
    )
    changeable = [Status.PENDING, Status.ACTIVE, Status.UNSUBSCRIBED]
    total = 0
    for subscriber in Subscriber.objects.filter(id__in=list(offenders), status__in=changeable).only("id", "email"):
        with transaction.atomic():
            changed = Subscriber.objects.filter(id=subscriber.id, status__in=changeable).update(
                status=Status.BOUNCED, bounced_at=now
            )
            if changed:
                suppress(subscriber.email, reason=Suppression.Reason.BOUNCED)
                consent.append(
                    subscriber_id=subscriber.id,
                    kind=consent.Kind.BOUNCED,
                    source=consent.Source.HYGIENE,
                    status=Status.BOUNCED,
                    at=now,
                )
                total += 1
    return total


# --- Sunset -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SunsetResult:
    stayed: int = 0
    reengaged: int = 0
    unsubscribed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _inactive(queryset: QuerySet[Subscriber], *, cutoff: datetime) -> QuerySet[Subscriber]:
    """Subscribers whose latest human open or click (else confirmation, else signup) is older
    than `cutoff` and who have not been asked yet."""
    epoch = Value(_EPOCH, output_field=DateTimeField())
    return (
        queryset.annotate(
            last_seen=Greatest(
                Coalesce("activity__last_open_at", epoch),
                Coalesce("activity__last_click_at", epoch),
                Coalesce("confirmed_at", "created_at"),
            )
        )
        .filter(last_seen__lt=cutoff)
        .filter(Q(activity__isnull=True) | Q(activity__reengage_sent_at__isnull=True))
    )


def run_sunset(*, now: datetime | None = None) -> SunsetResult:
    if not conf.settings().SUNSET_ENABLED:
        return SunsetResult()
    now = now or timezone.now()
    # 1. A click after the re-engagement email keeps the subscriber: the stage closes.
    stayed = SubscriberActivity.objects.filter(
        reengage_sent_at__isnull=False, last_click_at__gt=F("reengage_sent_at")
    ).update(reengage_sent_at=None)
    # 2. No click within the grace period: unsubscribed with the reason "inactive".
    unsubscribed = 0
    expired = SubscriberActivity.objects.filter(
        reengage_sent_at__lte=now - timedelta(days=conf.settings().SUNSET_GRACE_DAYS), subscriber__status=Status.ACTIVE
    )
    while ids := list(expired.values_list("subscriber_id", flat=True)[:CHUNK]):
        with transaction.atomic():
            changed = list(
                Subscriber.objects.select_for_update(skip_locked=True)
                .filter(id__in=ids, status=Status.ACTIVE)
                .values_list("id", flat=True)
            )
            Subscriber.objects.filter(id__in=changed).update(status=Status.UNSUBSCRIBED, unsubscribed_at=now)
            SubscriberActivity.objects.filter(subscriber_id__in=changed).update(
                reengage_sent_at=None, unsubscribe_reason=SubscriberActivity.Reason.INACTIVE
            )
            consent.append_many(
                consent.event(
                    subscriber_id=pk,
                    kind=consent.Kind.UNSUBSCRIBED,
                    source=consent.Source.HYGIENE,
                    status=Status.UNSUBSCRIBED,
                    reason=consent.Reason.INACTIVE,
                    at=now,
                )
                for pk in changed
            )
        unsubscribed += len(changed)
        if not changed:  # the rest are locked by a concurrent run, which settles them
            break
    # 3. Inactive for SUNSET_INACTIVE_DAYS and not yet asked: one "still want this?" email.
    reengaged = 0
    inactive = _inactive(
        Subscriber.objects.filter(status=Status.ACTIVE),
        cutoff=now - timedelta(days=conf.settings().SUNSET_INACTIVE_DAYS),
    )
    while True:
        with transaction.atomic():
            ids = list(inactive.order_by("id").values_list("id", flat=True)[:CHUNK])
            claimed = _claim(ids, field="reengage_sent_at", now=now) if ids else []
            _enqueue_after_commit(claimed, HygieneEmail.REENGAGE)
        reengaged += len(claimed)
        if len(ids) < CHUNK or not claimed:
            break
    return SunsetResult(stayed=stayed, reengaged=reengaged, unsubscribed=unsubscribed)


def record_stay(*, subscriber_uuid: uuid.UUID, now: datetime | None = None) -> bool:
    """The stay link was followed: a click (keeps the subscriber at the next sunset run)."""
    now = now or timezone.now()
    subscriber = Subscriber.objects.filter(uuid=subscriber_uuid, status=Status.ACTIVE).only("id").first()
    if subscriber is None:
        return False
    SubscriberActivity.objects.update_or_create(subscriber_id=subscriber.id, defaults={"last_click_at": now})
    return True


def sunset_stages(*, now: datetime | None = None) -> dict[str, int]:
    """Subscribers per stage of the policy (counts only, no personal data)."""
    now = now or timezone.now()
    active = Subscriber.objects.filter(status=Status.ACTIVE)
    cutoff = now - timedelta(days=conf.settings().SUNSET_INACTIVE_DAYS)
    waiting = active.filter(activity__reengage_sent_at__isnull=False).count()
    inactive = _inactive(active, cutoff=cutoff).count()
    return {
        "engaged": active.count() - waiting - inactive,
        "inactive": inactive,
        "reengagement_sent": waiting,
        "unsubscribed_inactive": Subscriber.objects.filter(
            status=Status.UNSUBSCRIBED, activity__unsubscribe_reason=SubscriberActivity.Reason.INACTIVE
        ).count(),
        "pending": Subscriber.objects.filter(status=Status.PENDING).count(),
        "pending_reminded": Subscriber.objects.filter(
            status=Status.PENDING, activity__reminded_at__isnull=False
        ).count(),
    }
