"""Sending an edition: audience snapshot, batches, row claims, retries, the sweeper, pause/resume.

THE DELIVERY GUARANTEE (tests/newsletter/test_sending*.py and tests/integration/ test exactly this)
=====================================================================================================
The database is the truth. Redis (broker, throttle) and the workers may die at any moment.

1. One Delivery row per (edition, subscriber), enforced by a unique constraint. `dispatch()` moves
   the Digest draft/approved -> sending with one conditional UPDATE and, in the same transaction,
   snapshots the audience (active subscribers of the edition's frequency) with one
   INSERT ... SELECT ... ON CONFLICT DO NOTHING, numbering batches in SQL. A second dispatch,
   concurrent or later, finds the Digest no longer draft/approved and does nothing. Batch tasks
   are enqueued on commit, so they always see the rows.

2. A Delivery moves  queued -> claimed -> sending -> sent | failed | unknown  (or -> skipped).
   Every move is a conditional UPDATE on the current status (and, from claimed on, on the claim
   token `claimed_at`), so two copies of a batch task (a redelivery after a worker died, a
   visibility-timeout redelivery, a sweeper re-enqueue, a double resume) never both take a row:
   the loser finds no queued rows and returns.

3. `sending` is written immediately before the ESP call, `sent` immediately after the ESP
   accepted. A row therefore reaches the ESP at most once, except in one window (below).

4. Retry only when the ESP clearly did not accept: connection refused, connect timeout, HTTP 429,
   HTTP 5xx (newsletter.esp.classify_error). Those rows go back to `queued` and the batch task is
   retried with exponential backoff and jitter (SEND_RETRY_BASE_SECONDS .. SEND_RETRY_MAX_SECONDS,
   far below the broker's visibility_timeout), at most SEND_MAX_ATTEMPTS ESP attempts per row,
   then `failed`. A read timeout or a connection dropped after the request went out is `unknown`:
   shown in the admin, never resent blindly. 4xx refusals are `failed`.

5. Status is re-checked when the batch runs: a subscriber who is no longer active is `skipped`
   (with the reason in `error`), never mailed. A segment with too few stories is `skipped` too.

6. The sweeper (`sweep()`, every minute) makes progress without Redis or the original worker:
   rows `claimed` longer than SEND_STUCK_AFTER_SECONDS go back to `queued` (a claimed row has not
   been handed to the ESP); batches with rows `queued` longer than that are enqueued again;
   rows `sending` longer than that become `unknown` (they may have been accepted). With the
   60 s defaults a killed worker's batches are finished within about two minutes.

7. Pause leaves queued rows queued (batch tasks of a paused edition return at once); resume
   re-enqueues the batches that still have queued rows, so nobody already sent is sent again;
   cancel turns the remaining queued rows into `skipped`.

THE RESIDUAL WINDOW (at-most-once, stated honestly): if a worker dies after writing `sending` and
before writing `sent`, we cannot know whether the ESP accepted the call. Those rows become
`unknown` and are NOT resent, so a subscriber in that window receives the edition once (the ESP
accepted before the crash) or not at all (the crash came before the request left); never twice.
SEND_STUCK_AFTER_SECONDS must exceed the ESP request timeout (ANYMAIL REQUESTS_TIMEOUT, 5+30 s),
or a slow but live call could be settled as unknown while it is still running.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from anymail.message import AnymailMessage
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.message import make_msgid
from django.core.mail.utils import DNS_NAME
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from . import esp, throttle, tokens
from .links import preferences_url, unsubscribe_url
from .models import Delivery, Digest, Subscriber
from .rendering import MERGE_FIELDS, RenderedEmail, Segment, merge, neutral_merge_field, render_digest
from .tokens import Purpose

log = logging.getLogger(__name__)

D = Delivery.Status
PENDING = (D.QUEUED, D.CLAIMED, D.SENDING)
# Editions whose deliveries may still be pending (the sweeper looks only at these). A cancelled
# edition can still have rows a dying worker left claimed or sending; a day is far longer than
# it takes to settle them, and keeps old cancelled editions out of every sweep.
LIVE_EDITIONS = (Digest.Status.SENDING, Digest.Status.PAUSED)
CANCELLED_SETTLE_WINDOW = timedelta(days=1)
LIST_UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"
# Per-recipient path: rows are marked `sending` in small chunks so a crash leaves few unknowns.
PER_RECIPIENT_CHUNK = 25


class RetryLater(Exception):
    """The batch must run again after `countdown` seconds (its rows are back in `queued`)."""

    def __init__(self, countdown: float, reason: str) -> None:
        super().__init__(f"{reason}; retry in {countdown:.1f}s")
        self.countdown = countdown
        self.reason = reason


@dataclass
class DispatchResult:
    dispatched: bool
    audience: int = 0
    batches: list[int] = field(default_factory=list)


@dataclass
class BatchResult:
    digest_id: int
    batch: int
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    api_calls: int = 0
    note: str = ""
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def as_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in vars(self).items() if k != "timings"}
        data["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
        return data


@dataclass
class SendReport:
    """Where every delivery of an edition stands (what `send_digest --sync` prints)."""

    audience: int = 0
    sent: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0
    queued: int = 0


@dataclass
class SweepReport:
    requeued_claimed: int = 0
    settled_unknown: int = 0
    reenqueued_batches: int = 0
    finished_digests: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --- Dispatch ---------------------------------------------------------------------------------


def batch_size() -> int:
    return esp.current_profile().batch_size


def dispatch(*, digest_id: int, enqueue: bool = True) -> DispatchResult:
    """Snapshot the audience and enqueue one send_batch task per batch (on commit).

    Does nothing (dispatched=False) unless the edition is draft or approved, so a double click,
    a second beat or a concurrent call never sends an edition twice."""
    size = batch_size()
    now = timezone.now()
    with transaction.atomic():
        moved = Digest.objects.filter(id=digest_id, status__in=[Digest.Status.DRAFT, Digest.Status.APPROVED]).update(
            status=Digest.Status.SENDING, sending_started_at=now
        )
        if not moved:
            return DispatchResult(dispatched=False)
        frequency = Digest.objects.values_list("frequency", flat=True).get(id=digest_id)
        audience = _snapshot_audience(digest_id=digest_id, frequency=frequency, size=size, now=now)
        Digest.objects.filter(id=digest_id).update(audience_count=audience)
        batches = list(range((audience + size - 1) // size))
        if enqueue:
            transaction.on_commit(lambda: enqueue_batches(digest_id=digest_id, batches=batches))
        if not audience:
            Digest.objects.filter(id=digest_id, status=Digest.Status.SENDING).update(
                status=Digest.Status.SENT, sent_at=now
            )
    log.info("dispatched digest %s: %s recipients in %s batches", digest_id, audience, len(batches))
    return DispatchResult(dispatched=True, audience=audience, batches=batches)


def _snapshot_audience(*, digest_id: int, frequency: str, size: int, now: datetime) -> int:
    """One INSERT ... SELECT: no subscriber rows travel through Python. Batch numbers come from
    ROW_NUMBER() in id order, so each batch is `size` consecutive subscribers."""
    delivery = Delivery._meta.db_table
    subscriber = Subscriber._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (digest_id, subscriber_id, batch, status, attempts, esp_message_id, error, queued_at)
        SELECT %s, s.id, (ROW_NUMBER() OVER (ORDER BY s.id) - 1) / %s, %s, 0, '', '', %s
        FROM {subscriber} s
        WHERE s.status = %s AND s.frequency = %s
        ON CONFLICT (digest_id, subscriber_id) DO NOTHING
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest_id, size, D.QUEUED, now, Subscriber.Status.ACTIVE, frequency])
        return max(cursor.rowcount, 0)


def enqueue_batches(*, digest_id: int, batches: Iterable[int]) -> None:
    from .tasks import send_batch as send_batch_task

    for number in batches:
        send_batch_task.apply_async(args=(digest_id, number))


# --- One batch --------------------------------------------------------------------------------


@dataclass
class _Recipient:
    delivery_id: int
    subscriber_id: int
    email: str
    values: dict[str, str]


_render_cache: OrderedDict[tuple[Any, ...], RenderedEmail | None] = OrderedDict()
_RENDER_CACHE_SIZE = 128


def _render(digest: Digest, segment: Segment, profile: esp.EspProfile) -> RenderedEmail | None:
    """Render once per (edition version, segment, merge syntax) per process."""
    key = (digest.id, digest.updated_at, segment, profile.merge_field_format)
    if key in _render_cache:
        _render_cache.move_to_end(key)
        return _render_cache[key]
    merge_field = esp.merge_field_function(profile) or neutral_merge_field
    rendered = render_digest(digest, segment, merge_field=merge_field)
    _render_cache[key] = rendered
    if len(_render_cache) > _RENDER_CACHE_SIZE:
        _render_cache.popitem(last=False)
    return rendered


def _link_template(url_for: Any) -> tuple[str, str]:
    """(before, after) the token in a per-recipient URL: reverse() once per batch instead of
    once per recipient (it was a third of the batch time). Tokens are URL-safe, so
    before + token + after equals what newsletter.links returns (a test checks it)."""
    url = url_for(uuid.UUID(int=0))
    token = url.rstrip("/").rsplit("/", 1)[-1]
    before, after = url.split(token, 1)
    return before, after


def recipient_values(subscriber: Subscriber, templates: dict[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """The per-recipient merge values; any field of MERGE_FIELDS we do not know is blank."""
    if templates is None:
        known = {
            "unsubscribe_url": unsubscribe_url(subscriber.uuid),
            "preferences_url": preferences_url(subscriber.uuid),
        }
        known["name"] = subscriber.name
        return {name: known.get(name, "") for name in MERGE_FIELDS}
    return _LinkMaker(templates).values(subscriber.uuid.hex, subscriber.name)


def link_templates() -> dict[str, tuple[str, str]]:
    return {"unsubscribe_url": _link_template(unsubscribe_url), "preferences_url": _link_template(preferences_url)}


class _LinkMaker:
    """Per-recipient merge values for a whole batch. The signers are built once per batch:
    building a Signer (settings look-ups, key checks) was half the cost of each token
    (measured); tokens.token_maker makes exactly what tokens.make_token returns (the
    equality test in tests/newsletter/test_sending.py checks it)."""

    def __init__(self, templates: dict[str, tuple[str, str]]) -> None:
        self.unsubscribe = templates["unsubscribe_url"]
        self.preferences = templates["preferences_url"]
        self.sign_unsubscribe = tokens.token_maker(Purpose.UNSUBSCRIBE)
        self.sign_preferences = tokens.token_maker(Purpose.PREFERENCES)

    def values(self, uuid_hex: str, name: str) -> dict[str, str]:
        before, after = self.unsubscribe
        pbefore, pafter = self.preferences
        known = {
            "unsubscribe_url": f"{before}{self.sign_unsubscribe(uuid_hex)}{after}",
            "preferences_url": f"{pbefore}{self.sign_preferences(uuid_hex)}{pafter}",
            "name": name,
        }
        return {field_name: known.get(field_name, "") for field_name in MERGE_FIELDS}


def _id_set(ids: Iterable[int]) -> Any:
    """The value for an `id__in` filter over up to a batch of ids. On PostgreSQL one array
    parameter (`IN (SELECT unnest(%s))`) instead of one placeholder per id: Django compiling and
    psycopg binding 1,000 placeholders cost 5-10 ms per statement (measured; a batch runs 3-4
    such statements). Other databases get the plain list."""
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [list(ids)])
    return list(ids)


def send_batch(*, digest_id: int, batch: int) -> BatchResult:
    """Claim the batch's queued rows, re-check the audience, render per segment, send, record.

    Raises RetryLater when the ESP clearly did not accept (rows are back in `queued`)."""
    result = BatchResult(digest_id=digest_id, batch=batch)
    clock = time.perf_counter()
    digest = Digest.objects.filter(id=digest_id).first()
    if digest is None or digest.status != Digest.Status.SENDING:
        result.note = f"edition is {digest.status if digest else 'gone'}"
        return result
    profile = esp.current_profile()
    token = timezone.now()
    claimed = _claim(digest_id=digest_id, batch=batch, token=token)
    result.claimed = len(claimed)
    result.timings["claim"] += time.perf_counter() - clock
    if not claimed:
        result.note = "nothing queued"
        _finish_if_done(digest_id)
        return result

    clock = time.perf_counter()
    groups, skipped = _group_by_segment(claimed)
    _mark_skipped(skipped)
    result.skipped += sum(len(ids) for ids in skipped.values())
    rendered_groups: list[tuple[RenderedEmail, list[_Recipient]]] = []
    for segment, recipients in groups.items():
        rendered = _render(digest, segment, profile)
        if rendered is None:
            _mark_skipped({"too few stories for this segment": [r.delivery_id for r in recipients]})
            result.skipped += len(recipients)
        else:
            rendered_groups.append((rendered, recipients))
    result.timings["render"] += time.perf_counter() - clock

    try:
        clock = time.perf_counter()
        sendable = sum(len(recipients) for _, recipients in rendered_groups)
        try:
            throttle.reserve(sendable)
        except throttle.RateLimited as exc:
            _requeue([r.delivery_id for _, rs in rendered_groups for r in rs], token=token, delay=exc.wait)
            raise RetryLater(exc.wait, "send rate limit") from exc
        result.timings["throttle"] += time.perf_counter() - clock
        _send_groups(digest, profile, rendered_groups, token=token, result=result)
    finally:
        clock = time.perf_counter()
        if result.sent or result.failed or result.unknown:
            Digest.objects.filter(id=digest_id).update(
                sent_count=F("sent_count") + result.sent,
                failed_count=F("failed_count") + result.failed,
                unknown_count=F("unknown_count") + result.unknown,
            )
        _finish_if_done(digest_id)
        result.timings["bookkeeping"] += time.perf_counter() - clock
        log.info("batch done %s", json.dumps(result.as_dict()))
    return result


def _claim(*, digest_id: int, batch: int, token: datetime) -> list[tuple[int, int]]:
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


def _group_by_segment(
    claimed: Sequence[tuple[int, int]],
) -> tuple[dict[Segment, list[_Recipient]], dict[str, list[int]]]:
    """Recipients by segment (language, topics), with two queries for the whole batch.
    Subscribers who left since dispatch come back in the skipped map with the reason."""
    delivery_of = {subscriber_id: delivery_id for delivery_id, subscriber_id in claimed}
    # Plain tuples, not model instances: a thousand Subscriber objects cost more than the query.
    subscribers = Subscriber.objects.filter(id__in=_id_set(delivery_of)).values_list(
        "id", "uuid", "email", "name", "language", "status"
    )
    topics: dict[int, list[int]] = defaultdict(list)
    through = Subscriber.topics.through
    for subscriber_id, section_id in through.objects.filter(subscriber_id__in=_id_set(delivery_of)).values_list(
        "subscriber_id", "section_id"
    ):
        topics[subscriber_id].append(section_id)
    groups: dict[Segment, list[_Recipient]] = defaultdict(list)
    skipped: dict[str, list[int]] = defaultdict(list)
    seen = set()
    links = _LinkMaker(link_templates())
    for subscriber_id, subscriber_uuid, email, name, language, status in subscribers:
        seen.add(subscriber_id)
        delivery_id = delivery_of[subscriber_id]
        if status != Subscriber.Status.ACTIVE:
            skipped[f"subscriber is {status} at send time"].append(delivery_id)
            continue
        segment = Segment(language=language, section_ids=tuple(sorted(topics[subscriber_id])))
        groups[segment].append(_Recipient(delivery_id, subscriber_id, email, links.values(subscriber_uuid.hex, name)))
    missing = [delivery_of[s] for s in delivery_of if s not in seen]
    if missing:  # deleted between dispatch and send (cascade usually removes the row too)
        skipped["subscriber no longer exists"].extend(missing)
    return groups, skipped


def _mark_skipped(skipped: dict[str, list[int]]) -> None:
    for reason, ids in skipped.items():
        if ids:
            Delivery.objects.filter(id__in=_id_set(ids), status=D.CLAIMED).update(status=D.SKIPPED, error=reason[:500])


def _to_sending(ids: Sequence[int], *, token: datetime) -> list[int]:
    """claimed -> sending for rows still under our claim; returns the ids we may send."""
    moved = Delivery.objects.filter(id__in=_id_set(ids), status=D.CLAIMED, claimed_at=token).update(
        status=D.SENDING, attempts=F("attempts") + 1, sending_at=timezone.now()
    )
    if moved == len(ids):
        return list(ids)
    # The sweeper took some back (we were slower than SEND_STUCK_AFTER_SECONDS): send only ours.
    return list(Delivery.objects.filter(id__in=ids, status=D.SENDING, claimed_at=token).values_list("id", flat=True))


def _requeue(ids: Sequence[int], *, token: datetime, delay: float) -> None:
    if ids:
        Delivery.objects.filter(id__in=ids, status__in=[D.CLAIMED, D.SENDING], claimed_at=token).update(
            status=D.QUEUED, claimed_at=None, queued_at=timezone.now() + timedelta(seconds=delay)
        )


def backoff(attempt: int) -> float:
    """Exponential backoff with jitter for the attempt-th retry (1-based)."""
    ceiling = min(settings.SEND_RETRY_MAX_SECONDS, settings.SEND_RETRY_BASE_SECONDS * 2 ** max(attempt - 1, 0))
    return random.uniform(ceiling / 2, ceiling)


def _send_groups(
    digest: Digest,
    profile: esp.EspProfile,
    groups: list[tuple[RenderedEmail, list[_Recipient]]],
    *,
    token: datetime,
    result: BatchResult,
) -> None:
    connection_ = get_connection()
    clock = time.perf_counter()
    try:
        connection_.open()
    except Exception as exc:  # noqa: BLE001  (classified: only "not connected" errors retry)
        outcome = esp.classify_error(exc, connected=False)
        pending = [r.delivery_id for _, rs in groups for r in rs]
        if outcome in (esp.Outcome.RETRY, esp.Outcome.THROTTLED):
            _give_up_or_retry(pending, token=token, reason=f"connect: {exc}", result=result)
        _record(pending, status=D.FAILED, error=f"connect: {exc}", result=result)
        return
    result.timings["api"] += time.perf_counter() - clock
    try:
        for index, (rendered, recipients) in enumerate(groups):
            later = [r.delivery_id for _, rs in groups[index + 1 :] for r in rs]
            if profile.batches_api_calls:
                _send_one_call(
                    digest, profile, rendered, recipients, connection_, token=token, result=result, later=later
                )
            else:
                _send_per_recipient(digest, rendered, recipients, connection_, token=token, result=result, later=later)
    finally:
        try:
            connection_.close()
        except Exception:
            log.warning("closing the email connection failed", exc_info=True)


def _give_up_or_retry(
    ids: list[int], *, token: datetime, reason: str, result: BatchResult, throttled: bool = False
) -> None:
    """Rows the ESP did not take: back to queued and raise RetryLater, or failed when out of
    attempts. Never returns normally when something is retried."""
    if throttled:
        throttle.penalise()
    # A failure before `sending` (connect error) still counts as an attempt, or it would loop.
    Delivery.objects.filter(id__in=ids, status=D.CLAIMED, claimed_at=token, sending_at__isnull=True).update(
        attempts=F("attempts") + 1
    )
    exhausted = list(
        Delivery.objects.filter(id__in=ids, claimed_at=token, attempts__gte=settings.SEND_MAX_ATTEMPTS).values_list(
            "id", flat=True
        )
    )
    if exhausted:
        failed = Delivery.objects.filter(id__in=exhausted, status__in=[D.SENDING, D.CLAIMED]).update(
            status=D.FAILED, error=f"gave up after {settings.SEND_MAX_ATTEMPTS} attempts: {reason}"[:500]
        )
        result.failed += failed
    retry = [i for i in ids if i not in set(exhausted)]
    if not retry:
        return
    attempts = (
        Delivery.objects.filter(id__in=retry).order_by("-attempts").values_list("attempts", flat=True).first() or 1
    )
    countdown = backoff(attempts)
    _requeue(retry, token=token, delay=countdown)
    raise RetryLater(countdown, reason)


def _record(ids: Sequence[int], *, status: str, error: str = "", message_id: str = "", result: BatchResult) -> None:
    if not ids:
        return
    values: dict[str, Any] = {"status": status, "error": error[:500]}
    if status == D.SENT:
        values.update(sent_at=timezone.now(), esp_message_id=message_id[:255])
    count = Delivery.objects.filter(id__in=_id_set(ids), status__in=[D.SENDING, D.CLAIMED]).update(**values)
    if status == D.SENT:
        result.sent += count
    elif status == D.FAILED:
        result.failed += count
    elif status == D.UNKNOWN:
        result.unknown += count


def _handle_exception(
    exc: BaseException, ids: list[int], later: list[int], *, token: datetime, result: BatchResult
) -> None:
    outcome = esp.classify_error(exc)
    reason = f"{type(exc).__name__}: {exc}"
    if outcome in (esp.Outcome.RETRY, esp.Outcome.THROTTLED):
        _give_up_or_retry(
            ids + later, token=token, reason=reason, result=result, throttled=outcome is esp.Outcome.THROTTLED
        )
    elif outcome is esp.Outcome.FAILED:
        _record(ids, status=D.FAILED, error=reason, result=result)
    else:
        log.warning("send outcome unknown for %s deliveries: %s", len(ids), reason)
        _record(ids, status=D.UNKNOWN, error=reason, result=result)


def _send_one_call(
    digest: Digest,
    profile: esp.EspProfile,
    rendered: RenderedEmail,
    recipients: list[_Recipient],
    connection_: Any,
    *,
    token: datetime,
    result: BatchResult,
    later: list[int],
) -> None:
    """One ESP API call for the whole segment group: merge_data for the body, merge_headers for
    each recipient's own List-Unsubscribe, merge_metadata for tracking."""
    clock = time.perf_counter()
    ids = _to_sending([r.delivery_id for r in recipients], token=token)
    ours = set(ids)
    recipients = [r for r in recipients if r.delivery_id in ours]
    if not recipients:
        return
    message = AnymailMessage(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[r.email for r in recipients],
        headers={"List-Unsubscribe-Post": LIST_UNSUBSCRIBE_POST},
        connection=connection_,
    )
    message.attach_alternative(rendered.html, "text/html")
    keys = {name: profile.merge_key(name) for name in MERGE_FIELDS}
    message.merge_data = {r.email: {keys[name]: value for name, value in r.values.items()} for r in recipients}
    message.merge_global_data = {}
    message.merge_headers = {r.email: {"List-Unsubscribe": f"<{r.values['unsubscribe_url']}>"} for r in recipients}
    message.metadata = {"digest_id": str(digest.id)}
    message.merge_metadata = {
        r.email: {"delivery_id": str(r.delivery_id), "subscriber_id": str(r.subscriber_id)} for r in recipients
    }
    message.tags = ["digest", digest.frequency]
    result.timings["bookkeeping"] += time.perf_counter() - clock
    clock = time.perf_counter()
    try:
        result.api_calls += 1
        message.send()
    except Exception as exc:  # noqa: BLE001  (classified by esp.classify_error)
        result.timings["api"] += time.perf_counter() - clock
        _handle_exception(exc, ids, later, token=token, result=result)
        return
    result.timings["api"] += time.perf_counter() - clock
    clock = time.perf_counter()
    statuses = message.anymail_status.recipients
    by_outcome: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for r in recipients:
        status = statuses.get(r.email) or statuses.get(r.email.lower())
        if status is None or status.status in {"queued", "sent", "scheduled", "unknown"}:
            message_id = (status.message_id if status else "") or ""
            by_outcome[(D.SENT, str(message_id), "")].append(r.delivery_id)
        else:
            by_outcome[(D.FAILED, "", f"ESP status: {status.status}")].append(r.delivery_id)
    if len(by_outcome) <= 10:
        for (status_, message_id, error), group_ids in by_outcome.items():
            _record(group_ids, status=status_, message_id=message_id, error=error, result=result)
    else:  # ESPs with one message id per recipient: one bulk UPDATE ... CASE
        _record_individually(by_outcome, result=result)
    result.timings["bookkeeping"] += time.perf_counter() - clock


def _record_individually(by_outcome: dict[tuple[str, str, str], list[int]], *, result: BatchResult) -> None:
    now = timezone.now()
    rows = []
    for (status, message_id, error), ids in by_outcome.items():
        for delivery_id in ids:
            rows.append(
                Delivery(
                    id=delivery_id,
                    status=status,
                    esp_message_id=message_id[:255],
                    error=error[:500],
                    sent_at=now if status == D.SENT else None,
                )
            )
            if status == D.SENT:
                result.sent += 1
            else:
                result.failed += 1
    Delivery.objects.bulk_update(rows, ["status", "esp_message_id", "error", "sent_at"], batch_size=1000)


def _send_per_recipient(
    digest: Digest,
    rendered: RenderedEmail,
    recipients: list[_Recipient],
    connection_: Any,
    *,
    token: datetime,
    result: BatchResult,
    later: list[int],
) -> None:
    """Backends without batch merge (SMTP, outbox, Postmark/SES): one personalised message per
    recipient over the one open connection, `sending` marked in small chunks."""
    for start in range(0, len(recipients), PER_RECIPIENT_CHUNK):
        chunk = recipients[start : start + PER_RECIPIENT_CHUNK]
        rest = [r.delivery_id for r in recipients[start + PER_RECIPIENT_CHUNK :]] + later
        clock = time.perf_counter()
        ours = set(_to_sending([r.delivery_id for r in chunk], token=token))
        result.timings["bookkeeping"] += time.perf_counter() - clock
        sent: list[Delivery] = []
        for position, r in enumerate(chunk):
            if r.delivery_id not in ours:
                continue
            clock = time.perf_counter()
            personal = merge(rendered, r.values, neutral_merge_field)
            message_id = make_msgid(domain=DNS_NAME)
            message = AnymailMessage(
                subject=personal.subject,
                body=personal.text,
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[r.email],
                headers={
                    "List-Unsubscribe": f"<{r.values['unsubscribe_url']}>",
                    "List-Unsubscribe-Post": LIST_UNSUBSCRIBE_POST,
                    "Message-ID": message_id,
                },
                connection=connection_,
            )
            message.attach_alternative(personal.html, "text/html")
            message.metadata = {
                "digest_id": str(digest.id),
                "delivery_id": str(r.delivery_id),
                "subscriber_id": str(r.subscriber_id),
            }
            message.tags = ["digest", digest.frequency]
            result.timings["render"] += time.perf_counter() - clock
            clock = time.perf_counter()
            try:
                result.api_calls += 1
                message.send()
            except Exception as exc:  # noqa: BLE001  (classified by esp.classify_error)
                result.timings["api"] += time.perf_counter() - clock
                _flush_sent(sent, result=result)
                unattempted = [c.delivery_id for c in chunk[position + 1 :] if c.delivery_id in ours]
                outcome = esp.classify_error(exc)
                reason = f"{type(exc).__name__}: {exc}"
                if outcome is esp.Outcome.FAILED:  # this address was refused; go on
                    _record([r.delivery_id], status=D.FAILED, error=reason, result=result)
                    continue
                if outcome is esp.Outcome.UNKNOWN:
                    _record([r.delivery_id], status=D.UNKNOWN, error=reason, result=result)
                    # The connection is in doubt: the untried rows go back for a retry.
                    _give_up_or_retry(unattempted + rest, token=token, reason=f"after {reason}", result=result)
                    return
                _give_up_or_retry(
                    [r.delivery_id, *unattempted, *rest],
                    token=token,
                    reason=reason,
                    result=result,
                    throttled=outcome is esp.Outcome.THROTTLED,
                )
                return
            result.timings["api"] += time.perf_counter() - clock
            status = getattr(message, "anymail_status", None)
            esp_id = status.message_id if status is not None and isinstance(status.message_id, str) else None
            sent.append(Delivery(id=r.delivery_id, esp_message_id=(esp_id or message_id)[:255]))
        clock = time.perf_counter()
        _flush_sent(sent, result=result)
        result.timings["bookkeeping"] += time.perf_counter() - clock


def _flush_sent(sent: list[Delivery], *, result: BatchResult) -> None:
    if not sent:
        return
    # Guarded on `sending` so a row the sweeper already settled is not counted twice.
    result.sent += Delivery.objects.filter(id__in=[row.id for row in sent], status=D.SENDING).update(
        status=D.SENT, sent_at=timezone.now()
    )
    Delivery.objects.bulk_update(sent, ["esp_message_id"])
    sent.clear()


def _finish_if_done(digest_id: int) -> bool:
    """sending -> sent once no row of the edition is queued, claimed or sending."""
    if Delivery.objects.filter(status__in=PENDING, digest_id=digest_id).exists():
        return False
    return bool(
        Digest.objects.filter(id=digest_id, status=Digest.Status.SENDING).update(
            status=Digest.Status.SENT, sent_at=timezone.now()
        )
    )


# --- Sweeper ----------------------------------------------------------------------------------


def sweep(*, now: datetime | None = None) -> SweepReport:
    """Recover from dead workers and lost broker messages (see the guarantee, point 6)."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.SEND_STUCK_AFTER_SECONDS)
    report = SweepReport()
    # Only these editions can hold queued/claimed/sending rows (dispatch creates rows and moves
    # the edition to sending in one transaction; it becomes sent only once none is pending).
    # Scoping by edition lets the (digest, ...) indexes serve these scans: no index on
    # newsletter_delivery includes status, so that status updates stay HOT (migration 0005).
    live = list(
        Digest.objects.filter(
            Q(status__in=LIVE_EDITIONS)
            | Q(status=Digest.Status.CANCELLED, updated_at__gte=now - CANCELLED_SETTLE_WINDOW)
        ).values_list("id", flat=True)
    )
    # sending past the timeout: the ESP may have accepted it -> unknown, never resent.
    stuck_sending = (
        Delivery.objects.filter(digest_id__in=live, status=D.SENDING, sending_at__lt=cutoff)
        .values("digest_id")
        .annotate(n=Count("id"))
    )
    for row in list(stuck_sending):
        with transaction.atomic():
            settled = Delivery.objects.filter(
                digest_id=row["digest_id"], status=D.SENDING, sending_at__lt=cutoff
            ).update(status=D.UNKNOWN, error="worker stopped during the ESP call; outcome unknown")
            Digest.objects.filter(id=row["digest_id"]).update(unknown_count=F("unknown_count") + settled)
        report.settled_unknown += settled
    # claimed past the timeout: never handed to the ESP -> queued again (and enqueued below);
    # in a cancelled edition -> skipped, as cancel() did with the queued rows.
    stuck_claimed = Delivery.objects.filter(digest_id__in=live, status=D.CLAIMED, claimed_at__lt=cutoff)
    stuck_claimed.filter(digest__status=Digest.Status.CANCELLED).update(
        status=D.SKIPPED, claimed_at=None, error="edition cancelled"
    )
    report.requeued_claimed = stuck_claimed.update(status=D.QUEUED, claimed_at=None, queued_at=cutoff)
    # queued past the timeout, for editions still sending: the task was lost (or never ran).
    stale = list(
        Delivery.objects.filter(status=D.QUEUED, queued_at__lte=cutoff, digest__status=Digest.Status.SENDING)
        .values_list("digest_id", "batch")
        .distinct()
    )
    by_digest: dict[int, list[int]] = defaultdict(list)
    for digest_id, number in stale:
        by_digest[digest_id].append(number)
    for digest_id, numbers in by_digest.items():
        with transaction.atomic():
            # Fresh timestamp: the re-enqueued task gets a full timeout before the next sweep.
            Delivery.objects.filter(
                digest_id=digest_id, batch__in=numbers, status=D.QUEUED, queued_at__lte=cutoff
            ).update(queued_at=now)
            transaction.on_commit(lambda d=digest_id, n=sorted(numbers): enqueue_batches(digest_id=d, batches=n))
        report.reenqueued_batches += len(numbers)
    for digest_id in Digest.objects.filter(status=Digest.Status.SENDING).values_list("id", flat=True):
        report.finished_digests += int(_finish_if_done(digest_id))
    if report.settled_unknown or report.requeued_claimed or report.reenqueued_batches:
        log.warning("sweep: %s", report.as_dict())
    return report


# --- Pause, resume, cancel --------------------------------------------------------------------


def pause(*, digest_id: int) -> bool:
    """sending -> paused. Batch tasks that start afterwards leave their rows queued."""
    return bool(Digest.objects.filter(id=digest_id, status=Digest.Status.SENDING).update(status=Digest.Status.PAUSED))


def resume(*, digest_id: int) -> list[int]:
    """paused -> sending, and enqueue (on commit) every batch that still has queued rows.
    Rows already sent are not queued, so nobody is sent twice. Returns the batch numbers."""
    with transaction.atomic():
        if not Digest.objects.filter(id=digest_id, status=Digest.Status.PAUSED).update(status=Digest.Status.SENDING):
            return []
        numbers = sorted(
            Delivery.objects.filter(digest_id=digest_id, status=D.QUEUED).values_list("batch", flat=True).distinct()
        )
        Delivery.objects.filter(digest_id=digest_id, status=D.QUEUED).update(queued_at=timezone.now())
        if numbers:
            transaction.on_commit(lambda: enqueue_batches(digest_id=digest_id, batches=numbers))
        else:
            _finish_if_done(digest_id)
    return numbers


def cancel(*, digest_id: int) -> int:
    """Stop an edition for good: remaining queued rows become skipped. Returns how many."""
    with transaction.atomic():
        if not Digest.objects.filter(
            id=digest_id,
            status__in=[Digest.Status.DRAFT, Digest.Status.APPROVED, Digest.Status.SENDING, Digest.Status.PAUSED],
        ).update(status=Digest.Status.CANCELLED, updated_at=timezone.now()):  # the sweeper's window
            return 0
        return Delivery.objects.filter(digest_id=digest_id, status=D.QUEUED).update(
            status=D.SKIPPED, error="edition cancelled"
        )


# --- Synchronous run (send_digest --sync) and reporting -----------------------------------------


def report(*, digest_id: int) -> SendReport:
    counts = dict(
        Delivery.objects.filter(digest_id=digest_id)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return SendReport(
        audience=sum(counts.values()),
        sent=counts.get(D.SENT, 0),
        failed=counts.get(D.FAILED, 0),
        unknown=counts.get(D.UNKNOWN, 0),
        skipped=counts.get(D.SKIPPED, 0),
        queued=sum(counts.get(s, 0) for s in PENDING),
    )


def send_all_sync(*, digest_id: int, sleep=time.sleep) -> SendReport:  # type: ignore[no-untyped-def]
    """Dispatch (if not yet dispatched) and send every batch in this process, retrying with the
    same backoff the tasks use. For `send_digest --sync`, development and small lists."""
    dispatch(digest_id=digest_id, enqueue=False)
    numbers = sorted(
        Delivery.objects.filter(digest_id=digest_id, status=D.QUEUED).values_list("batch", flat=True).distinct()
    )
    for number in numbers:
        for _ in range(settings.SEND_MAX_ATTEMPTS + 1):
            try:
                send_batch(digest_id=digest_id, batch=number)
                break
            except RetryLater as exc:
                sleep(exc.countdown)
    _finish_if_done(digest_id)
    return report(digest_id=digest_id)


def edition_counts(*, digest_id: int) -> dict[str, int]:
    """Per-edition figures for the admin, in one aggregate query."""
    return Delivery.objects.filter(digest_id=digest_id).aggregate(
        audience=Count("id"),
        sent=Count("id", filter=Q(status=D.SENT)),
        failed=Count("id", filter=Q(status=D.FAILED)),
        unknown=Count("id", filter=Q(status=D.UNKNOWN)),
        skipped=Count("id", filter=Q(status=D.SKIPPED)),
        pending=Count("id", filter=Q(status__in=PENDING)),
        delivered=Count("id", filter=Q(delivered_at__isnull=False)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        complained=Count("id", filter=Q(complained_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
        rejected=Count("id", filter=Q(rejected_at__isnull=False)),
    )
