"""Issue 25, done means: the report's personal vs hold-out figures, computed by the roll-up from
seeded deliveries, opens and clicks, match a table computed by hand here (the arithmetic in the
comments, z = 1.959964); the dashboard's 30-day block shows the same for the same edition.
Then: machine opens are never counted, an edition with too few readers says so and prints no
lift, the 30-day window leaves out an edition sent 31 days ago, and an edition without arms
says so in one sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from newsletter.admin import arm_comparison
from newsletter.analytics import experiment, rollup
from newsletter.analytics.models import EditionArmStats
from tests.newsletter.analytics.arm_seeds import arm_block, arm_table, clicks, opens, readers, sent_edition
from tests.newsletter.analytics.report_pages import editor_client
from tests.typography import dot_separators, western_digits

pytestmark = pytest.mark.django_db
TOO_FEW = "العدد قليل للحكم"
# Noon in Baghdad on an ordinary day, far from any real date.
NOON = datetime(2031, 5, 14, 9, 0, tzinfo=UTC)


@pytest.fixture
def editor() -> Client:
    return editor_client("editor-arms")


def report(editor: Client, digest_id: int) -> str:
    response = editor.get(reverse("admin:newsletter_digest_report", args=[digest_id]))
    assert response.status_code == 200
    return response.content.decode()


def dashboard(editor: Client) -> str:
    response = editor.get(reverse("admin:newsletter_digest_dashboard"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def seeded_edition():
    """400 personal readers and 100 in the hold-out, with opens and clicks; and rows that must
    not count (readers in neither arm, rows not sent, machine opens)."""
    digest = sent_edition()
    personal = readers(digest, 400, arm="p")
    holdout = readers(digest, 100, arm="h")
    # Not counted: readers in neither arm (personal order off) who opened and clicked, and rows of
    # the arms that were not sent (the ESP's answer unknown) though they show an open.
    opens(digest, readers(digest, 50, arm=""))
    clicks(digest, readers(digest, 20, arm=""), stories=2)
    opens(digest, readers(digest, 5, arm="p", status="unknown"))
    opens(digest, readers(digest, 5, arm="h", status="failed"))

    # Human opens: 120 personal readers (10 of them after a machine open), 20 hold-out readers.
    opens(digest, personal[:110])
    opens(digest, personal[110:120], machine=True)
    opens(digest, holdout[:20])
    # Machine opens only (Apple's proxy, scanners): 50 personal, 30 hold-out readers. Counted,
    # the open rates would read (120 + 50) / 400 = 42.5% and (20 + 30) / 100 = 50.0%.
    opens(digest, personal[200:250], human=False, machine=True)
    opens(digest, holdout[50:80], human=False, machine=True)

    # Clicks, personal: 38 readers clicked 1 story, 20 readers 3 stories, 1 reader 2 stories, and
    # 1 reader's click has no story recorded (Engagement.clicked_at only): 60 readers who clicked,
    # 100 clicks.
    clicks(digest, personal[:38], stories=1)
    clicks(digest, personal[38:58], stories=3)
    clicks(digest, personal[58:59], stories=2)
    clicks(digest, personal[59:60], stories=0)
    # Hold-out: 8 readers clicked 1 story, 2 readers 2 stories: 10 readers, 12 clicks.
    clicks(digest, holdout[:8], stories=1)
    clicks(digest, holdout[8:10], stories=2)

    assert rollup.rollup_edition(digest_id=digest.id)
    return digest


# The table, by hand. Wilson: d = 1 + z²/n, centre = (p + z²/2n)/d, half = (z/d)·√(p(1−p)/n + z²/4n²).
HAND_TABLE = {
    "recipients": ("٤٠٠", "١٠٠", "—"),
    # Personal 120/400 = 30.0%: d = 1.009604, centre = 0.301902, half = 0.044735 -> 25.7% to 34.7%.
    # Hold-out 20/100 = 20.0%: d = 1.038415, centre = 0.211098, half = 0.077731 -> 13.3% to 28.9%.
    # Lift: R = 0.30/0.20 = 1.5, +50.0%; SE² = 1/120 − 1/400 + 1/20 − 1/100 = 0.045833,
    # SE = 0.214087, z·SE = 0.419603, ln R = 0.405465: exp(−0.014138) − 1 = −1.4%,
    # exp(0.825068) − 1 = +128.2%. The interval spans 0: not told from chance.
    "human_open_rate": (
        "٣٠٫٠٪ (من ٢٥٫٧٪ إلى ٣٤٫٧٪)",
        "٢٠٫٠٪ (من ١٣٫٣٪ إلى ٢٨٫٩٪)",
        "أعلى بنسبة ٥٠٫٠٪ (من أقل بنسبة ١٫٤٪ إلى أعلى بنسبة ١٢٨٫٢٪)",
    ),
    # Personal 60/400 = 15.0%: centre = 0.153329, half = 0.034984 -> 11.8% to 18.8%.
    # Hold-out 10/100 = 10.0%: centre = 0.114797, half = 0.059568 -> 5.5% to 17.4%.
    # Lift: R = 1.5, +50.0%; SE² = 1/60 − 1/400 + 1/10 − 1/100 = 0.104167, SE = 0.322749,
    # z·SE = 0.632576: exp(0.405465 − 0.632576) − 1 = −20.3%, exp(1.038041) − 1 = +182.4%.
    "click_rate": (
        "١٥٫٠٪ (من ١١٫٨٪ إلى ١٨٫٨٪)",
        "١٠٫٠٪ (من ٥٫٥٪ إلى ١٧٫٤٪)",
        "أعلى بنسبة ٥٠٫٠٪ (من أقل بنسبة ٢٠٫٣٪ إلى أعلى بنسبة ١٨٢٫٤٪)",
    ),
    # Personal: Σx = 38 + 60 + 2 + 0 = 100, Σx² = 38·1 + 20·9 + 1·4 = 222, m = 100/400 = 0.25,
    # s² = (222 − 400·0.25²)/399 = 0.493734, z·√(s²/400) = 0.068860 -> 0.18 to 0.32.
    # Hold-out: Σx = 8 + 4 = 12, Σx² = 8 + 2·4 = 16, m = 0.12, s² = (16 − 100·0.12²)/99 = 0.147071,
    # z·√(s²/100) = 0.075164 -> 0.04 to 0.20.
    # Lift: R = 0.25/0.12 = 2.0833, +108.3%; SE² = 0.493734/(400·0.0625) + 0.147071/(100·0.0144)
    # = 0.019749 + 0.102132 = 0.121882, SE = 0.349116, z·SE = 0.684254, ln R = 0.733969:
    # exp(0.049715) − 1 = +5.1%, exp(1.418223) − 1 = +313.0%. Wholly above 0: personal raised it.
    "clicks_per_recipient": (
        "٠٫٢٥ (من ٠٫١٨ إلى ٠٫٣٢)",
        "٠٫١٢ (من ٠٫٠٤ إلى ٠٫٢٠)",
        "أعلى بنسبة ١٠٨٫٣٪ (من أعلى بنسبة ٥٫١٪ إلى أعلى بنسبة ٣١٣٫٠٪)",
    ),
}


def test_the_report_and_the_dashboard_show_the_hand_computed_table(seeded_edition, editor) -> None:
    stored = {row.arm: row for row in EditionArmStats.objects.filter(digest=seeded_edition)}
    assert set(stored) == {"p", "h"}  # no row for readers in neither arm
    p, h = stored["p"], stored["h"]
    assert (p.recipients, p.human_openers, p.clickers, p.clicks, p.clicks_squared) == (400, 120, 60, 100, 222)
    assert (h.recipients, h.human_openers, h.clickers, h.clicks, h.clicks_squared) == (100, 20, 10, 12, 16)

    page = report(editor, seeded_edition.id)
    assert arm_table(page) == HAND_TABLE
    assert TOO_FEW not in arm_block(page)
    # The same edition is the only one of the last 30 days: the dashboard's block agrees.
    assert arm_table(dashboard(editor)) == HAND_TABLE
    # Numbers read right: no dot beside a digit, no Western digit in the Arabic block.
    assert not dot_separators(arm_block(page)) and not western_digits(arm_block(page))


def test_machine_opens_are_never_counted(seeded_edition, editor) -> None:
    # 50 personal and 30 hold-out readers opened by machine only: the rates stay 30.0% and 20.0%.
    personal, holdout, _lift = arm_table(report(editor, seeded_edition.id))["human_open_rate"]
    assert personal.startswith("٣٠٫٠٪") and holdout.startswith("٢٠٫٠٪")
    # Hold-out readers whose opens were all machine opens: their open rate is 0, not 30%.
    digest = sent_edition()
    ids = readers(digest, 100, arm="h")
    readers(digest, 100, arm="p")
    opens(digest, ids[:30], human=False, machine=True)
    rollup.rollup_edition(digest_id=digest.id)
    assert EditionArmStats.objects.get(digest=digest, arm="h").human_openers == 0
    assert arm_table(report(editor, digest.id))["human_open_rate"][1] == "٠٫٠٪"


def test_too_few_readers_says_so_and_prints_no_lift(editor) -> None:
    digest = sent_edition()
    personal = readers(digest, 40, arm="p")
    holdout = readers(digest, 5, arm="h")
    opens(digest, personal[:20] + holdout[:2])
    clicks(digest, personal[:10] + holdout[:1], stories=1)
    rollup.rollup_edition(digest_id=digest.id)

    page = report(editor, digest.id)
    table = arm_table(page)
    assert table["recipients"] == ("٤٠", "٥", "—")
    for figure in experiment.FIGURES:
        personal_cell, holdout_cell, lift = table[figure]
        assert lift == TOO_FEW  # no number in the lift column
        assert "(" not in personal_cell and "(" not in holdout_cell  # no interval
    assert table["human_open_rate"][:2] == ("٥٠٫٠٪", "٤٠٫٠٪")  # what happened, as it is
    block = arm_block(page)
    assert "«العدد قليل للحكم» حين تقل إحدى المجموعتين عن ١٠٠ مستلم" in block
    assert "أعلى بنسبة" not in block and "أقل بنسبة" not in block


def test_enough_readers_but_too_few_clickers_tells_the_opens_only(editor) -> None:
    digest = sent_edition()
    personal = readers(digest, 300, arm="p")
    holdout = readers(digest, 100, arm="h")
    opens(digest, personal[:90] + holdout[:25])
    clicks(digest, personal[:12] + holdout[:4], stories=1)  # 4 hold-out clickers: fewer than 10
    rollup.rollup_edition(digest_id=digest.id)

    table = arm_table(report(editor, digest.id))
    assert table["human_open_rate"][2].startswith("أعلى بنسبة ٢٠٫٠٪ (")  # 30% over 25%
    assert table["click_rate"][2] == table["clicks_per_recipient"][2] == TOO_FEW


def test_the_30_day_window_leaves_out_an_edition_sent_31_days_ago(time_machine) -> None:
    time_machine.move_to(NOON, tick=False)
    editor = editor_client("editor-window")  # logged in at NOON: the session is valid then
    counts = {"human_openers": 30, "clickers": 20, "clicks": 25, "clicks_squared": 35}
    old = sent_edition(started=NOON - timedelta(days=31))
    recent = sent_edition(started=NOON - timedelta(days=29))
    for digest, personal, holdout in ((old, 5000, 700), (recent, 300, 200)):
        EditionArmStats.objects.create(digest=digest, arm="p", recipients=personal, **counts)
        EditionArmStats.objects.create(digest=digest, arm="h", recipients=holdout, **counts)

    assert arm_table(dashboard(editor))["recipients"] == ("٣٠٠", "٢٠٠", "—")  # the recent edition only
    comparison = experiment.recent_comparison(now=NOON)
    assert comparison is not None and comparison.personal.recipients == 300
    # Two days later the recent one is 31 days old too: nothing left to compare.
    time_machine.move_to(NOON + timedelta(days=2), tick=False)
    assert experiment.recent_comparison(now=timezone.now()) is None
    assert "لا مقارنة في آخر ٣٠ يومًا" in arm_block(dashboard(editor))


def test_an_edition_without_arms_says_so_in_one_sentence(editor) -> None:
    digest = sent_edition()
    opens(digest, readers(digest, 10, arm=""))  # personal editions off: every row in neither arm
    rollup.rollup_edition(digest_id=digest.id)
    page = report(editor, digest.id)
    assert not EditionArmStats.objects.filter(digest=digest).exists()
    assert arm_table(page) == {} and '<table class="arm-comparison"' not in page
    assert arm_block(page).startswith("لا مقارنة في هذا العدد")


def test_the_report_reads_the_arms_in_one_query_and_never_the_deliveries(seeded_edition, editor) -> None:
    url = reverse("admin:newsletter_digest_report", args=[seeded_edition.id])
    editor.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert editor.get(url).status_code == 200
    sql = [q["sql"] for q in captured.captured_queries]
    assert len([q for q in sql if "newsletter_editionarmstats" in q]) == 1
    assert not [q for q in sql if "newsletter_delivery" in q or "newsletter_engagement" in q]


def test_english_writes_changes_with_signs() -> None:
    comparison = experiment.compare(
        experiment.ArmCounts(400, 120, 60, 100, 222), experiment.ArmCounts(100, 20, 10, 12, 16)
    )
    with translation.override("en"):
        table = arm_comparison.table(comparison)
    assert table is not None
    lift = next(row.lift for row in table.rows if row.key == "human_open_rate")
    assert (lift.value, lift.interval) == ("+50.0%", "(−1.4% to +128.2%)")
