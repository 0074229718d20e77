"""An edition's figures per arm of the personal-editions experiment (EditionArmStats), written
by the roll-up (analytics.rollup.rollup_edition) and compared by analytics.experiment.

Each Delivery row carries the arm its reader was in when it was sent (newsletter.personal.arms:
"p" personal, "h" hold-out, "" neither: personal editions off, or the reader switched personal
order off); rows in neither arm are not counted. Per arm:
- recipients: its rows sent (status sent), counted by the roll-up's one pass over the edition's
  rows (grouped by segment and arm), so the arms cost that pass nothing more;
- human_openers, clickers, clicks, clicks_squared: ONE aggregate here, driven by the readers who
  did something (an Engagement row with a human open or a click), each joined to their Delivery
  row. A reader is a clicker with a human click (Engagement.clicked_at, set with their first
  StoryClick, ESP-reported clicks included, or a StoryClick of theirs); their clicks are their
  StoryClick rows (one per story).
Machine opens are not counted (Engagement.human_open_at only, as EditionStats.human_opens).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection

from newsletter.delivery.models import Delivery
from newsletter.personal.arms import Arm

from .models import EditionArmStats, Engagement, StoryClick

ARMS = (Arm.PERSONAL.value, Arm.HOLDOUT.value)

# Per reader who opened (a human) or clicked, their Delivery row's arm (sent rows only), their
# stories clicked from StoryClick grouped per reader. Driven by Engagement: the click roll-up
# writes a reader's StoryClick rows and their Engagement row (clicked_at) in one transaction
# (analytics.rollup._store_human_clicks), so every reader with a story clicked has one. Measured
# on an edition of 1,000,000 (bench/analytics_report.py), this was the fastest of the portable
# forms (about 0.8 s; a UNION ALL of both tables grouped per reader took 1.3-1.6 s) and needs no
# FULL JOIN, which SQLite (`make run`) has only since 3.39.
ENGAGED_BY_ARM = """
SELECT d.arm,
       SUM(CASE WHEN e.human_open_at IS NULL THEN 0 ELSE 1 END),
       SUM(CASE WHEN e.clicked_at IS NULL AND c.stories IS NULL THEN 0 ELSE 1 END),
       SUM(c.stories),
       SUM(c.stories * c.stories)
FROM {engagement} AS e
LEFT JOIN (
    SELECT subscriber_id, COUNT(*) AS stories FROM {story_click} WHERE digest_id = %s GROUP BY subscriber_id
) AS c ON c.subscriber_id = e.subscriber_id
JOIN {delivery} AS d ON d.digest_id = e.digest_id AND d.subscriber_id = e.subscriber_id
WHERE e.digest_id = %s AND (e.human_open_at IS NOT NULL OR e.clicked_at IS NOT NULL)
  AND d.status = %s AND d.arm IN (%s, %s)
GROUP BY d.arm
"""


def engaged_by_arm(digest_id: int) -> dict[str, tuple[int, int, int, int]]:
    """arm -> (human openers, clickers, clicks, clicks squared) among the edition's sent rows."""
    sql = ENGAGED_BY_ARM.format(
        engagement=Engagement._meta.db_table,
        story_click=StoryClick._meta.db_table,
        delivery=Delivery._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest_id, digest_id, Delivery.Status.SENT.value, *ARMS])
        rows = cursor.fetchall()
    # SUM of a bigint is numeric (a Decimal) on PostgreSQL: int() for the counters.
    return {arm: (int(o or 0), int(c or 0), int(k or 0), int(k2 or 0)) for arm, o, c, k, k2 in rows}


def write(*, digest_id: int, recipients: dict[str, int], now: datetime) -> None:
    """Write one row per arm present among the edition's Delivery rows (`recipients`: arm ->
    rows sent) and delete the rows of arms no longer present. Call inside the roll-up's
    transaction; constant queries whatever the edition's size."""
    present = {arm: sent for arm, sent in recipients.items() if arm in ARMS}
    engaged = engaged_by_arm(digest_id) if present else {}
    EditionArmStats.objects.filter(digest_id=digest_id).exclude(arm__in=list(present)).delete()
    if not present:
        return
    rows = []
    for arm, sent in sorted(present.items()):
        openers, clickers, clicks, squared = engaged.get(arm, (0, 0, 0, 0))
        rows.append(
            EditionArmStats(
                digest_id=digest_id,
                arm=arm,
                recipients=sent,
                human_openers=openers,
                clickers=clickers,
                clicks=clicks,
                clicks_squared=squared,
                updated_at=now,
            )
        )
    EditionArmStats.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["digest", "arm"],
        update_fields=["recipients", "human_openers", "clickers", "clicks", "clicks_squared", "updated_at"],
    )
