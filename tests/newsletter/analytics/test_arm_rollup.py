"""Issue 25: the roll-up's figures per arm (EditionArmStats), one rule per test. Recipients are an
arm's rows sent; readers in neither arm and rows not sent are not counted; only human opens
count; a clicker is a reader with a human click (Engagement.clicked_at, even with no story
recorded), their clicks their stories; an arm no longer present loses its row; an edition frozen
by retention keeps its rows; and the roll-up's queries do not grow with the edition."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.analytics import rollup
from newsletter.analytics.models import EditionArmStats, EditionStats
from newsletter.delivery.models import Delivery
from tests.newsletter.analytics.arm_seeds import clicks, opens, readers, sent_edition

pytestmark = pytest.mark.django_db
FIGURES = ("recipients", "human_openers", "clickers", "clicks", "clicks_squared")


def stored(digest) -> dict[str, tuple[int, ...]]:
    return {
        row.arm: tuple(getattr(row, name) for name in FIGURES) for row in EditionArmStats.objects.filter(digest=digest)
    }


def test_recipients_are_an_arms_rows_sent_and_neither_arm_is_not_counted() -> None:
    digest = sent_edition()
    readers(digest, 7, arm="p")
    readers(digest, 3, arm="h")
    readers(digest, 2, arm="p", status="failed")  # rejected by the ESP: not a recipient
    readers(digest, 1, arm="h", status="unknown")
    clicks(digest, readers(digest, 4, arm=""), stories=1)  # personal order off: in neither arm
    assert rollup.rollup_edition(digest_id=digest.id)
    assert stored(digest) == {"p": (7, 0, 0, 0, 0), "h": (3, 0, 0, 0, 0)}


def test_only_human_opens_count() -> None:
    digest = sent_edition()
    ids = readers(digest, 6, arm="p")
    opens(digest, ids[:2])  # human
    opens(digest, ids[2:3], machine=True)  # a machine open, then the reader's own: human
    opens(digest, ids[3:6], human=False, machine=True)  # Apple's proxy or a scanner only
    rollup.rollup_edition(digest_id=digest.id)
    assert stored(digest)["p"][:2] == (6, 3)


def test_a_clicker_clicked_by_any_human_click_and_their_clicks_are_their_stories() -> None:
    digest = sent_edition()
    ids = readers(digest, 10, arm="h")
    clicks(digest, ids[:1], stories=0)  # a click with no story recorded: a clicker
    clicks(digest, ids[1:2], stories=3)
    clicks(digest, ids[2:4], stories=2)
    rollup.rollup_edition(digest_id=digest.id)
    # 4 clickers; clicks 3 + 2 + 2 = 7; Σx² = 0 + 9 + 4 + 4 = 17
    assert stored(digest) == {"h": (10, 0, 4, 7, 17)}


def test_an_arm_no_longer_present_loses_its_row_and_no_arm_leaves_none() -> None:
    digest = sent_edition()
    readers(digest, 4, arm="p")
    holdout = readers(digest, 2, arm="h")
    rollup.rollup_edition(digest_id=digest.id)
    assert set(stored(digest)) == {"p", "h"}
    Delivery.objects.filter(digest=digest, subscriber_id__in=holdout).delete()  # e.g. erased readers
    rollup.rollup_edition(digest_id=digest.id)
    assert set(stored(digest)) == {"p"}
    Delivery.objects.filter(digest=digest).update(arm="")
    rollup.rollup_edition(digest_id=digest.id)
    assert stored(digest) == {}


def test_an_edition_frozen_by_retention_keeps_its_rows() -> None:
    digest = sent_edition()
    ids = readers(digest, 5, arm="p")
    opens(digest, ids[:2])
    rollup.rollup_edition(digest_id=digest.id)
    EditionStats.objects.filter(digest=digest).update(pruned_at=timezone.now())
    Delivery.objects.filter(digest=digest).exclude(subscriber_id=ids[0]).delete()  # a pruning's remainder
    assert rollup.rollup_edition(digest_id=digest.id) is False
    assert stored(digest) == {"p": (5, 2, 0, 0, 0)}


def test_the_rollups_queries_do_not_grow_with_the_edition() -> None:
    def queries(size: int) -> list[str]:
        digest = sent_edition()
        for arm in ("p", "h"):
            ids = readers(digest, size, arm=arm)
            opens(digest, ids[: size // 2])
            clicks(digest, ids[: size // 3], stories=2)
        with CaptureQueriesContext(connection) as captured:
            assert rollup.rollup_edition(digest_id=digest.id)
        return [q["sql"] for q in captured.captured_queries]

    small, large = queries(6), queries(60)
    assert len(small) == len(large)
    # The arms' engagement is one aggregate joining the readers who did something to their row.
    joined = [q for q in large if "newsletter_engagement" in q and "newsletter_delivery" in q]
    assert len(joined) == 1 and "GROUP BY d.arm" in joined[0]
