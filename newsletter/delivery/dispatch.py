"""Starting an edition's send: snapshot the audience into Delivery rows and enqueue one batch
task per batch (point 1 of the delivery guarantee in this package's docstring); and the
synchronous run that `send_digest --sync` uses."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from newsletter import task_names
from newsletter.editions import conf as editions_conf
from newsletter.editions import state
from newsletter.editions.models import ALERT, Digest, SubjectVariant
from newsletter.personal import arms, lists
from newsletter.personal import conf as personal_conf
from newsletter.personal.models import ReaderProfile
from newsletter.subscribers.models import Subscriber

from . import alert_audience, claims, conf, counts, esp, subject_split
from .batch import send_batch
from .models import Delivery, Receipt
from .outcomes import RetryLater

log = logging.getLogger(__name__)

D = claims.D


@dataclass
class DispatchResult:
    dispatched: bool
    audience: int = 0
    batches: list[int] = field(default_factory=list)


def batch_size() -> int:
    return esp.current_profile().batch_size


def dispatch(*, digest_id: int, enqueue: bool = True, zones: Sequence[str] | None = None) -> DispatchResult:
    """Snapshot the audience and enqueue one send_batch task per batch (on commit).

    An edition with two or more subject variants starts its subject-line test instead: only the
    test share is queued and enqueued (newsletter.delivery.subject_split).

    Does nothing (dispatched=False) unless the edition is draft or approved, so a double click,
    a second beat or a concurrent call never sends an edition twice. `zones` (time zone names)
    limits the audience to one wave (newsletter.orchestration.waves); subscribers who already have
    an edition of this frequency and date (another wave, an explicit send) are left out."""
    size = batch_size()
    now = timezone.now()
    with transaction.atomic():
        test = _subject_test(digest_id)
        transition = state.Transition.START_TEST if test else state.Transition.DISPATCH
        if not state.apply(
            transition, digest_id=digest_id, sending_started_at=now, **(test.fields(now) if test else {})
        ):
            return DispatchResult(dispatched=False)
        frequency, edition_date, extra = Digest.objects.values_list("frequency", "edition_date", "extra").get(
            id=digest_id
        )
        if frequency == ALERT:  # a breaking-news alert: its own audience, no waves (alert_audience)
            audience = alert_audience.snapshot(digest_id=digest_id, size=size, now=now)
        else:
            audience = _snapshot_audience(
                digest_id=digest_id,
                frequency=frequency,
                edition_date=edition_date,
                size=size,
                now=now,
                zones=zones,
                receipts=not extra,
                cluster=lists.cluster_articles(digest_id) if lists.enabled() else None,
            )
        batches = list(range((audience + size - 1) // size))
        if test and audience:
            # The test share goes now; the rest waits, held, for the winner (subject_split).
            part = subject_split.split(
                digest_id=digest_id,
                variant_ids=test.variant_ids,
                share_percent=test.share,
                audience=audience,
                size=size,
            )
            audience, batches = part.test, part.test_batches
        Digest.objects.filter(id=digest_id).update(audience_count=audience)
        if enqueue:
            transaction.on_commit(lambda: enqueue_batches(digest_id=digest_id, batches=batches))
        if not audience:
            claims.finish_if_done(digest_id)
    log.info("dispatched digest %s: %s recipients in %s batches", digest_id, audience, len(batches))
    return DispatchResult(dispatched=True, audience=audience, batches=batches)


@dataclass(frozen=True)
class _Test:
    variant_ids: list[int]
    share: int
    wait: int

    def fields(self, now: datetime) -> dict[str, Any]:
        return {"test_started_at": now, "test_share_percent": self.share, "test_wait_minutes": self.wait}


def _subject_test(digest_id: int) -> _Test | None:
    """The edition's subject-line test, read under its row lock (an editor's change of the
    variants waits for it, then finds the test started), or None with fewer than two variants."""
    row = (
        Digest.objects.select_for_update()
        .filter(id=digest_id)
        .values_list("test_share_percent", "test_wait_minutes")
        .first()
    )
    variant_ids = list(SubjectVariant.objects.filter(digest_id=digest_id).values_list("id", flat=True))
    if row is None or len(variant_ids) < 2:
        return None
    defaults = editions_conf.settings()
    share, wait = row
    return _Test(
        variant_ids,
        share=share or defaults.SUBJECT_TEST_SHARE_PERCENT,
        wait=defaults.SUBJECT_TEST_WAIT_MINUTES if wait is None else wait,
    )


def _snapshot_audience(
    *,
    digest_id: int,
    frequency: str,
    edition_date: date,
    size: int,
    now: datetime,
    zones: Sequence[str] | None,
    receipts: bool = True,
    cluster: Sequence[int] | None = None,
) -> int:
    """Two INSERT ... SELECT statements: no subscriber rows travel through Python.

    First a Receipt per subscriber of the audience, ON CONFLICT DO NOTHING on (subscriber,
    frequency, edition date): a subscriber whom another wave or send of this period already took
    gets none, and a concurrent snapshot waits on the unique index and then skips them. Then a
    Delivery per receipt of this edition; batch numbers come from ROW_NUMBER() in subscriber id
    order, so each batch is `size` consecutive subscribers.

    Without `receipts` (an extra edition an editor sent before its run: every reader gets it
    besides the day's scheduled one), one statement: a Delivery per active subscriber
    of the frequency; (edition, subscriber) is unique, so still one each.

    With personal editions (`cluster`: the edition's candidate article ids), readers who will get
    the same list are numbered next to each other: by their leaning (ReaderProfile.list_key) and
    which of the candidates they already read, then by id. A batch then holds few distinct lists,
    each rendered once and sent in one ESP call (newsletter.personal.lists), and a list is cut
    by a batch's end only every `size` readers (`_batch_number`)."""
    receipt, delivery, subscriber = Receipt._meta.db_table, Delivery._meta.db_table, Subscriber._meta.db_table
    params: list[Any] = [digest_id, frequency, edition_date, Subscriber.Status.ACTIVE, frequency]
    zone_filter = ""
    if zones is not None:
        if connection.vendor == "postgresql":
            zone_filter, params = "AND s.time_zone = ANY(%s)", [*params, list(zones)]
        else:
            zone_filter = f"AND s.time_zone IN ({', '.join(['%s'] * len(zones)) or 'NULL'})"
            params = [*params, *zones]
    receipt_sql = f"""
        INSERT INTO {receipt} (digest_id, subscriber_id, frequency, edition_date)
        SELECT %s, s.id, %s, %s FROM {subscriber} s
        WHERE s.status = %s AND s.frequency = %s {zone_filter}
        ON CONFLICT (subscriber_id, frequency, edition_date) DO NOTHING
    """
    join_r, keys_r, join_s, keys_s = "", "", "", ""
    cluster_params: list[Any] = []
    if cluster is not None:
        month = arms.month_key(edition_date)
        join_r, keys_r, cluster_params = _clustering("r.subscriber_id", cluster, month=month, joined=False)
        join_s, keys_s, _ = _clustering("s.id", cluster, month=month, joined=True)
    batch = _batch_number(size, clustered=cluster is not None)
    deliveries = f"""
        INSERT INTO {delivery}
            (digest_id, subscriber_id, batch, status, attempts, esp_message_id, error, queued_at)
        SELECT %s, q.sid, {batch}, %s, 0, '', '', %s
        FROM (SELECT r.subscriber_id AS sid {keys_r} FROM {receipt} r {join_r} WHERE r.digest_id = %s) q
        WHERE true  -- SQLite: without a WHERE, it reads ON CONFLICT as a join's ON
        ON CONFLICT (digest_id, subscriber_id) DO NOTHING
    """
    direct = f"""
        INSERT INTO {delivery}
            (digest_id, subscriber_id, batch, status, attempts, esp_message_id, error, queued_at)
        SELECT %s, q.sid, {batch}, %s, 0, '', '', %s
        FROM (
            SELECT s.id AS sid {keys_s} FROM {subscriber} s {join_s}
            WHERE s.status = %s AND s.frequency = %s {zone_filter}
        ) q
        WHERE true
        ON CONFLICT (digest_id, subscriber_id) DO NOTHING
    """
    with connection.cursor() as cursor:
        if not receipts:
            cursor.execute(direct, [digest_id, D.QUEUED, now, *cluster_params, *params[3:]])
            return max(cursor.rowcount, 0)
        cursor.execute(receipt_sql, params)
        cursor.execute(deliveries, [digest_id, D.QUEUED, now, *cluster_params, digest_id])
        return max(cursor.rowcount, 0)


# What tells apart the lists of the snapshot's readers (the columns `_clustering` gives each):
# readers who share all three get one list; the edition's order is one list whatever its
# readers' leanings.
LIST_KEYS = (
    "q.edition_order",
    "CASE WHEN q.edition_order = 0 THEN '' ELSE q.leaning END",
    "CASE WHEN q.edition_order = 0 THEN '' ELSE q.read_set END",
)


def _batch_number(size: int, *, clustered: bool) -> str:
    """The batch of each row of the snapshot's subquery `q`: `size` consecutive readers in id
    order; with personal editions, readers in list order, and a list is not cut by a batch's end.

    A list cut in two costs an ESP call more (its readers in two batches, one call in each): at a
    million readers, 65 calls of 2,251 (bench/README.md). So each list is cut only every
    `size` readers counted from its own first reader, and each piece goes to the batch in whose
    range it starts: batch = (position - position within the list mod size) / size. A batch then
    holds the pieces that start in its range, fewer than 2 x size readers, and an email is
    never sent to more than `size` readers in one call (newsletter.delivery.transport)."""
    size = int(size)
    if not clustered:
        return f"(ROW_NUMBER() OVER (ORDER BY q.sid) - 1) / {size}"
    keys = ", ".join(LIST_KEYS)
    return (
        f"((ROW_NUMBER() OVER (ORDER BY {keys}, q.sid) - 1)"
        f" - (ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY q.sid) - 1) %% {size}) / {size}"
    )


def _clustering(subscriber: str, cluster: Sequence[int], *, month: str, joined: bool) -> tuple[str, str, list[Any]]:
    """(join, columns, params): the columns LIST_KEYS that tell apart readers of different
    personal lists. On PostgreSQL the readers who get the edition's order (no profile, personal
    order off, or in the month's hold-out: arms.sql_bucket) are one list, numbered first, so the
    personal batches hold no segment list beside their own ones (one ESP call fewer each).
    `joined`: the subscriber row is `s` already."""
    profile = ReaderProfile._meta.db_table
    join = f"LEFT JOIN {profile} p ON p.subscriber_id = {subscriber}"
    ids = [str(article_id) for article_id in cluster]
    if connection.vendor != "postgresql":
        read = f"(SELECT group_concat(value) FROM json_each(p.seen) WHERE CAST(value AS TEXT) IN ({', '.join(['%s'] * len(ids)) or 'NULL'}))"
        columns = f", 1 AS edition_order, COALESCE(p.list_key, '') AS leaning, COALESCE({read}, '') AS read_set"
        return join, columns, list(ids)
    if not joined:
        join += f" JOIN {Subscriber._meta.db_table} s ON s.id = {subscriber}"
    holdout = personal_conf.settings().DIGEST_PERSONAL_HOLDOUT_PERCENT
    edition_order = (
        f"CASE WHEN p.subscriber_id IS NULL OR NOT s.personal_order OR {arms.sql_bucket(subscriber)} < %s "
        "THEN 0 ELSE 1 END"
    )
    read = "(SELECT string_agg(x, ',' ORDER BY x) FROM jsonb_array_elements_text(p.seen) AS x WHERE x = ANY(%s))"
    columns = (
        f", {edition_order} AS edition_order, COALESCE(p.list_key, '') AS leaning, COALESCE({read}, '') AS read_set"
    )
    return join, columns, [month, holdout, ids]


def enqueue_batches(*, digest_id: int, batches: Iterable[int]) -> None:
    for number in batches:
        task_names.enqueue(task_names.SEND_BATCH, digest_id, number)


def send_all_sync(
    *,
    digest_id: int,
    sleep: Callable[[float], None] = time.sleep,
    after_batch: Callable[[], None] | None = None,
) -> counts.SendReport:
    """Dispatch (if not yet dispatched) and send every batch in this process, retrying with the
    same backoff the tasks use. For `send_digest --sync`, development and small lists.
    `after_batch` is called once the audience is snapshotted and after each batch (the command's
    progress bar reads the edition's counters there)."""
    dispatch(digest_id=digest_id, enqueue=False)
    numbers = sorted(
        Delivery.objects.filter(digest_id=digest_id, status=D.QUEUED).values_list("batch", flat=True).distinct()
    )
    if after_batch:
        after_batch()
    for number in numbers:
        for _ in range(conf.settings().SEND_MAX_ATTEMPTS + 1):
            try:
                send_batch(digest_id=digest_id, batch=number)
                break
            except RetryLater as exc:
                sleep(exc.countdown)
        if after_batch:
            after_batch()
    claims.finish_if_done(digest_id)
    return counts.report(digest_id=digest_id)
