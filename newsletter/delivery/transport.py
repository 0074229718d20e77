"""Handing rendered editions to the ESP: one connection per batch, then either one API call per
segment group (ESPs with batch merge) or one message per recipient (SMTP, the outbox, ESPs
without it). Messages come from newsletter.email.message; both paths share one error handler,
which applies point 4 of the delivery guarantee (retry only what the ESP clearly did not take).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.core.mail import get_connection
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME

from newsletter.editions.models import Digest
from newsletter.email.message import batch_message, personal_message
from newsletter.email.render import MERGE_FIELDS, RenderedEmail, merge, neutral_merge_field

from . import claims, esp
from .models import Delivery
from .outcomes import BatchResult, give_up_or_retry, record
from .recipients import Recipient
from .timing import timed

log = logging.getLogger(__name__)

D = claims.D
# Per-recipient path: rows are marked `sending` in small chunks so a crash leaves few unknowns.
PER_RECIPIENT_CHUNK = 25
# ESP statuses that mean the recipient was accepted (anymail's normalised names).
ACCEPTED = frozenset({"queued", "sent", "scheduled", "unknown"})


class Group(NamedTuple):
    """The recipients of one segment's email."""

    rendered: RenderedEmail
    recipients: list[Recipient]
    segment: int | None = None  # its EditionSegment: every row sent is marked with it
    # Each recipient's arm of the personal-editions experiment (delivery id -> "p" or "h",
    # newsletter.personal.arms); a recipient missing here is in neither.
    arms: Mapping[int, str] = {}


Groups = list[Group]


def send_groups(
    digest: Digest, profile: esp.EspProfile, groups: Groups, *, token: datetime, result: BatchResult
) -> None:
    connection_ = get_connection()
    try:
        with timed(result.timings, "api"):
            connection_.open()
    except Exception as exc:  # noqa: BLE001  (classified: only "not connected" errors retry)
        outcome = esp.classify_error(exc, connected=False)
        pending = [r.delivery_id for group in groups for r in group.recipients]
        if outcome in (esp.Outcome.RETRY, esp.Outcome.THROTTLED):
            give_up_or_retry(pending, token=token, reason=f"connect: {exc}", result=result)
        record(pending, status=D.FAILED, error=f"connect: {exc}", result=result)
        return
    if profile.batches_api_calls:
        groups = _at_most(profile.batch_size, groups)
    try:
        for index, group in enumerate(groups):
            later = [r.delivery_id for g in groups[index + 1 :] for r in g.recipients]
            send = _send_one_call if profile.batches_api_calls else _send_per_recipient
            send(digest, profile, group, connection_, token=token, result=result, later=later)
    finally:
        try:
            connection_.close()
        except Exception:
            log.warning("closing the email connection failed", exc_info=True)


def _at_most(size: int, groups: Groups) -> Groups:
    """Groups of at most `size` recipients (the ESP's limit for one call). A batch holds fewer
    than 2 x size readers (dispatch keeps a personal list whole), and readers of two lists can
    get the same email, so one email's recipients may be more than one call takes."""
    return [
        group._replace(recipients=group.recipients[start : start + size])
        for group in groups
        for start in range(0, len(group.recipients), size)
    ]


def on_send_error(
    exc: BaseException,
    attempted: list[int],
    untried: list[int],
    *,
    token: datetime,
    result: BatchResult,
    unknown_stops: bool,
) -> bool:
    """The one error handler for an ESP call that raised: `attempted` rows were in the call,
    `untried` rows were still to come. Returns True when the caller may go on sending.

    Clearly not accepted (connect error, 429, 5xx): every row back to queued (RetryLater), or
    failed when out of attempts. Refused (4xx): the attempted rows failed. Outcome unknown (read
    timeout, dropped connection): the attempted rows are `unknown`, never resent; with
    `unknown_stops` (one connection per recipient, now in doubt) the untried rows are retried."""
    outcome = esp.classify_error(exc)
    reason = f"{type(exc).__name__}: {exc}"
    if outcome in (esp.Outcome.RETRY, esp.Outcome.THROTTLED):
        give_up_or_retry(
            attempted + untried, token=token, reason=reason, result=result, throttled=outcome is esp.Outcome.THROTTLED
        )
        return False
    if outcome is esp.Outcome.FAILED:
        record(attempted, status=D.FAILED, error=reason, result=result)
        return True
    log.warning("send outcome unknown for %s deliveries: %s", len(attempted), reason)
    record(attempted, status=D.UNKNOWN, error=reason, result=result)
    if unknown_stops:
        give_up_or_retry(untried, token=token, reason=f"after {reason}", result=result)
        return False
    return True


def _send_one_call(
    digest: Digest,
    profile: esp.EspProfile,
    group: Group,
    connection_: Any,
    *,
    token: datetime,
    result: BatchResult,
    later: list[int],
) -> None:
    """One ESP API call for the whole segment group: merge_data for the body, each recipient's
    own List-Unsubscribe (a merge field in the header, or merge_headers), merge_metadata for
    tracking."""
    with timed(result.timings, "bookkeeping"):
        ids = claims.to_sending_by_arm(
            [r.delivery_id for r in group.recipients], token=token, segment=group.segment, arms=group.arms
        )
        ours = set(ids)
        recipients = [r for r in group.recipients if r.delivery_id in ours]
    if not recipients:
        return
    with timed(result.timings, "bookkeeping"):
        merge_keys = {name: profile.merge_key(name) for name in MERGE_FIELDS}
        message = batch_message(
            digest=digest,
            rendered=group.rendered,
            recipients=recipients,
            merge_keys=merge_keys,
            connection=connection_,
            unsubscribe_field=profile.merge_field("unsubscribe_url") if profile.merges_headers else None,
        )
    try:
        with timed(result.timings, "api", failures=True):
            result.api_calls += 1
            message.send()
    except Exception as exc:  # noqa: BLE001  (classified by esp.classify_error)
        on_send_error(exc, ids, later, token=token, result=result, unknown_stops=False)
        return
    with timed(result.timings, "bookkeeping"):
        _record_statuses(message.anymail_status.recipients, recipients, result=result)


def _record_statuses(recipient_statuses: Any, recipients: Sequence[Recipient], *, result: BatchResult) -> None:
    by_outcome: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for r in recipients:
        status = recipient_statuses.get(r.email) or recipient_statuses.get(r.email.lower())
        if status is None or status.status in ACCEPTED:
            message_id = (status.message_id if status else "") or ""
            by_outcome[(D.SENT, str(message_id), "")].append(r.delivery_id)
        else:
            by_outcome[(D.FAILED, "", f"ESP status: {status.status}")].append(r.delivery_id)
    if len(by_outcome) <= 10:
        for (status_, message_id, error), group_ids in by_outcome.items():
            record(group_ids, status=status_, message_id=message_id, error=error, result=result)
    else:  # ESPs with one message id per recipient: one bulk UPDATE ... CASE per status
        for status_, count in claims.settle_individually(by_outcome).items():
            result.count(status_, count)


def _send_per_recipient(
    digest: Digest,
    profile: esp.EspProfile,
    group: Group,
    connection_: Any,
    *,
    token: datetime,
    result: BatchResult,
    later: list[int],
) -> None:
    """Backends without batch merge (SMTP, outbox, Postmark/SES): one personalised message per
    recipient over the one open connection, `sending` marked in small chunks."""
    rendered, recipients = group.rendered, group.recipients
    for start in range(0, len(recipients), PER_RECIPIENT_CHUNK):
        chunk = recipients[start : start + PER_RECIPIENT_CHUNK]
        rest = [r.delivery_id for r in recipients[start + PER_RECIPIENT_CHUNK :]] + later
        with timed(result.timings, "bookkeeping"):
            ours = set(
                claims.to_sending_by_arm(
                    [r.delivery_id for r in chunk], token=token, segment=group.segment, arms=group.arms
                )
            )
        sent: list[Delivery] = []
        for position, r in enumerate(chunk):
            if r.delivery_id not in ours:
                continue
            with timed(result.timings, "render"):
                personal = merge(rendered, r.values, neutral_merge_field)
                message_id = make_msgid(domain=DNS_NAME)
                message = personal_message(
                    digest=digest, personal=personal, recipient=r, message_id=message_id, connection=connection_
                )
            try:
                with timed(result.timings, "api", failures=True):
                    result.api_calls += 1
                    message.send()
            except Exception as exc:  # noqa: BLE001  (classified by esp.classify_error)
                result.sent += claims.mark_sent(sent)
                unattempted = [c.delivery_id for c in chunk[position + 1 :] if c.delivery_id in ours]
                if on_send_error(
                    exc, [r.delivery_id], unattempted + rest, token=token, result=result, unknown_stops=True
                ):
                    continue
                return
            status = getattr(message, "anymail_status", None)
            esp_id = status.message_id if status is not None and isinstance(status.message_id, str) else None
            sent.append(Delivery(id=r.delivery_id, esp_message_id=(esp_id or message_id)[:255]))
        with timed(result.timings, "bookkeeping"):
            result.sent += claims.mark_sent(sent)
