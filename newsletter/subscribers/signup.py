"""Signing up: one submission of the signup form (page, article box, embed) becomes a pending
subscriber and a confirmation email, or, for an address we already know, what its status calls
for (newsletter.subscribers.lifecycle has the rest of a subscriber's life).

Guarantees (with lifecycle's): one row per address (unique on LOWER(email)), two concurrent
submissions of one address end in one row; the outcome is for logs and tests only, callers show
the same response whatever it is; bounced, complained and suppressed addresses are never mailed
or reactivated here.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from articles.content.models import Section
from newsletter import task_names
from newsletter.editions.models import Frequency, Language

from . import conf, consent, ratelimits
from .addresses import by_address, email_hash, is_suppressed, normalise_email
from .emails import EmailKind
from .lifecycle import enqueue_email, hash_client_value, set_topics
from .models import ConsentEvent, Subscriber
from .signup_insert import insert_unless_known, needs_transaction

Status = Subscriber.Status
Source = Subscriber.Source


class Outcome(enum.StrEnum):
    CREATED = "created"  # new pending subscriber, confirmation sent
    PENDING_AGAIN = "pending_again"  # still pending: confirmation re-sent (rate limits allowing)
    REFRESHED = "refreshed"  # was unsubscribed: pending again with fresh consent
    ALREADY_ACTIVE = "already_active"  # "already subscribed, manage preferences" email
    BLOCKED = "blocked"  # bounced / complained / suppressed: nothing saved or sent
    HONEYPOT = "honeypot"  # a bot filled the hidden field: nothing saved or sent
    DEFERRED = "deferred"  # a known address: settled by a task (settle_known_signup), same answer
    IP_LIMITED = "ip_limited"  # too many submissions from this IP: nothing saved or sent


@dataclass(frozen=True)
class SignupResult:
    outcome: Outcome
    email_sent: bool  # an email was enqueued (false when the address limit held it back)
    subscriber_id: int | None = None


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
    alerts: bool = False,
    defer_known: bool = False,
) -> SignupResult:
    """Handle one signup submission. Raises addresses.InvalidEmail for an unusable address
    (forms validate first, so a view only sees this for callers that skip the form).

    Hot path (a new address, measured in bench/README.md): one Redis round trip for both limits,
    then one INSERT ... ON CONFLICT DO NOTHING that also checks the suppression list and writes
    the "signed up" history row (newsletter.subscribers.signup_insert); with no topics chosen it
    is a single autocommitted statement on PostgreSQL (atomic by itself), with topics it runs in
    a transaction with the topic rows. A known or suppressed address inserts nothing and takes
    the locked path (`settle_known_signup`).

    `defer_known` (the signup views): that locked path runs in a Celery task instead, so a known
    address costs the request what a new one costs, one statement and one enqueue. Run inline,
    an active address took twice as long to answer as a new one (1.8 ms against 3.7 ms, the
    responses byte-identical), which told a stranger who is subscribed (issue 23)."""
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
        "consent_text_version": conf.settings().CONSENT_TEXT_VERSION,
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
        alerts=alerts,  # in effect once confirmed: alerts go to active readers only
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
    known = KnownSignup(
        address=address,
        frequency=frequency,
        topic_ids=[topic.pk if isinstance(topic, Section) else int(topic) for topic in topic_list],
        language=language,
        name=name[:100],
        time_zone=time_zone[:64],
        alerts=alerts,
        consent_fields=consent_fields,
        at=now.isoformat(),
        reserved=reserved,
    )
    if defer_known:
        transaction.on_commit(
            lambda: task_names.enqueue(task_names.SETTLE_KNOWN_SIGNUP, known.as_payload()), robust=True
        )
        return SignupResult(Outcome.DEFERRED, email_sent=False)
    return settle_known_signup(known)


@dataclass(frozen=True)
class KnownSignup:
    """A submission whose address already has a row or is suppressed (JSON-ready, for the task)."""

    address: str
    frequency: str
    topic_ids: list[int]
    language: str
    name: str
    time_zone: str
    consent_fields: dict[str, str]
    at: str  # ISO 8601: when the reader submitted the form
    reserved: bool  # an email slot was reserved under the per-address limit
    alerts: bool = False  # last: payloads enqueued before alerts existed still load

    def as_payload(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def settle_known_signup(known: KnownSignup | dict[str, Any]) -> SignupResult:
    """The signup of a known or suppressed address: suppressed -> nothing; active -> the
    "already subscribed" email; pending or unsubscribed -> pending again with the new choices and
    a fresh confirmation; gone since the INSERT -> created now. Under the row's lock."""
    if isinstance(known, dict):
        known = KnownSignup(**known)
    address, frequency, language, name = known.address, known.frequency, known.language, known.name
    consent_fields, reserved = known.consent_fields, known.reserved
    topic_list: list[Section | int] = list(known.topic_ids)
    now = datetime.fromisoformat(known.at)
    new = Subscriber(
        email=address,
        name=name,
        frequency=frequency,
        language=language,
        status=Status.PENDING,
        time_zone=known.time_zone,
        alerts=known.alerts,
        created_at=now,
        last_confirmation_sent_at=now if reserved else None,
        **consent_fields,
    )
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
                    subscriber, frequency, topic_list, language, name, consent_fields, now, reserved, known.alerts
                )
            _add_topics(new, topic_list)
            sent = enqueue_email(new, EmailKind.CONFIRMATION, reserved=reserved)
            return SignupResult(Outcome.CREATED, email_sent=sent, subscriber_id=new.pk)
        return _signup_existing(
            subscriber, frequency, topic_list, language, name, consent_fields, now, reserved, known.alerts
        )


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
    alerts: bool = False,
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
    subscriber.alerts = alerts
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
    set_topics(subscriber, topics)
    sent = enqueue_email(subscriber, EmailKind.CONFIRMATION, reserved=reserved)
    return SignupResult(outcome, email_sent=sent, subscriber_id=subscriber.pk)
