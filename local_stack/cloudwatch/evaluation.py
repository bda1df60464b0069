"""How CloudWatch decides a metric alarm's state ("Alarm evaluation" and "Configuring how
CloudWatch alarms treat missing data" in the CloudWatch user guide).

- Each period's datapoint is the alarm's statistic over the values of that period; a period
  without values is missing. Periods are aligned on multiples of Period, as CloudWatch aggregates
  datapoints; the most recent one is the period under way, with its values until the evaluation time.
- CloudWatch looks at an evaluation range longer than EvaluationPeriods (N): if it holds at least
  N real datapoints, the N most recent of them decide, whatever TreatMissingData says (so an alarm
  keeps its state for a while after a metric stops). AWS does not say how much longer the range
  is; here it is EXTRA_PERIODS more periods.
- With fewer than N real datapoints, missing ones are filled as TreatMissingData says, as few as
  needed: `breaching` and `notBreaching` fill them as such; `missing` goes to INSUFFICIENT_DATA
  when all are missing and otherwise decides on the real ones; `ignore` keeps the current state
  unless the real ones decide it whatever the missing ones would be.
- ALARM when at least DatapointsToAlarm (M, default N) of the N datapoints breach, else OK.
- A percentile alarm with EvaluateLowSampleCountPercentile `ignore` keeps its state while one of
  those datapoints has fewer samples than make the percentile significant: 10 / (1 - percentile),
  1,000 for p99 ("Percentile-based alarms and low data samples").
"""

from __future__ import annotations

import bisect
import json
import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from local_stack.cloudwatch.metrics import Datapoint
from local_stack.cloudwatch.statistics import PERCENTILE, statistic

EXTRA_PERIODS = 2
_STAMP_PRECISION = 1e-3

_VERBS = {
    "GreaterThanThreshold": "greater than",
    "GreaterThanOrEqualToThreshold": "greater than or equal to",
    "LessThanThreshold": "less than",
    "LessThanOrEqualToThreshold": "less than or equal to",
}
_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}


class State(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


@dataclass(frozen=True)
class AlarmRule:
    statistic: str  # Sum, Average, ... or an extended statistic (p99)
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    datapoints_to_alarm: int | None = None
    treat_missing_data: str = "missing"
    low_sample_count: str = "evaluate"  # EvaluateLowSampleCountPercentile

    @property
    def needed(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods

    def breaches(self, value: float) -> bool:
        return _COMPARISONS[self.comparison](value, self.threshold)


@dataclass(frozen=True)
class Point:
    """One period's datapoint: `start` of the period, its statistic, None when missing."""

    start: float
    value: float | None
    samples: int = 0


@dataclass(frozen=True)
class Decision:
    state: State  # the state after this evaluation (the current one when `ignore` keeps it)
    reason: str
    reason_data: str


def periods(rule: AlarmRule, datapoints: Sequence[Datapoint], now: float) -> list[Point]:
    """The evaluation range's datapoints, most recent first (`datapoints` oldest first)."""
    stamps = [point.timestamp for point in datapoints]
    # Timestamps are kept to the microsecond: a datapoint stamped "now" may read a little later.
    until = bisect.bisect_right(stamps, now + _STAMP_PRECISION)
    current = math.floor(now / rule.period) * rule.period
    found = []
    for index in range(rule.evaluation_periods + EXTRA_PERIODS):
        start = current - index * rule.period
        first, last = (bisect.bisect_left(stamps, moment, hi=until) for moment in (start, start + rule.period))
        values = [point.value for point in datapoints[first:last]]
        found.append(Point(start, statistic(rule.statistic, values) if values else None, len(values)))
    return found


def decide(rule: AlarmRule, points: Sequence[Point], current: State, now: float) -> Decision:
    """The alarm's state given the evaluation range's datapoints (most recent first)."""
    real = [point for point in points if point.value is not None]
    wanted = rule.evaluation_periods
    evaluated = real[:wanted]
    breaching = sum(1 for point in evaluated if rule.breaches(_value(point)))
    filled = wanted - len(evaluated)
    mode = rule.treat_missing_data
    significant = minimum_samples(rule.statistic)
    if rule.low_sample_count == "ignore" and any(point.samples < significant for point in evaluated):
        reason = f"Too few samples for {rule.statistic} (fewer than {significant:.0f} in a period): state kept."
        return _decision(rule, current, reason, evaluated, now)
    if filled == 0 or (mode == "missing" and evaluated):
        needed = rule.needed if filled == 0 else min(rule.needed, len(evaluated))
        state = State.ALARM if breaching >= needed else State.OK
        return _decision(rule, state, _crossed(rule, state, evaluated, breaching, needed), evaluated, now)
    if mode == "missing" or (mode == "ignore" and not evaluated):
        state = State.INSUFFICIENT_DATA if mode == "missing" else current
        reason = f"Insufficient Data: {_count(wanted, 'datapoint')} {_was(wanted)} unknown."
        return _decision(rule, state, reason, evaluated, now)
    if mode == "ignore":
        if breaching >= rule.needed:
            state = State.ALARM
        elif breaching + filled < rule.needed:
            state = State.OK
        else:
            state = current
        return _decision(rule, state, _crossed(rule, state, evaluated, breaching, rule.needed), evaluated, now)
    as_breaching = mode == "breaching"
    total = breaching + (filled if as_breaching else 0)
    state = State.ALARM if total >= rule.needed else State.OK
    treated = "Breaching" if as_breaching else "NonBreaching"
    if evaluated:
        reason = _crossed(rule, state, evaluated, total, rule.needed).rstrip(".")
        reason += f" and {_count(filled, 'missing datapoint')} {_was(filled)} treated as [{treated}]."
    else:
        reason = (
            f"Threshold Crossed: no datapoints were received for {_count(wanted, 'period')} and "
            f"{_count(filled, 'missing datapoint')} {_was(filled)} treated as [{treated}]."
        )
    return _decision(rule, state, reason, evaluated, now)


def minimum_samples(name: str) -> float:
    """The samples a period needs for its percentile to be significant (none for other statistics)."""
    match = PERCENTILE.fullmatch(name)
    rank = float(match.group(1)) if match else 0.0
    return 1000 / (100 - rank) if 0 < rank < 100 else 0.0  # 10 / (1 - rank / 100), without rounding


def _crossed(rule: AlarmRule, state: State, evaluated: Sequence[Point], breaching: int, needed: int) -> str:
    verb = _VERBS[rule.comparison]
    shown = ", ".join(f"{_value(point)} ({_stamp(point.start)})" for point in evaluated)
    if state is State.ALARM:
        return (
            f"Threshold Crossed: {breaching} out of the last {len(evaluated)} datapoints [{shown}] {_was(breaching)} "
            f"{verb} the threshold ({float(rule.threshold)}) (minimum {_count(needed, 'datapoint')} "
            "for OK -> ALARM transition)."
        )
    return (
        f"Threshold Crossed: {_count(len(evaluated), 'datapoint')} [{shown}] {_was(len(evaluated))} not {verb} "
        f"the threshold ({float(rule.threshold)})."
    )


def _decision(rule: AlarmRule, state: State, reason: str, evaluated: Sequence[Point], now: float) -> Decision:
    data = {
        "version": "1.0",
        "queryDate": cloudwatch_time(now),
        "statistic": rule.statistic,
        "period": rule.period,
        "recentDatapoints": [_value(point) for point in evaluated],
        "threshold": float(rule.threshold),
        "evaluatedDatapoints": [
            {"timestamp": cloudwatch_time(point.start), "value": _value(point)} for point in evaluated
        ],
    }
    return Decision(state, reason, json.dumps(data))


def _value(point: Point) -> float:
    assert point.value is not None
    return point.value


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _was(number: int) -> str:
    return "was" if number == 1 else "were"


def _stamp(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%d/%m/%y %H:%M:%S")


def cloudwatch_time(moment: float) -> str:
    """CloudWatch's notation: 2026-12-05T18:04:00.123+0000."""
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
