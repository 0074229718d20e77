"""Issue 25: the comparison's statistics (newsletter.analytics.experiment) as pure functions: the
Wilson interval at its ends, its symmetry and published values; the mean's interval from Σx and
Σx²; the lift on the log scale; the "too few to tell" thresholds; and, for any counts at all, a
comparison that never fails and whose intervals hold their estimates."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsletter.analytics import experiment
from newsletter.analytics.experiment import MIN_EVENTS, MIN_RECIPIENTS, ArmCounts, Z, compare, wilson


def test_z_is_the_normal_975th_percentile() -> None:
    assert round(Z, 6) == 1.959964


@pytest.mark.parametrize("n", [1, 2, 10, 100, 12_345])
def test_wilson_at_zero_and_at_n(n: int) -> None:
    # k = 0: from 0 to z²/(n + z²); k = n: from n/(n + z²) to 1 (the formulas at p = 0 and 1).
    assert wilson(0, n) == experiment.Interval(0.0, pytest.approx(Z * Z / (n + Z * Z)))
    assert wilson(n, n) == experiment.Interval(pytest.approx(n / (n + Z * Z)), 1.0)


@given(n=st.integers(1, 100_000), data=st.data())
def test_wilson_is_symmetric_holds_the_rate_and_stays_in_0_1(n: int, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, n))
    interval, mirror = wilson(k, n), wilson(n - k, n)
    assert interval.low == pytest.approx(1 - mirror.high, abs=1e-12)
    assert interval.high == pytest.approx(1 - mirror.low, abs=1e-12)
    assert 0.0 <= interval.low <= k / n <= interval.high <= 1.0


def test_wilson_known_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17, table I: 81/263 -> 0.2553 to 0.3662.
    assert (round(wilson(81, 263).low, 4), round(wilson(81, 263).high, 4)) == (0.2553, 0.3662)
    # 10/100: 0.0552 to 0.1744; 1/2 is symmetric about 0.5.
    assert (round(wilson(10, 100).low, 4), round(wilson(10, 100).high, 4)) == (0.0552, 0.1744)
    assert wilson(1, 2).low == pytest.approx(1 - wilson(1, 2).high)


def test_wilson_narrows_as_readers_grow() -> None:
    widths = [wilson(n // 10, n).high - wilson(n // 10, n).low for n in (100, 1_000, 10_000)]
    assert widths[0] > widths[1] > widths[2]


@pytest.mark.parametrize(("events", "n"), [(-1, 10), (11, 10), (0, 0)])
def test_wilson_refuses_impossible_counts(events: int, n: int) -> None:
    with pytest.raises(ValueError):
        wilson(events, n)


def test_the_mean_interval_from_the_sum_and_the_sum_of_squares() -> None:
    # Values 0, 0, 1, 3: Σx = 4, Σx² = 10, m = 1, s² = (10 − 4·1)/3 = 2, half = z·√(2/4) = 1.385904.
    interval = experiment.mean_interval(4, 10, 4)
    assert interval.low == 0.0  # 1 − 1.39 would be below 0: clicks never are
    assert interval.high == pytest.approx(1 + Z * math.sqrt(0.5))
    # Everyone clicked 2 stories: no spread, a zero-width interval.
    assert experiment.mean_interval(200, 400, 100) == experiment.Interval(2.0, 2.0)


def test_the_lift_of_rates_is_the_katz_log_interval() -> None:
    # 30/100 over 20/100: R = 1.5; SE² = 1/30 − 1/100 + 1/20 − 1/100 = 0.063333.
    lift = experiment.rate_lift(30, 100, 20, 100)
    se = math.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 100)
    assert lift.value == pytest.approx(0.5)
    assert lift.interval == experiment.Interval(
        pytest.approx(1.5 * math.exp(-Z * se) - 1), pytest.approx(1.5 * math.exp(Z * se) - 1)
    )


@given(k_p=st.integers(1, 500), extra_p=st.integers(0, 500), k_h=st.integers(1, 500), extra_h=st.integers(0, 500))
def test_swapping_the_arms_inverts_the_ratio(k_p: int, extra_p: int, k_h: int, extra_h: int) -> None:
    forward = experiment.rate_lift(k_p, k_p + extra_p, k_h, k_h + extra_h)
    backward = experiment.rate_lift(k_h, k_h + extra_h, k_p, k_p + extra_p)
    assert forward.value is not None and backward.value is not None
    assert forward.interval is not None and backward.interval is not None
    assert (1 + forward.value) * (1 + backward.value) == pytest.approx(1)
    assert (1 + forward.interval.low) * (1 + backward.interval.high) == pytest.approx(1)
    assert forward.interval.low <= forward.value <= forward.interval.high


def test_equal_arms_show_no_lift_and_an_interval_around_zero() -> None:
    arm = ArmCounts(recipients=1000, human_openers=250, clickers=80, clicks=120, clicks_squared=260)
    for figure in compare(arm, arm).figures:
        assert figure.enough and figure.lift.value == pytest.approx(0)
        assert figure.lift.interval is not None and figure.lift.interval.low < 0 < figure.lift.interval.high


def test_too_few_to_tell_below_the_thresholds() -> None:
    enough = ArmCounts(
        recipients=MIN_RECIPIENTS, human_openers=MIN_EVENTS, clickers=MIN_EVENTS, clicks=20, clicks_squared=50
    )
    assert not compare(enough, enough).too_few
    for short in (
        ArmCounts(MIN_RECIPIENTS - 1, MIN_EVENTS, MIN_EVENTS, 20, 50),  # too few recipients
        ArmCounts(MIN_RECIPIENTS, MIN_EVENTS - 1, MIN_EVENTS - 1, 20, 50),  # too few who did it
        ArmCounts(MIN_RECIPIENTS, MIN_RECIPIENTS - MIN_EVENTS + 1, MIN_RECIPIENTS - MIN_EVENTS + 1, 200, 500),
    ):
        for personal, holdout in ((short, enough), (enough, short)):
            comparison = compare(personal, holdout)
            assert comparison.too_few
            for figure in comparison.figures:
                if not figure.enough:
                    assert figure.lift == experiment.Estimate(None)
                    assert figure.personal.interval is None and figure.holdout.interval is None


def test_an_arm_without_recipients_has_no_figures() -> None:
    comparison = compare(ArmCounts(recipients=500, human_openers=100), ArmCounts())
    assert all(f.holdout.value is None and not f.enough for f in comparison.figures)


counts = st.integers(-5, 3_000)


@given(st.tuples(counts, counts, counts, counts, counts), st.tuples(counts, counts, counts, counts, counts))
def test_any_counts_compare_without_failing(personal: tuple[int, ...], holdout: tuple[int, ...]) -> None:
    # A damaged row (more clickers than recipients, a negative count) gives odd figures, never a 500.
    comparison = compare(ArmCounts(*personal), ArmCounts(*holdout))
    for figure in comparison.figures:
        for estimate in (figure.personal, figure.holdout, figure.lift):
            if estimate.interval is not None:
                assert estimate.value is not None
                assert estimate.interval.low <= estimate.value + 1e-9 <= estimate.interval.high + 2e-9
                assert all(math.isfinite(x) for x in (estimate.interval.low, estimate.interval.high))
