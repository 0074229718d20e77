"""The personal-editions comparison as the report and the dashboard show it: one row per figure
(recipients, human-open rate, readers who clicked, clicks per recipient), the personal arm, the
hold-out and the lift side by side, each value with its 95% interval
(newsletter.analytics.experiment computes them; this module only writes them out).

Every number goes through sitewide.dates (NUMERALS: Arabic-Indic digits, ٫ and ٪ by default).
A change is written in words in Arabic ("أعلى بنسبة ١٢٫٣٪", "أقل بنسبة ٤٫٠٪") rather than with a
sign: a "+" or "−" beside Arabic-Indic digits moves about in right-to-left text, and "−٤٫٠٪" is
easily read as its opposite. The English catalogue writes them "+12.3%" and "−4.0%".
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from newsletter.analytics import experiment
from sitewide.dates import decimal, digits, grouped, percent


@dataclass(frozen=True)
class Cell:
    value: str  # "—" without recipients
    interval: str = ""  # "(من ٢٥٫٧٪ إلى ٣٤٫٧٪)"; empty: none (a count, or too few to tell)


@dataclass(frozen=True)
class Row:
    key: str  # "recipients" or one of experiment.FIGURES: the table row's data-arm-figure
    label: str
    personal: Cell
    holdout: Cell
    lift: Cell
    too_few: bool = False

    @property
    def cells(self) -> tuple[tuple[Cell, str], ...]:
        """The row's cells with their column (the table cell's data-arm): personal, hold-out, lift."""
        return ((self.personal, "p"), (self.holdout, "h"), (self.lift, "lift"))


@dataclass(frozen=True)
class Table:
    rows: list[Row]
    too_few: bool  # some figure could not be told: the page says why
    min_recipients: str  # the thresholds, in the page's numerals, for that sentence
    min_events: str


def _percent(fraction: float) -> str:
    return percent(f"{100 * fraction:.1f}")


def _change(fraction: float) -> str:
    """A relative change in words: "أعلى بنسبة ١٢٫٣٪", "أقل بنسبة ٤٫٠٪", or "٠٫٠٪"."""
    size = f"{abs(100 * fraction):.1f}"
    if float(size) == 0:
        return percent(size)
    if fraction > 0:
        return _("أعلى بنسبة %(value)s") % {"value": percent(size)}
    return _("أقل بنسبة %(value)s") % {"value": percent(size)}


def _between(low: str, high: str) -> str:
    return _("(من %(low)s إلى %(high)s)") % {"low": low, "high": high}


def _rate_cell(estimate: experiment.Estimate) -> Cell:
    if estimate.value is None:
        return Cell("—")
    interval = estimate.interval
    shown = _between(_percent(interval.low), _percent(interval.high)) if interval else ""
    return Cell(_percent(estimate.value), shown)


def _mean_cell(estimate: experiment.Estimate) -> Cell:
    if estimate.value is None:
        return Cell("—")
    interval = estimate.interval
    shown = _between(decimal(f"{interval.low:.2f}"), decimal(f"{interval.high:.2f}")) if interval else ""
    return Cell(decimal(f"{estimate.value:.2f}"), shown)


def _lift_cell(figure: experiment.FigureComparison) -> Cell:
    lift = figure.lift
    if not figure.enough or lift.value is None or lift.interval is None:
        return Cell(_("العدد قليل للحكم"))
    return Cell(_change(lift.value), _between(_change(lift.interval.low), _change(lift.interval.high)))


def table(comparison: experiment.Comparison | None) -> Table | None:
    """The rows to show; None when there is no arm (the page says so in one sentence)."""
    if comparison is None:
        return None
    labels = {
        "human_open_rate": _("نسبة الفتح البشري"),
        "click_rate": _("نسبة القرّاء الذين نقروا"),
        "clicks_per_recipient": _("نقرات لكل مستلم"),
    }
    rows = [
        Row(
            "recipients",
            _("المستلمون (الرسائل المُرسلة)"),
            Cell(grouped(comparison.personal.recipients)),
            Cell(grouped(comparison.holdout.recipients)),
            Cell("—"),
        )
    ]
    for figure in comparison.figures:
        cell = _mean_cell if figure.name == "clicks_per_recipient" else _rate_cell
        rows.append(
            Row(
                figure.name,
                labels[figure.name],
                cell(figure.personal),
                cell(figure.holdout),
                _lift_cell(figure),
                too_few=not figure.enough,
            )
        )
    return Table(
        rows,
        too_few=comparison.too_few,
        min_recipients=grouped(experiment.MIN_RECIPIENTS),
        min_events=digits(experiment.MIN_EVENTS),
    )


def rate_cell(estimate: experiment.Estimate) -> Cell:
    """A rate and its interval as the comparison writes them (the subject-test table uses it)."""
    return _rate_cell(estimate)
