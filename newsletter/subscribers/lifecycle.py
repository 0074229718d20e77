"""Subscriber lifecycle: subscribe, confirm (double opt-in), preferences, unsubscribe,
and resubscribe. Erasure and the data export live in newsletter.subscribers.privacy.

Every function here is a plain, keyword-only service called by views, admin and tasks.
Guarantees:
- One row per address (normalised by newsletter.subscribers.addresses; unique on LOWER(email)); two
  concurrent submissions of one address end in one row (the loser re-reads the winner's row).
- State changes are conditional UPDATEs or happen under SELECT ... FOR UPDATE in one
  transaction; subscriber emails are enqueued with transaction.on_commit, so a rollback sends
  nothing and the task always finds the committed row.
- subscribe() returns an outcome for logs and tests only: callers must show the same response
  whatever it is (the form never reveals whether an address is known).
- Bounced, complained and suppressed (erased) addresses are never mailed or reactivated here.
- Every status change appends its consent history row (newsletter.subscribers.consent) in the
  same statement or transaction; the new-address signup stays one statement on PostgreSQL.
"""

from __future__ import annotations

import enum
import logging
import uuid
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.models import Section

from .. import jobs
from ..models import ConsentEvent, Frequency, Language, Subscriber
from . import consent, ratelimits
from .addresses import by_address, email_hash, is_suppressed, keyed_hash, normalise_email
from .emails import EmailKind
from .signup_insert import insert_unless_known, needs_transaction

logger = logging.getLogger(__name__)

Status = Subscriber.Status
Source = Subscriber.Source


class Outcome(enum.StrEnum):
    CREATED = "created"  # new pending subscriber, confirmation sent
    PENDING_AGAIN = "pending_again"  # still pending: confirmation re-sent (rate limits allowing)
    REFRESHED = "refreshed"  # was unsubscribed: pending again with fresh consent
    ALREADY_ACTIVE = "already_active"  # "already subscribed, manage preferences" email
    BLOCKED = "blocked"  # bounced / complained / suppressed: nothing saved or sent
    HONEYPOT = "honeypot"  # a bot filled the hidden field: nothing saved or sent
    IP_LIMITED = "ip_limited"  # too many submissions from this IP: nothing saved or sent


@dataclass(frozen=True)
class SignupResult:
    outcome: Outcome
    email_sent: bool  # an email was enqueued (false when the address limit held it back)
    subscriber_id: int | None = None


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
    transaction.on_commit(lambda: jobs.enqueue(jobs.SEND_SUBSCRIBER_EMAIL, subscriber_id, kind.value), robust=True)


def _set_topics(subscriber: Subscriber, topics: Iterable[Section | int] | None) -> None:
    if topics is None:
        return
    subscriber.topics.set(list(topics))


def subscribe(
    *,
    email: str,
    frequency: str = Frequency.DAILY,
    topics: Iterable[Section | int] | None = None,
    language: str = Language.ARABIC,
    source: str = Source.FORM,
    name: str = "",
    ip: str = "",
    user_agent: str = "",
    honeypot: str = "",
    time_zone: str = "",
) -> SignupResult:
    """Handle one signup submission. Raises addresses.InvalidEmail for an unusable address
    (forms validate first, so a view only sees this for callers that skip the form).

    Hot path (a new address, measured in bench/README.md): one Redis round trip for both limits,
    then one INSERT ... ON CONFLICT DO NOTHING that also checks the suppression list and writes
    the "signed up" history row (newsletter.subscribers.signup_insert); with no topics chosen it
    is a single autocommitted statement on PostgreSQL (atomic by itself), with topics it runs in
    a transaction with the topic rows. A known or suppressed address inserts nothing and takes
    the locked path below."""
    if honeypot:
        return SignupResult(Outcome.HONEYPOT, email_sent=False)
    address = normalise_email(email)
    address_hash = email_hash(address)
    allowance = ratelimits.check_signup(ip=ip, address_hash=address_hash)
    if not allowance.submission_allowed:
        return SignupResult(Outcome.IP_LIMITED, email_sent=False)
    reserved = allowance.email_reserved
    if frequency not in Frequency.values:
        frequency = Frequency.DAILY
    if language not in Language.values:
        language = Language.ARABIC
    topic_list = list(topics) if topics is not None else []
    consent_fields = {
        "source": source,
        "consent_text_version": settings.CONSENT_TEXT_VERSION,
        "signup_ip_hash": hash_client_value(ip, purpose="consent-ip"),
        "signup_user_agent_hash": hash_client_value(user_agent[:1000], purpose="consent-ua"),
    }
    now = timezone.now()
    new = Subscriber(
        email=address,
        name=name[:100],
        frequency=frequency,
        language=language,
        status=Status.PENDING,
        time_zone=time_zone[:64],
        created_at=now,
        last_confirmation_sent_at=now if reserved else None,
        **consent_fields,
    )
    signed_up = _signed_up_event(consent_fields, at=now)
    # A transaction only when there are topic rows (or, off PostgreSQL, a history row) to write
    # with the subscriber.
    with transaction.atomic() if topic_list or needs_transaction() else nullcontext():
        if insert_unless_known(new, address_hash=address_hash, signed_up=signed_up):
            _add_topics(new, topic_list)
            sent = enqueue_email(new, EmailKind.CONFIRMATION, reserved=reserved)
            return SignupResult(Outcome.CREATED, email_sent=sent, subscriber_id=new.pk)
    if is_suppressed(address):
        return SignupResult(Outcome.BLOCKED, email_sent=False)
    with transaction.atomic():
        subscriber = by_address(address).select_for_update().first()
        if subscriber is None:
            # Deleted (or erased) since the INSERT saw it: create it now.
            try:
                with transaction.atomic():  # savepoint: a concurrent insert must not poison the outer transaction
                    new.save(force_insert=True)
                    consent.append(**_signed_up_fields(consent_fields, subscriber_id=new.pk, at=now))
            except IntegrityError:
                # Another request created it between our SELECT and INSERT: treat as existing.
                subscriber = by_address(address).select_for_update().first()
                if subscriber is None:
                    raise
                return _signup_existing(
                    subscriber, frequency, topic_list, language, name, consent_fields, now, reserved
                )
            _add_topics(new, topic_list)
            sent = enqueue_email(new, EmailKind.CONFIRMATION, reserved=reserved)
            return SignupResult(Outcome.CREATED, email_sent=sent, subscriber_id=new.pk)
        return _signup_existing(subscriber, frequency, topic_list, language, name, consent_fields, now, reserved)


def _signed_up_fields(consent_fields: dict[str, str], *, subscriber_id: int, at: Any) -> dict[str, Any]:
    return {
        "subscriber_id": subscriber_id,
        "kind": consent.Kind.SIGNED_UP,
        "source": consent.channel_of(consent_fields["source"]),
        "status": Status.PENDING,
        "at": at,
        "consent_text_version": consent_fields["consent_text_version"],
        "ip_hash": consent_fields["signup_ip_hash"],
        "user_agent_hash": consent_fields["signup_user_agent_hash"],
    }


def _signed_up_event(consent_fields: dict[str, str], *, at: Any) -> ConsentEvent:
    return consent.event(**_signed_up_fields(consent_fields, subscriber_id=0, at=at))


def _add_topics(subscriber: Subscriber, topics: list[Section | int]) -> None:
    """Topic rows of a subscriber created by this call (nothing to compare with: one INSERT)."""
    if not topics:
        return
    through = Subscriber.topics.through
    section_ids = dict.fromkeys(topic.pk if isinstance(topic, Section) else int(topic) for topic in topics)
    through.objects.bulk_create([through(subscriber_id=subscriber.pk, section_id=pk) for pk in section_ids])


def _signup_existing(
    subscriber: Subscriber,
    frequency: str,
    topics: list[Section | int],
    language: str,
    name: str,
    consent_fields: dict[str, str],
    now: Any,
    reserved: bool,
) -> SignupResult:
    if subscriber.status == Status.ACTIVE:
        # Never change an active subscription from an unauthenticated form: point to preferences.
        sent = enqueue_email(subscriber, EmailKind.ALREADY_SUBSCRIBED, reserved=reserved)
        return SignupResult(Outcome.ALREADY_ACTIVE, email_sent=sent, subscriber_id=subscriber.pk)
    if subscriber.status in (Status.BOUNCED, Status.COMPLAINED):
        return SignupResult(Outcome.BLOCKED, email_sent=False, subscriber_id=subscriber.pk)
    outcome = Outcome.PENDING_AGAIN if subscriber.status == Status.PENDING else Outcome.REFRESHED
    # Pending or unsubscribed: nothing is confirmed yet, so the newest choices and consent win
    # (the history keeps the earlier ones; `unsubscribed_at` stays until they confirm).
    subscriber.status = Status.PENDING
    subscriber.frequency = frequency
    subscriber.language = language
    if name:
        subscriber.name = name[:100]
    subscriber.confirmed_at = None
    subscriber.confirm_ip_hash = ""
    subscriber.created_at = now  # the signup time of the consent now on record
    for field, value in consent_fields.items():
        setattr(subscriber, field, value)
    if reserved:
        subscriber.last_confirmation_sent_at = now  # saved with the row: no separate UPDATE
    subscriber.save()
    consent.append(**_signed_up_fields(consent_fields, subscriber_id=subscriber.pk, at=now))
    _set_topics(subscriber, topics)
    sent = enqueue_email(subscriber, EmailKind.CONFIRMATION, reserved=reserved)
    return SignupResult(outcome, email_sent=sent, subscriber_id=subscriber.pk)


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
            subscriber_id = Subscriber.objects.filter(uuid=subscriber_uuid).values_list("pk", flat=True).get()
            consent.append(
                subscriber_id=subscriber_id,
                kind=consent.Kind.CONFIRMED,
                source=consent.Source.LINK,
                status=Status.ACTIVE,
                at=now,
                ip_hash=ip_hash,
            )
            transaction.on_commit(lambda: jobs.enqueue(jobs.SEND_WELCOME_EMAIL, subscriber_id), robust=True)
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
) -> Subscriber:
    """Raises PreferencesClosed for a subscriber who left, ValueError for unknown choices.
    `time_zone` None keeps the current one ("" means the site's TIME_ZONE)."""
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
        subscriber.save(update_fields=fields)
        _set_topics(subscriber, topics)
    return subscriber


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
            consent_text_version=settings.CONSENT_TEXT_VERSION,
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
