"""A subject-line test's figures per variant and the rule that picks its winner, with the
statistics of the personal-editions comparison (analytics.experiment: Wilson intervals, the Katz
log interval of a ratio of rates, the same "too few to tell" thresholds).

THE DATA. The test share's rows (Delivery.variant set; the rest, released with the winner's
subject, carry none) that were sent, joined to Engagement: human openers (machine opens excluded,
as in the report) and clickers (a human click: Engagement.clicked_at, written by the 5-minute
click roll-up, so clicks of the last few minutes before the choice may be missing).

THE RULE (`decide`). The variant with the highest rate of the chosen figure leads (a tie goes to
the earlier position). It wins only if it and the runner-up are each measured well enough
(experiment.enough: 100 recipients, 10 readers who did it and 10 who did not) and the 95%
interval of its lift over the runner-up lies wholly above 0. Otherwise the editor's first subject
goes to the rest: "no data" when no reader of the test share did the thing at all, "too close"
otherwise. With three or four variants only the leader and the runner-up are compared, and the
interval is not corrected for the other variants: a generous rule, held back by the first-subject
default whenever the data are thin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection

from newsletter.delivery.models import Delivery
from newsletter.editions.models import Digest, SubjectVariant, WinnerMetric, WinnerReason

from .experiment import ArmCounts, Estimate, enough, rate_lift, wilson
from .models import Engagement

BY_VARIANT = """
SELECT d.variant_id, COUNT(*),
       SUM(CASE WHEN e.human_open_at IS NULL THEN 0 ELSE 1 END),
       SUM(CASE WHEN e.clicked_at IS NULL THEN 0 ELSE 1 END)
FROM {delivery} AS d
LEFT JOIN {engagement} AS e ON e.digest_id = d.digest_id AND e.subscriber_id = d.subscriber_id
WHERE d.digest_id = %s AND d.status = %s AND d.variant_id IS NOT NULL
GROUP BY d.variant_id
"""


def live_counts(digest_id: int) -> dict[int, ArmCounts]:
    """variant id -> its test-share counts now (one query over the test share's rows)."""
    sql = BY_VARIANT.format(delivery=Delivery._meta.db_table, engagement=Engagement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest_id, Delivery.Status.SENT.value])
        rows = cursor.fetchall()
    return {
        int(variant): ArmCounts(recipients=int(n), human_openers=int(o or 0), clickers=int(c or 0))
        for variant, n, o, c in rows
    }


def events(counts: ArmCounts, metric: str) -> int:
    return counts.clickers if metric == WinnerMetric.CLICKS else counts.human_openers


@dataclass(frozen=True)
class Decision:
    winner: int  # variant id
    reason: str  # WinnerReason
    lift: Estimate  # the leader over the runner-up; no value unless the leader won


def decide(variants: Sequence[tuple[int, ArmCounts]], *, metric: str) -> Decision:
    """The winner among `variants` (variant id and counts, in the editor's order), by THE RULE."""
    if not variants:
        raise ValueError("a test needs variants")
    first = variants[0][0]
    counted = [(variant, counts.sane()) for variant, counts in variants]
    if not any(events(counts, metric) for _, counts in counted):
        return Decision(first, WinnerReason.NO_DATA, Estimate(None))

    def rate(item: tuple[int, ArmCounts]) -> float:
        counts = item[1]
        return events(counts, metric) / counts.recipients if counts.recipients else 0.0

    # sorted() is stable: of equal rates the earlier position stays ahead.
    ranked = sorted(counted, key=rate, reverse=True)
    (leader, lead), (_, runner) = ranked[0], ranked[1]
    k_l, k_r = events(lead, metric), events(runner, metric)
    if not (enough(k_l, lead.recipients) and enough(k_r, runner.recipients)):
        return Decision(first, WinnerReason.TOO_CLOSE, Estimate(None))
    lift = rate_lift(k_l, lead.recipients, k_r, runner.recipients)
    if lift.interval is None or lift.interval.low <= 0:
        return Decision(first, WinnerReason.TOO_CLOSE, Estimate(None))
    return Decision(leader, WinnerReason.LEADER, lift)


def rate_estimate(counts: ArmCounts, metric: str) -> Estimate:
    """A variant's rate with its Wilson interval (None when too few to tell, as in the report)."""
    k, n = events(counts, metric), counts.recipients
    if n <= 0:
        return Estimate(None)
    return Estimate(k / n, wilson(k, n) if enough(k, n) else None)


@dataclass(frozen=True)
class VariantRow:
    """One subject line's line in the report and on the edition page."""

    position: int
    subject: str
    counts: ArmCounts
    open_rate: Estimate
    click_rate: Estimate
    won: bool


def variant_rows(digest: Digest) -> list[VariantRow]:
    """The edition's subject lines with their figures: those the winner was chosen on once it was
    (frozen on the rows), the test share's live figures before (one query over the share)."""
    variants = list(SubjectVariant.objects.filter(digest=digest).order_by("position"))
    if not variants or digest.test_started_at is None:
        return []
    live = live_counts(digest.pk) if digest.test_decided_at is None else {}
    rows = []
    for variant in variants:
        counts = live.get(variant.pk, ArmCounts())
        if digest.test_decided_at is not None:
            counts = ArmCounts(
                recipients=variant.recipients, human_openers=variant.human_openers, clickers=variant.clickers
            )
        rows.append(
            VariantRow(
                position=variant.position,
                subject=variant.subject,
                counts=counts,
                open_rate=rate_estimate(counts, WinnerMetric.OPENS),
                click_rate=rate_estimate(counts, WinnerMetric.CLICKS),
                won=variant.pk == digest.test_winner_id,
            )
        )
    return rows
