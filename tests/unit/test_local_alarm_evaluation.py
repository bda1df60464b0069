"""The local CloudWatch decides an alarm's state as CloudWatch documents it ("Alarm evaluation",
"Configuring how CloudWatch alarms treat missing data"): statistic per period, M out of N,
comparison with the threshold, and each way of treating missing data."""

from __future__ import annotations

import json

import pytest

from local_stack.cloudwatch.evaluation import EXTRA_PERIODS, AlarmRule, Point, State, decide, minimum_samples, periods
from local_stack.cloudwatch.metrics import Datapoint
from local_stack.cloudwatch.statistics import statistic

NOW = 1_700_000_000.0
X, NO, MISSING = 5.0, 0.0, None  # breaching, not breaching (threshold 1, greater than), missing


def rule(**overrides: object) -> AlarmRule:
    settings: dict[str, object] = {
        "statistic": "Sum",
        "period": 60,
        "evaluation_periods": 3,
        "threshold": 1.0,
        "comparison": "GreaterThanThreshold",
        "treat_missing_data": "missing",
    } | overrides
    return AlarmRule(**settings)  # type: ignore[arg-type]


def points(*values: float | None) -> list[Point]:
    """Most recent first, as `periods` returns them."""
    return [Point(NOW - (index + 1) * 60, value) for index, value in enumerate(values)]


def state(alarm: AlarmRule, *values: float | None, current: State = State.OK) -> State:
    return decide(alarm, points(*values), current, NOW).state


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Sum", 10.0),
        ("Average", 2.5),
        ("Minimum", 1.0),
        ("Maximum", 4.0),
        ("SampleCount", 4.0),
        ("p50", 2.0),
        ("p99", 4.0),
    ],
)
def test_each_statistic_of_a_periods_values(name: str, expected: float) -> None:
    assert statistic(name, [3.0, 1.0, 4.0, 2.0]) == expected


def test_percentiles_take_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert (statistic("p99", values), statistic("p90", values), statistic("p100", values)) == (99.0, 90.0, 100.0)
    with pytest.raises(ValueError, match="unsupported statistic"):
        statistic("Median", values)


@pytest.mark.parametrize(
    ("comparison", "below", "at", "above"),
    [
        ("GreaterThanThreshold", State.OK, State.OK, State.ALARM),
        ("GreaterThanOrEqualToThreshold", State.OK, State.ALARM, State.ALARM),
        ("LessThanThreshold", State.ALARM, State.OK, State.OK),
        ("LessThanOrEqualToThreshold", State.ALARM, State.ALARM, State.OK),
    ],
)
def test_each_comparison_operator_at_and_around_the_threshold(
    comparison: str, below: State, at: State, above: State
) -> None:
    alarm = rule(comparison=comparison, evaluation_periods=1, threshold=1.0)
    assert (state(alarm, 0.5), state(alarm, 1.0), state(alarm, 1.5)) == (below, at, above)


def test_m_out_of_n_alarms_when_m_of_the_last_n_datapoints_breach() -> None:
    two_of_three = rule(datapoints_to_alarm=2)
    assert state(two_of_three, X, NO, X) is State.ALARM
    assert state(two_of_three, NO, NO, X) is State.OK
    # Without DatapointsToAlarm, every one of the N must breach.
    assert state(rule(), X, X, NO) is State.OK
    assert state(rule(), X, X, X) is State.ALARM


def test_the_reason_names_the_datapoints_the_comparison_and_the_minimum() -> None:
    decision = decide(rule(datapoints_to_alarm=2), points(X, NO, X), State.OK, NOW)
    assert decision.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (14/11/23 22:12:20), 0.0 (14/11/23 22:11:20), "
        "5.0 (14/11/23 22:10:20)] were greater than the threshold (1.0) "
        "(minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert json.loads(decision.reason_data)["recentDatapoints"] == [5.0, 0.0, 5.0]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("missing", State.INSUFFICIENT_DATA),
        ("ignore", State.ALARM),  # the current state is kept
        ("breaching", State.ALARM),
        ("notBreaching", State.OK),
    ],
)
def test_a_range_without_any_datapoint_is_decided_by_treat_missing_data(mode: str, expected: State) -> None:
    alarm = rule(treat_missing_data=mode)
    assert state(alarm, *[MISSING] * (3 + EXTRA_PERIODS), current=State.ALARM) is expected
    assert state(alarm, *[MISSING] * (3 + EXTRA_PERIODS), current=State.OK) is (
        State.OK if mode == "ignore" else expected
    )


@pytest.mark.parametrize("mode", ["missing", "ignore", "breaching", "notBreaching"])
def test_enough_real_datapoints_in_the_range_decide_whatever_the_mode(mode: str) -> None:
    """0 X X - X (oldest first): the three most recent real datapoints breach; 0 - X - X: not all do."""
    alarm = rule(treat_missing_data=mode)
    assert state(alarm, X, MISSING, X, X, NO) is State.ALARM
    assert state(alarm, X, MISSING, X, MISSING, NO, current=State.ALARM) is State.OK


@pytest.mark.parametrize(
    ("mode", "one_breaching", "one_not_breaching"),
    [
        ("missing", State.ALARM, State.OK),  # decided on the real datapoints
        ("ignore", State.INSUFFICIENT_DATA, State.OK),  # kept unless the real ones decide
        ("breaching", State.ALARM, State.OK),  # X X X / B B 0: two of three
        ("notBreaching", State.OK, State.OK),
    ],
)
def test_too_few_real_datapoints_are_completed_as_treat_missing_data_says(
    mode: str, one_breaching: State, one_not_breaching: State
) -> None:
    alarm = rule(treat_missing_data=mode)
    assert state(alarm, MISSING, MISSING, X, MISSING, MISSING, current=State.INSUFFICIENT_DATA) is one_breaching
    assert state(alarm, NO, MISSING, MISSING, MISSING, MISSING, current=State.INSUFFICIENT_DATA) is one_not_breaching


def test_not_breaching_reason_when_nothing_was_received() -> None:
    decision = decide(
        rule(evaluation_periods=1, treat_missing_data="notBreaching"), points(*[MISSING] * 3), State.ALARM, NOW
    )
    assert (decision.state, decision.reason) == (
        State.OK,
        "Threshold Crossed: no datapoints were received for 1 period and "
        "1 missing datapoint was treated as [NonBreaching].",
    )


def test_periods_are_aligned_on_the_period_and_the_latest_is_the_one_under_way() -> None:
    alarm = rule(statistic="Sum", evaluation_periods=2)
    start = 1_699_999_980.0  # a multiple of 60
    now = start + 10
    datapoints = [
        Datapoint(start - 181, 100.0),  # before the range of 2 + EXTRA_PERIODS periods
        Datapoint(start - 180, 3.0),  # the start of the range's oldest period
        Datapoint(start - 60, 7.0),
        Datapoint(start - 1, 2.0),
        Datapoint(start, 1.0),  # the period under way
        Datapoint(now, 2.0),  # at the evaluation time: counted
        Datapoint(now + 0.000_000_5, 1.0),  # the same moment, stamped to the microsecond
        Datapoint(now + 1, 50.0),  # after the evaluation time
    ]
    found = periods(alarm, datapoints, now)
    assert [(point.start, point.value) for point in found] == [
        (start, 4.0),
        (start - 60, 9.0),
        (start - 120, None),
        (start - 180, 3.0),
    ]
    assert len(found) == alarm.evaluation_periods + EXTRA_PERIODS


@pytest.mark.parametrize(("samples", "expected"), [(999, State.OK), (1000, State.ALARM)])
def test_a_p99_alarm_that_ignores_low_sample_counts_keeps_its_state_below_1000_samples(
    samples: int, expected: State
) -> None:
    alarm = rule(statistic="p99", evaluation_periods=1, threshold=1000.0, low_sample_count="ignore")
    slow = [Point(NOW - 60, 3000.0, samples)]
    assert decide(alarm, slow, State.OK, NOW).state is expected
    evaluated_anyway = rule(statistic="p99", evaluation_periods=1, threshold=1000.0)  # the default: evaluate
    assert decide(evaluated_anyway, slow, State.OK, NOW).state is State.ALARM


def test_the_significant_sample_count_of_a_percentile() -> None:
    assert (minimum_samples("p99"), minimum_samples("p90"), minimum_samples("p50")) == (1000.0, 100.0, 20.0)
    assert (minimum_samples("p100"), minimum_samples("Sum")) == (0.0, 0.0)
