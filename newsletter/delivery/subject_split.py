"""A subject-line test's share of the audience: which rows get which subject line, and the rest
held until the winner is chosen (newsletter.orchestration.subject_tests runs the test).

Each reader still has exactly one Delivery row (point 1 of the delivery guarantee): the dispatch
snapshot creates every row as usual, then `split` marks, in one UPDATE, the test share queued with
its variant and renumbered into the first batches, and the rest `held` in the batches after them.
Held rows are neither pending nor queued, so no batch, sweep or finish check touches them; `release`
turns them into queued rows (the winner's subject) once, under the edition's choose-winner
transition. Rows of the test share keep their variant; released rows keep none, which tells the two
apart in the report and the decision.

Who is in the test share: the edition's rows in the order of a multiplicative hash of subscriber
and edition (ids follow signup dates, which open rates depend on), the first `share` percent, dealt
to the variants in turn, so the variants' shares differ by at most one reader.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F
from django.utils import timezone

from newsletter.editions.models import Digest, SubjectVariant
from newsletter.email.render import RenderedEmail
from newsletter.email.rtl import with_rlm
from sitewide.mail_merge import inert_text

from . import claims, transport
from .models import Delivery
from .recipients import Recipient

D = Delivery.Status
# Knuth's multiplicative hash (mod 2^32): portable SQL (PostgreSQL, SQLite), spreads adjacent ids.
HASH = "((d.subscriber_id + {digest} * 7919) * 2654435761) %% 4294967296"  # %% : a literal % in SQL with parameters


@dataclasses.dataclass(frozen=True)
class Split:
    test: int  # rows in the test share (queued)
    held: int  # rows held for the winner
    test_batches: list[int]


def test_size(audience: int, *, share_percent: int, variants: int) -> int:
    """The test share: `share_percent` of the audience rounded up, at least one reader per
    variant, never more than the audience."""
    return min(audience, max(math.ceil(audience * share_percent / 100), variants))


def split(*, digest_id: int, variant_ids: Sequence[int], share_percent: int, audience: int, size: int) -> Split:
    """Mark the edition's freshly snapshotted rows: the test share queued with its variant in
    batches 0..T-1, the rest held in batches T.. (each part keeps the snapshot's order, so readers
    of one personal list stay together). Call inside dispatch's transaction."""
    test = test_size(audience, share_percent=share_percent, variants=len(variant_ids))
    test_batches = (test + size - 1) // size
    variant_case = " ".join(f"WHEN {i} THEN %s" for i in range(len(variant_ids)))
    table = Delivery._meta.db_table
    sql = f"""
        WITH ranked AS (
            SELECT d.id, d.batch AS old_batch,
                   ROW_NUMBER() OVER (ORDER BY {HASH.format(digest="%s")}, d.id) - 1 AS n
            FROM {table} d WHERE d.digest_id = %s
        ), numbered AS (
            SELECT id, n, CASE WHEN n < %s THEN 1 ELSE 0 END AS in_test,
                   ROW_NUMBER() OVER (PARTITION BY CASE WHEN n < %s THEN 1 ELSE 0 END ORDER BY old_batch, id) - 1 AS k
            FROM ranked
        )
        UPDATE {table} SET
            status = CASE WHEN numbered.in_test = 1 THEN %s ELSE %s END,
            variant_id = CASE WHEN numbered.in_test = 1 THEN (CASE numbered.n %% %s {variant_case} END) ELSE NULL END,
            batch = CASE WHEN numbered.in_test = 1 THEN numbered.k / %s ELSE %s + numbered.k / %s END
        FROM numbered WHERE {table}.id = numbered.id
    """
    params: list[Any] = [digest_id, digest_id, test, test, D.QUEUED, D.HELD, len(variant_ids), *variant_ids]
    params += [size, test_batches, size]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    return Split(test=test, held=audience - test, test_batches=list(range(test_batches)))


def release(*, digest_id: int, now: datetime | None = None) -> list[int]:
    """held -> queued (they get the winner's subject) and the edition's audience grows by them;
    returns the batch numbers to enqueue. Call in the transaction of the choose-winner transition,
    which only one caller makes, so the rest is released once."""
    held = Delivery.objects.filter(digest_id=digest_id, status=D.HELD)
    numbers = sorted(held.values_list("batch", flat=True).distinct())
    released = held.update(status=D.QUEUED, queued_at=now or timezone.now())
    Digest.objects.filter(id=digest_id).update(audience_count=F("audience_count") + released)
    return numbers


def variant_subject(subject: str, *, language: str) -> str:
    """A variant as the email's subject line, with the rules of the generated one (inert
    placeholders, one line, a leading RLM when it starts with a Latin letter or a digit)."""
    return with_rlm(" ".join(inert_text(subject).split()), language=language)


def with_variant_subjects(digest: Digest, groups: transport.Groups, language_of: dict[int, str]) -> transport.Groups:
    """The batch's groups split by the subject line each recipient gets: the test share its
    variant's, the rest the winner's (rows released without a variant). Two queries, for editions
    with a test only; `language_of`: delivery id -> the recipient's language."""
    ids = [r.delivery_id for group in groups for r in group.recipients]
    variant_of = dict(
        Delivery.objects.filter(id__in=claims.id_set(ids), variant__isnull=False).values_list("id", "variant_id")
    )
    subjects = dict(SubjectVariant.objects.filter(digest_id=digest.pk).values_list("id", "subject"))
    out: transport.Groups = []
    for group in groups:
        parts: dict[int | None, list[Recipient]] = {}
        for recipient in group.recipients:
            parts.setdefault(variant_of.get(recipient.delivery_id, digest.test_winner_id), []).append(recipient)
        for variant_id, members in parts.items():
            subject = subjects.get(variant_id) if variant_id else None
            if not subject:  # a row without a variant before the choice (held rows are not sent): as rendered
                out.append(group._replace(recipients=members))
                continue
            language = language_of.get(members[0].delivery_id, "ar")
            rendered: RenderedEmail = dataclasses.replace(
                group.rendered, subject=variant_subject(subject, language=language)
            )
            out.append(group._replace(rendered=rendered, recipients=members))
    return out
