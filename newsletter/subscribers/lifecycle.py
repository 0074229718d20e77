"""Subscriber lifecycle after the signup (newsletter.subscribers.signup): confirm (double opt-in),
preferences, weekly instead, unsubscribe and resubscribe, and the subscriber emails' enqueueing
they share. Erasure and the data export live in newsletter.privacy.

Every function here is a plain, keyword-only service called by views, admin and tasks.
Guarantees:
- One row per address (normalised by newsletter.subscribers.addresses; unique on LOWER(email)); two
  concurrent submissions of one address end in one row (the loser re-reads the winner's row).
- State changes are conditional UPDATEs or happen under SELECT ... FOR UPDATE in one
  transaction; subscriber emails are enqueued with transaction.on_commit, so a rollback sends
  nothing and the task always finds the committed row.
- Bounced, complained and suppressed (erased) addresses are never mailed or reactivated here.
- Every status change appends its consent history row (newsletter.subscribers.consent) in the
  same statement or transaction; the new-address signup stays one statement on PostgreSQL.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from articles.content.models import Section
from newsletter import task_names
from newsletter.editions.models import Frequency, Language

from . import conf, consent, ratelimits
from .addresses import email_hash, is_suppressed, keyed_hash
from .emails import EmailKind
from .models import Subscriber

logger = logging.getLogger(__name__)

Status = Subscriber.Status
Source = Subscriber.Source


class ConfirmOutcome(enum.StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"
    NOT_PENDING = "not_pending"  # unsubscribed, bounced or complained since: nothing changes
    UNKNOWN = "unknown"  # erased (or never existed)


class ResubscribeOutcome(enum.StrEnum):
    ACTIVE = "active"  # previously confirmed: active again at once (the token proves the mailbox)
    CONFIRMATION_SENT = "confirmation_sent"  # never confirmed: double opt-in first
    NOT_ALLOWED = "not_allowed"  # bounced or complained: only an admin may reinstate


def hash_client_value(value: str, *, purpose: str) -> str:
    return keyed_hash(value, purpose=purpose) if value else ""


def enqueue_email(subscriber: Subscriber, kind: EmailKind, *, reserved: bool | None = None) -> bool:
    """Reserve room under the per-address limits and send after commit; False when held back.
    `reserved`: the signup path already asked Redis (ratelimits.check_signup) and passes the
    answer; a confirmation's `last_confirmation_sent_at` is then already set on the row."""
    if reserved is None:
        reserved = ratelimits.allow_email(address_hash=email_hash(subscriber.email))
        if reserved and kind is EmailKind.CONFIRMATION:
            Subscriber.objects.filter(pk=subscriber.pk).update(last_confirmation_sent_at=timezone.now())
    if not reserved:
        logger.info("subscriber email held back by the address limit", extra={"kind": kind.value})
        return False
    _send_after_commit(subscriber.pk, kind)
    return True


def _send_after_commit(subscriber_id: int, kind: EmailKind) -> None:
    # robust: a broker outage after commit is logged, not turned into a 500 for the reader.
    # Outside any transaction (the new-address fast path) this runs at once: the row is committed.
    transaction.on_commit(
        lambda: task_names.enqueue(task_names.SEND_SUBSCRIBER_EMAIL, subscriber_id, kind.value), robust=True
    )


def set_topics(subscriber: Subscriber, topics: Iterable[Section | int] | None) -> None:
    if topics is None:
        return
    subscriber.topics.set(list(topics))


def confirm(*, subscriber_uuid: uuid.UUID, ip: str = "") -> ConfirmOutcome:
    """Confirm a pending subscriber (the POST behind the emailed link). Idempotent."""
    now = timezone.now()
    ip_hash = hash_client_value(ip, purpose="consent-ip")
    with transaction.atomic():
        updated = Subscriber.objects.filter(uuid=subscriber_uuid, status=Status.PENDING).update(
            status=Status.ACTIVE, confirmed_at=now, updated_at=now, confirm_ip_hash=ip_hash, unsubscribed_at=None
        )
        if updated:
            # Only the request whose UPDATE moved the row out of pending gets here: one welcome.
            subscriber_id, alerts = Subscriber.objects.filter(uuid=subscriber_uuid).values_list("pk", "alerts").get()
            # The alerts box ticked at signup takes effect with this confirmation (double opt-in).
            kinds = (consent.Kind.CONFIRMED, consent.Kind.ALERTS_ON) if alerts else (consent.Kind.CONFIRMED,)
            consent.append_many(
                consent.event(
                    subscriber_id=subscriber_id,
                    kind=kind,
                    source=consent.Source.LINK,
                    status=Status.ACTIVE,
                    at=now,
                    ip_hash=ip_hash,
                )
                for kind in kinds
            )
            transaction.on_commit(lambda: task_names.enqueue(task_names.SEND_WELCOME_EMAIL, subscriber_id), robust=True)
            return ConfirmOutcome.CONFIRMED
    status = Subscriber.objects.filter(uuid=subscriber_uuid).values_list("status", flat=True).first()
    if status is None:
        return ConfirmOutcome.UNKNOWN
    if status == Status.ACTIVE:
        return ConfirmOutcome.ALREADY_CONFIRMED
    return ConfirmOutcome.NOT_PENDING


def resend_confirmation(*, subscriber_uuid: uuid.UUID) -> bool:
    """A fresh confirmation link for a still-pending subscriber (expired link page)."""
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(uuid=subscriber_uuid, status=Status.PENDING).first()
        if subscriber is None or is_suppressed(subscriber.email):
            return False
        return enqueue_email(subscriber, EmailKind.CONFIRMATION)


class PreferencesClosed(Exception):
    """The subscriber has left (unsubscribed, bounced, complained): preferences no longer apply."""


# Preferences can be changed while the reader is (or is becoming) a subscriber.
PREFERENCE_STATUSES = (Status.ACTIVE, Status.PENDING)


def may_change_preferences(subscriber: Subscriber) -> bool:
    return subscriber.status in PREFERENCE_STATUSES


def update_preferences(
    *,
    subscriber: Subscriber,
    frequency: str,
    topics: Iterable[Section | int],
    language: str,
    time_zone: str | None = None,
    personal_order: bool | None = None,
    alerts: bool | None = None,
) -> Subscriber:
    """Raises PreferencesClosed for a subscriber who left, ValueError for unknown choices.
    `time_zone` None keeps the current one ("" means the site's TIME_ZONE); `personal_order`
    None keeps it. Switched off, the reader's history is deleted (a task: newsletter.personal)."""
    if not may_change_preferences(subscriber):
        raise PreferencesClosed(subscriber.status)
    if frequency not in Frequency.values or language not in Language.values:
        raise ValueError("unknown frequency or language")
    with transaction.atomic():
        subscriber.frequency = frequency
        subscriber.language = language
        fields = ["frequency", "language", "updated_at"]
        if time_zone is not None:
            subscriber.time_zone = time_zone[:64]
            fields.append("time_zone")
        if alerts is not None and alerts != subscriber.alerts:
            # A confirmed reader's opt-in is in effect at once (double opt-in done); both ways
            # are consent, kept in the history.
            subscriber.alerts = alerts
            fields.append("alerts")
            consent.append(
                subscriber_id=subscriber.pk,
                kind=consent.Kind.ALERTS_ON if alerts else consent.Kind.ALERTS_OFF,
                source=consent.Source.PREFERENCES,
                status=subscriber.status,
            )
        switched_off = personal_order is False and subscriber.personal_order
        if personal_order is not None:
            subscriber.personal_order = personal_order
            fields.append("personal_order")
        subscriber.save(update_fields=fields)
        set_topics(subscriber, topics)
        if switched_off:
            subscriber_id = subscriber.pk
            transaction.on_commit(
                lambda: task_names.enqueue(task_names.FORGET_READER_HISTORY, subscriber_id), robust=True
            )
    return subscriber


def stop_alerts(*, subscriber: Subscriber) -> bool:
    """Breaking-news alerts off (an alert's unsubscribe link); the digest subscription stays.
    True when this call turned them off. A batch re-checks the flag, so an alert already
    dispatched does not reach them either."""
    now = timezone.now()
    with transaction.atomic():
        stopped = Subscriber.objects.filter(pk=subscriber.pk, alerts=True).update(alerts=False, updated_at=now)
        if stopped:
            consent.append(
                subscriber_id=subscriber.pk,
                kind=consent.Kind.ALERTS_OFF,
                source=consent.Source.LINK,
                status=subscriber.status,
                at=now,
            )
    subscriber.alerts = False
    return bool(stopped)


def switch_to_weekly(*, subscriber: Subscriber) -> bool:
    """A daily reader who would rather not leave: the weekly edition instead (the unsubscribe
    page's offer). True if this call changed the frequency."""
    updated = Subscriber.objects.filter(
        pk=subscriber.pk, frequency=Frequency.DAILY, status__in=PREFERENCE_STATUSES
    ).update(frequency=Frequency.WEEKLY, updated_at=timezone.now())
    subscriber.refresh_from_db(fields=["frequency", "updated_at"])
    return bool(updated)


def unsubscribe(*, subscriber: Subscriber, source: str = consent.Source.LINK) -> bool:
    """Stop all mail to this subscriber. Idempotent; True if this call changed the status.
    Bounced and complained subscribers keep their (stronger) status."""
    now = timezone.now()
    with transaction.atomic():
        updated = Subscriber.objects.filter(pk=subscriber.pk, status__in=[Status.PENDING, Status.ACTIVE]).update(
            status=Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now
        )
        if updated:
            consent.append(
                subscriber_id=subscriber.pk,
                kind=consent.Kind.UNSUBSCRIBED,
                source=source,
                status=Status.UNSUBSCRIBED,
                at=now,
            )
    subscriber.refresh_from_db(fields=["status", "unsubscribed_at", "updated_at"])
    return bool(updated)


def resubscribe(*, subscriber: Subscriber, ip: str = "", user_agent: str = "") -> ResubscribeOutcome:
    """Undo an unsubscribe from the unsubscribed page (the signed link proves the mailbox).
    The row keeps its signup's proof of consent and its confirmation time; the "resubscribed"
    history row carries this request's consent text version and hashes."""
    with transaction.atomic():
        current = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        if current.status in (Status.BOUNCED, Status.COMPLAINED) or is_suppressed(current.email):
            return ResubscribeOutcome.NOT_ALLOWED
        if current.status == Status.ACTIVE:
            return ResubscribeOutcome.ACTIVE
        confirmed = current.confirmed_at is not None
        current.status = Status.ACTIVE if confirmed else Status.PENDING
        if confirmed:
            current.unsubscribed_at = None  # back on the list: the history keeps when they left
        current.save()
        consent.append(
            subscriber_id=current.pk,
            kind=consent.Kind.RESUBSCRIBED,
            source=consent.Source.LINK,
            status=current.status,
            consent_text_version=conf.settings().CONSENT_TEXT_VERSION,
            ip_hash=hash_client_value(ip, purpose="consent-ip"),
            user_agent_hash=hash_client_value(user_agent[:1000], purpose="consent-ua"),
        )
        if confirmed:
            outcome = ResubscribeOutcome.ACTIVE
        else:
            enqueue_email(current, EmailKind.CONFIRMATION)
            outcome = ResubscribeOutcome.CONFIRMATION_SENT
    subscriber.refresh_from_db()
    return outcome
