"""The SNS message CloudWatch publishes to an alarm's actions when its state changes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from local_stack.cloudwatch.evaluation import AlarmRule, State, cloudwatch_time
from local_stack.cloudwatch.metrics import Dimensions

REGION_NAMES = {"us-east-1": "US East (N. Virginia)"}
_STATISTIC_NAMES = {
    "Sum": "SUM",
    "Average": "AVERAGE",
    "Minimum": "MINIMUM",
    "Maximum": "MAXIMUM",
    "SampleCount": "SAMPLE_COUNT",
}


@dataclass(frozen=True)
class AlarmDefinition:
    """A metric alarm as deployed: what it watches, how, and whom it tells."""

    logical_id: str
    name: str
    arn: str
    description: str
    namespace: str
    metric_name: str
    dimensions: Dimensions
    rule: AlarmRule
    ok_actions: Sequence[str]
    alarm_actions: Sequence[str]
    insufficient_data_actions: Sequence[str]
    unit: str | None
    configuration_updated: datetime
    evaluate_low_sample_count_percentile: str = ""

    def actions(self, state: State) -> Sequence[str]:
        return {
            State.OK: self.ok_actions,
            State.ALARM: self.alarm_actions,
            State.INSUFFICIENT_DATA: self.insufficient_data_actions,
        }[state]


def subject(alarm: AlarmDefinition, new: State, region: str) -> str:
    return f'{new.value}: "{alarm.name}" in {REGION_NAMES.get(region, region)}'[:100]


def message(
    alarm: AlarmDefinition, old: State, new: State, reason: str, changed_at: float, account_id: str, region: str
) -> dict[str, Any]:
    rule = alarm.rule
    extended = rule.statistic not in _STATISTIC_NAMES
    trigger: dict[str, Any] = {
        "MetricName": alarm.metric_name,
        "Namespace": alarm.namespace,
        "StatisticType": "ExtendedStatistic" if extended else "Statistic",
        ("ExtendedStatistic" if extended else "Statistic"): rule.statistic
        if extended
        else _STATISTIC_NAMES[rule.statistic],
        "Unit": alarm.unit,
        "Dimensions": [{"value": value, "name": name} for name, value in alarm.dimensions],
        "Period": rule.period,
        "EvaluationPeriods": rule.evaluation_periods,
        "DatapointsToAlarm": rule.needed,
        "ComparisonOperator": rule.comparison,
        "Threshold": float(rule.threshold),
        "TreatMissingData": rule.treat_missing_data,
        "EvaluateLowSampleCountPercentile": alarm.evaluate_low_sample_count_percentile,
    }
    return {
        "AlarmName": alarm.name,
        "AlarmDescription": alarm.description,
        "AWSAccountId": account_id,
        "AlarmConfigurationUpdatedTimestamp": cloudwatch_time(alarm.configuration_updated.timestamp()),
        "NewStateValue": new.value,
        "NewStateReason": reason,
        "StateChangeTime": cloudwatch_time(changed_at),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm.arn,
        "OldStateValue": old.value,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
        "Trigger": trigger,
    }
