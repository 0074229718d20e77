"""What personal editions change, measured against the hold-out (newsletter.personal.arms): the
arms' figures side by side, each with a 95% interval, and the lift of personal over hold-out.

THE DATA. Per edition and arm, EditionArmStats (written by the roll-up, analytics.arm_stats):
n recipients (messages sent in the arm), human openers (machine opens excluded, as everywhere),
clickers (recipients with a human click) and, with x the stories one recipient clicked, Σx and
Σx². Over a window the rows of its editions are summed.

THE STATISTICS (each arm; z = 1.95996, the normal distribution's 97.5th percentile):
- Human-open rate and click rate, p = k/n, with the Wilson score interval
      centre = (p + z²/2n) / (1 + z²/n)
      half   = z / (1 + z²/n) · √(p(1 − p)/n + z²/4n²)
  rather than the textbook p ± z√(p(1 − p)/n) (Wald), which is 0 wide at k = 0 or k = n, leaves
  [0, 1] for small counts and covers far less than 95% of the time there; Wilson stays inside
  [0, 1] and close to 95% coverage (Newcombe 1998).
- Clicks per recipient, m = Σx/n, with the sample variance s² = (Σx² − n·m²)/(n − 1) and the
  normal approximation m ± z·s/√n (central limit theorem; its lower end never below 0).
- The lift of personal (P) over hold-out (H), for each of the three: the relative change
  R − 1, R = estimate_P / estimate_H, with the interval exp(ln R ± z·SE) − 1 computed on the log
  scale (a ratio's sampling distribution is skewed, its logarithm close to normal), the
  standard error by the delta method:
      rates (the Katz log method for a ratio of proportions): SE² = 1/k_P − 1/n_P + 1/k_H − 1/n_H
      clicks per recipient:                                  SE² = s_P²/(n_P·m_P²) + s_H²/(n_H·m_H²)
  An interval wholly above 0 says personal editions raised the figure, wholly below 0 that they
  lowered it; one that spans 0 says the difference cannot be told from chance at 95%. The three
  figures are not corrected for being read together.

TOO FEW TO TELL. No interval and no lift is given for a figure when either arm has fewer than
MIN_RECIPIENTS recipients, or fewer than MIN_EVENTS readers who did it (opened, clicked) or who
did not; the page says so instead of printing a number (see the constants for why).

THE WINDOW. Over the last 30 days each (edition, reader) counts as one observation. A reader's
editions are not independent (the same reader, in the same arm for a month), so the window's
intervals are somewhat narrower than the truth; the roll-up keeps counts, not readers'
histories, which is the price of a report that never scans deliveries.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from statistics import NormalDist

from django.db.models import Sum

from newsletter.personal.arms import Arm

from .models import EditionArmStats

CONFIDENCE = 0.95
Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959964
# Below 100 recipients in an arm a figure's interval is wider than any effect worth acting on:
# with a typical 5% click rate the Wilson interval of 100 readers runs from 2% to 11%. With the
# default 10% hold-out an edition needs about 1,000 readers for its hold-out to reach it.
MIN_RECIPIENTS = 100
# The normal approximations above (of ln R, of the mean) hold once each arm has about 10 readers
# who did the thing and 10 who did not (the usual "np ≥ 10 and n(1 − p) ≥ 10" rule); with fewer,
# one reader more or less swings the lift by tens of percent and the interval misleads.
MIN_EVENTS = 10
WINDOW_DAYS = 30
FIGURES = ("human_open_rate", "click_rate", "clicks_per_recipient")


@dataclass(frozen=True)
class ArmCounts:
    """One arm's counts, of one edition or summed over several (EditionArmStats' fields)."""

    recipients: int = 0
    human_openers: int = 0
    clickers: int = 0
    clicks: int = 0
    clicks_squared: int = 0

    def __add__(self, other: ArmCounts) -> ArmCounts:
        return ArmCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def sane(self) -> ArmCounts:
        """The counts clamped to what they can be (never negative, no more openers or clickers
        than recipients), so a damaged row gives odd figures, never an error page."""
        n = max(self.recipients, 0)
        return ArmCounts(
            recipients=n,
            human_openers=min(max(self.human_openers, 0), n),
            clickers=min(max(self.clickers, 0), n),
            clicks=max(self.clicks, 0),
            clicks_squared=max(self.clicks_squared, 0),
        )


@dataclass(frozen=True)
class Interval:
    low: float
    high: float


@dataclass(frozen=True)
class Estimate:
    """A figure and its 95% interval: `value` None without recipients, `interval` None when the
    arms are too few to tell."""

    value: float | None
    interval: Interval | None = None


@dataclass(frozen=True)
class FigureComparison:
    name: str  # one of FIGURES
    personal: Estimate
    holdout: Estimate
    lift: Estimate  # relative change of personal over hold-out: 0.12 is 12% higher
    enough: bool  # False: too few to tell; no interval and no lift


@dataclass(frozen=True)
class Comparison:
    personal: ArmCounts
    holdout: ArmCounts
    figures: tuple[FigureComparison, ...]

    @property
    def too_few(self) -> bool:
        return not all(figure.enough for figure in self.figures)


# --- The statistics (pure) ----------------------------------------------------------------------


def wilson(events: int, n: int, *, z: float = Z) -> Interval:
    """The Wilson score interval of the proportion events/n."""
    if n <= 0 or not 0 <= events <= n:
        raise ValueError(f"need 0 <= events <= n and n > 0, got {events}/{n}")
    p = events / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # Exact at the ends (k = 0 gives 0, k = n gives 1), which rounding would otherwise miss.
    return Interval(0.0 if events == 0 else max(0.0, centre - half), 1.0 if events == n else min(1.0, centre + half))


def mean_and_variance(total: int, total_squared: int, n: int) -> tuple[float, float]:
    """The mean and the sample variance of n values from their sum and sum of squares."""
    if n < 2:
        raise ValueError(f"need at least 2 values, got {n}")
    mean = total / n
    return mean, max(0.0, (total_squared - n * mean * mean) / (n - 1))  # never below 0 by rounding


def mean_interval(total: int, total_squared: int, n: int, *, z: float = Z) -> Interval:
    """The normal-approximation interval of the mean, from Σx, Σx² and n (values never < 0)."""
    mean, variance = mean_and_variance(total, total_squared, n)
    half = z * math.sqrt(variance / n)
    return Interval(max(0.0, mean - half), mean + half)


def ratio_lift(log_ratio: float, standard_error: float, *, z: float = Z) -> Estimate:
    """The relative change exp(ln R) − 1 and its interval from ln R and its standard error."""
    return Estimate(
        math.exp(log_ratio) - 1,
        Interval(math.exp(log_ratio - z * standard_error) - 1, math.exp(log_ratio + z * standard_error) - 1),
    )


def rate_lift(events_p: int, n_p: int, events_h: int, n_h: int, *, z: float = Z) -> Estimate:
    """Relative change of the rate events_p/n_p over events_h/n_h (Katz log method)."""
    if min(events_p, events_h) <= 0 or events_p > n_p or events_h > n_h:
        raise ValueError("both arms need 0 < events <= n")
    log_ratio = math.log((events_p / n_p) / (events_h / n_h))
    standard_error = math.sqrt(1 / events_p - 1 / n_p + 1 / events_h - 1 / n_h)
    return ratio_lift(log_ratio, standard_error, z=z)


def mean_lift(personal: ArmCounts, holdout: ArmCounts, *, z: float = Z) -> Estimate:
    """Relative change of clicks per recipient (delta method on the log of each mean)."""
    mean_p, variance_p = mean_and_variance(personal.clicks, personal.clicks_squared, personal.recipients)
    mean_h, variance_h = mean_and_variance(holdout.clicks, holdout.clicks_squared, holdout.recipients)
    if mean_p <= 0 or mean_h <= 0:
        raise ValueError("both arms need clicks")
    standard_error = math.sqrt(
        variance_p / (personal.recipients * mean_p**2) + variance_h / (holdout.recipients * mean_h**2)
    )
    return ratio_lift(math.log(mean_p / mean_h), standard_error, z=z)


def enough(events: int, n: int) -> bool:
    """Whether a rate of one arm is measured well enough to compare (see MIN_*)."""
    return n >= MIN_RECIPIENTS and MIN_EVENTS <= events <= n - MIN_EVENTS


def _rate(events: int, n: int, *, with_interval: bool) -> Estimate:
    if n <= 0:
        return Estimate(None)
    return Estimate(events / n, wilson(events, n) if with_interval else None)


def _clicks_per_recipient(arm: ArmCounts, *, with_interval: bool) -> Estimate:
    if arm.recipients <= 0:
        return Estimate(None)
    interval = mean_interval(arm.clicks, arm.clicks_squared, arm.recipients) if with_interval else None
    return Estimate(arm.clicks / arm.recipients, interval)


def compare(personal: ArmCounts, holdout: ArmCounts) -> Comparison:
    """The three figures of both arms, with intervals and lifts where there are enough readers."""
    p, h = personal.sane(), holdout.sane()
    compared = []
    for name, attribute in (("human_open_rate", "human_openers"), ("click_rate", "clickers")):
        k_p, k_h = getattr(p, attribute), getattr(h, attribute)
        ok = enough(k_p, p.recipients) and enough(k_h, h.recipients)
        lift = rate_lift(k_p, p.recipients, k_h, h.recipients) if ok else Estimate(None)
        compared.append(
            FigureComparison(
                name, _rate(k_p, p.recipients, with_interval=ok), _rate(k_h, h.recipients, with_interval=ok), lift, ok
            )
        )
    # Clicks per recipient: the readers who clicked are its events (a mean of mostly zeros needs
    # as many clickers as the click rate does), and both arms need some spread.
    ok = enough(p.clickers, p.recipients) and enough(h.clickers, h.recipients)
    ok = ok and p.clicks > 0 and h.clicks > 0
    lift = mean_lift(p, h) if ok else Estimate(None)
    ok = ok and lift.interval is not None and lift.interval.low < lift.interval.high
    compared.append(
        FigureComparison(
            "clicks_per_recipient",
            _clicks_per_recipient(p, with_interval=ok),
            _clicks_per_recipient(h, with_interval=ok),
            lift if ok else Estimate(None),
            ok,
        )
    )
    return Comparison(p, h, tuple(compared))


# --- Selectors (EditionArmStats only: never the deliveries) ---------------------------------------

COUNTS = tuple(f.name for f in fields(ArmCounts))


def _comparison(rows: dict[str, ArmCounts]) -> Comparison | None:
    if not rows:
        return None  # no arm at all: personal editions off, or sent before them
    return compare(rows.get(Arm.PERSONAL, ArmCounts()), rows.get(Arm.HOLDOUT, ArmCounts()))


def edition_comparison(*, digest_id: int) -> Comparison | None:
    """One edition's arms side by side (one query); None when it has no arm."""
    rows = EditionArmStats.objects.filter(digest_id=digest_id, arm__in=[Arm.PERSONAL, Arm.HOLDOUT])
    return _comparison({row.arm: ArmCounts(**{name: getattr(row, name) for name in COUNTS}) for row in rows})


def recent_comparison(*, now: datetime, days: int = WINDOW_DAYS) -> Comparison | None:
    """The arms summed over the editions whose send started in the `days` before `now` (one
    query); None when none of them has an arm."""
    rows = (
        EditionArmStats.objects.filter(
            arm__in=[Arm.PERSONAL, Arm.HOLDOUT],
            digest__sending_started_at__gt=now - timedelta(days=days),
            digest__sending_started_at__lte=now,
        )
        .values("arm")
        .annotate(**{f"total_{name}": Sum(name) for name in COUNTS})
        .order_by()
        .values_list("arm", *(f"total_{name}" for name in COUNTS))
    )
    return _comparison({arm: ArmCounts(*(int(total or 0) for total in totals)) for arm, *totals in rows})
