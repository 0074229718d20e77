"""The consent history: what each status change appends, and how the history is read back.

Written by the services that change a subscriber's status, inside the transaction of the change
(so a history row never exists without its change, nor a change without its row):
- newsletter.subscribers.lifecycle: signed up (every channel), confirmed, unsubscribed (from the
  email's link), resubscribed, and the breaking-news alerts list's opt-in and opt-out (at the
  confirmation, from the preference page, from an alert's own unsubscribe link);
- newsletter.subscribers.csv_io: imported; newsletter.admin.subscribers: added by an
  administrator, and status changes made on the change page (with the administrator);
- newsletter.delivery.tracking: bounced, complained, unsubscribed at the ESP;
- newsletter.hygiene.rules: soft bounces (bounced), sunset (unsubscribed, "inactive"), a
  pending re-signup of a reader who had left expiring back to unsubscribed.

The subscriber's own columns say where the subscription stands now (`confirmed_at` is when they
confirmed the consent on record; `unsubscribed_at` is set only while they are out); the history
says how it got there. Readers of it: the admin's change page, the per-subscriber JSON export
and the CSV export's `consent_history` column (`kind@ISO time`, oldest first, `|`-separated).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from .models import ConsentEvent, Subscriber

Kind = ConsentEvent.Kind
Source = ConsentEvent.Source
Reason = ConsentEvent.Reason
# The reasons a reader may give on the unsubscribed page, in the order they are offered.
READER_REASONS = (Reason.TOO_MANY, Reason.NOT_RELEVANT, Reason.NEVER_SIGNED_UP, Reason.OTHER)
CSV_SEPARATOR = "|"


def event(
    *,
    subscriber_id: int,
    kind: str,
    source: str,
    status: str,
    at: datetime | None = None,
    reason: str = "",
    consent_text_version: str = "",
    ip_hash: str = "",
    user_agent_hash: str = "",
    actor_id: int | None = None,
) -> ConsentEvent:
    """An unsaved history row (for callers that write several at once with `append_many`)."""
    return ConsentEvent(
        subscriber_id=subscriber_id,
        kind=kind,
        source=source,
        status=status,
        at=at or timezone.now(),
        reason=reason,
        consent_text_version=consent_text_version,
        ip_hash=ip_hash,
        user_agent_hash=user_agent_hash,
        actor_id=actor_id,
    )


def append(**fields: Any) -> ConsentEvent:
    """Append one row (the keyword arguments of `event`); call it inside the change's transaction."""
    row = event(**fields)
    row.save(force_insert=True)
    return row


def append_many(rows: Iterable[ConsentEvent]) -> None:
    ConsentEvent.objects.bulk_create(list(rows), batch_size=1000)


def channel_of(source: str) -> str:
    """The history's source for a subscriber's signup source (form, article box, embed, ...)."""
    return source if source in Source.values else Source.FORM


def history(subscriber: Subscriber) -> list[ConsentEvent]:
    return list(ConsentEvent.objects.filter(subscriber_id=subscriber.pk).order_by("at", "id"))


def as_export(subscriber: Subscriber) -> list[dict[str, Any]]:
    """The history for the per-subscriber JSON export (data subject access request)."""
    return [
        {
            "event": row.kind,
            "at": row.at.isoformat(),
            "source": row.source,
            "status_after": row.status,
            "reason": row.reason,
            "consent_text_version": row.consent_text_version,
            "ip_hash": row.ip_hash,
            "user_agent_hash": row.user_agent_hash,
            "by_administrator": row.actor_id is not None,
        }
        for row in history(subscriber)
    ]


def csv_cells(subscriber_ids: list[int]) -> dict[int, str]:
    """The CSV export's `consent_history` cell per subscriber, in one query."""
    cells: dict[int, list[str]] = defaultdict(list)
    rows = (
        ConsentEvent.objects.filter(subscriber_id__in=subscriber_ids)
        .order_by("subscriber_id", "at", "id")
        .values_list("subscriber_id", "kind", "at", "reason")
    )
    for subscriber_id, kind, at, reason in rows:
        cells[subscriber_id].append(f"{kind}{':' + reason if reason else ''}@{at.isoformat()}")
    return {subscriber_id: CSV_SEPARATOR.join(parts) for subscriber_id, parts in cells.items()}


def give_unsubscribe_reason(*, subscriber: Subscriber, reason: str) -> bool:
    """The reader's optional reason, on their latest unsubscribe, once. False (nothing written)
    when they are no longer unsubscribed or already gave one. Raises ValueError for a reason that
    is not one of READER_REASONS."""
    if reason not in READER_REASONS:
        raise ValueError("not a reason a reader can give")
    with transaction.atomic():
        current = Subscriber.objects.select_for_update().filter(pk=subscriber.pk).values_list("status", flat=True)
        if current.first() != Subscriber.Status.UNSUBSCRIBED:
            return False
        latest = (
            ConsentEvent.objects.filter(subscriber_id=subscriber.pk, kind=Kind.UNSUBSCRIBED)
            .order_by("-at", "-id")
            .first()
        )
        if latest is None or latest.reason:
            return False
        latest.reason = reason
        latest.save(update_fields=["reason"])
    return True


# The dated column an administrator's status change stamps, as the services would.
_ADMIN_DATED: dict[str, dict[str, Any]] = {
    Subscriber.Status.UNSUBSCRIBED: {"unsubscribed_at": True},
    Subscriber.Status.BOUNCED: {"bounced_at": True},
    Subscriber.Status.COMPLAINED: {"complained_at": True},
    Subscriber.Status.ACTIVE: {"unsubscribed_at": None},
}


def _admin_kind(previous: str, status: str) -> str:
    if status == Subscriber.Status.ACTIVE:
        return Kind.CONFIRMED if previous == Subscriber.Status.PENDING else Kind.RESUBSCRIBED
    if status == Subscriber.Status.PENDING:
        return Kind.SIGNED_UP
    left: dict[str, str] = {
        Subscriber.Status.UNSUBSCRIBED: Kind.UNSUBSCRIBED,
        Subscriber.Status.BOUNCED: Kind.BOUNCED,
        Subscriber.Status.COMPLAINED: Kind.COMPLAINED,
    }
    return left[status]


def admin_saved(*, subscriber: Subscriber, previous_status: str | None, actor_id: int | None) -> bool:
    """The admin's add form or change page saved `subscriber` (call inside the admin's
    transaction): "added by an administrator", or the status change it made, with the
    administrator; the status's dated column stamped. False when the status did not change."""
    if previous_status == subscriber.status:
        return False
    now = timezone.now()
    kind: str
    if previous_status is None:
        kind = Kind.ADDED_BY_ADMIN
    else:
        kind = _admin_kind(previous_status, subscriber.status)
        stamps = {column: now if value else None for column, value in _ADMIN_DATED.get(subscriber.status, {}).items()}
        if stamps:
            Subscriber.objects.filter(pk=subscriber.pk).update(**stamps)
            for column, value in stamps.items():
                setattr(subscriber, column, value)
    append(
        subscriber_id=subscriber.pk,
        kind=kind,
        source=Source.ADMIN,
        status=subscriber.status,
        at=now,
        actor_id=actor_id,
    )
    return True
