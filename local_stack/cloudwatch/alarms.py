"""The template's metric alarms in moto's CloudWatch, and their evaluation as time passes.

An alarm starts in INSUFFICIENT_DATA, as on AWS (moto would start it in OK). The first evaluation
moves it: with `notBreaching` and no datapoint yet, to OK (what AWS shows minutes after a deploy),
and that change is notified like any other. CloudWatch evaluates every minute: an evaluation that
comes later catches up, evaluating at each minute's start since the last and then now, so that a
state held for a minute is seen even when tests make an hour pass at once.

What CloudWatch does inside the service (an alarm's new state, its actions' notifications, SQS's
queue depth) is done on moto's backends in this process, as reset.py does: none of it is a request
that a principal of the account makes, so none reaches the least-privilege recorder, and none pays
for a request's round trip through botocore and moto's parsing (two for each alarm that changes).
The alarms are read through the API, as a console reads them.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from moto.cloudwatch.models import cloudwatch_backends
from moto.sns.models import sns_backends
from moto.sqs.exceptions import QueueDoesNotExist
from moto.sqs.models import sqs_backends

from local_stack.cloudwatch.evaluation import AlarmRule, State, decide, periods
from local_stack.cloudwatch.metrics import MetricSink, dimensions
from local_stack.cloudwatch.notifications import AlarmDefinition, message, subject

if TYPE_CHECKING:
    from local_stack.cloudformation.deploy import Stack

TICK_SECONDS = 60.0  # CloudWatch evaluates alarms every minute
MAX_TICKS = 24 * 60  # catching up on more than a day evaluates its last day only
QUEUE_DEPTH = ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
_PASSED = (
    "AlarmDescription",
    "Namespace",
    "MetricName",
    "Dimensions",
    "Statistic",
    "ExtendedStatistic",
    "Period",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "AlarmActions",
    "OKActions",
    "InsufficientDataActions",
    "Unit",
    "ActionsEnabled",
)


def metric_alarm(stack: Stack, logical_id: str, properties: dict[str, Any]) -> dict[str, Any]:
    """AWS::CloudWatch::Alarm, created in moto in INSUFFICIENT_DATA."""
    name = properties.get("AlarmName") or stack.physical_name(logical_id, 255)
    cloudwatch = stack.client("cloudwatch")
    passed = {key: properties[key] for key in _PASSED if key in properties}
    cloudwatch.put_metric_alarm(AlarmName=name, **passed)
    cloudwatch.set_alarm_state(
        AlarmName=name, StateValue="INSUFFICIENT_DATA", StateReason="Unchecked: Initial alarm creation"
    )
    arn = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]
    return {"Ref": name, "Arn": arn, "Properties": properties}


@dataclass(frozen=True)
class StateChange:
    at: float
    logical_id: str
    name: str
    old: State
    new: State
    reason: str

    def line(self) -> str:
        moment = datetime.fromtimestamp(self.at, UTC).strftime("%H:%M:%S")
        return f"[alarm] {moment} {self.name}: {self.old.value} → {self.new.value} ({self.reason})"


def states_summary(changes: list[StateChange]) -> str:
    """`65 OK`, or `63 OK, 2 ALARM`: the states that these changes left their alarms in."""
    counted = Counter(change.new.value for change in changes)
    return ", ".join(f"{count} {state}" for state, count in sorted(counted.items()))


class AlarmEvaluator:
    """Evaluates every metric alarm of moto's CloudWatch against the sink's datapoints; a change
    sets the alarm's state in moto and is published to its actions' SNS topics."""

    def __init__(self, stack: Stack, sink: MetricSink, report: Callable[[StateChange], None] | None = None) -> None:
        self.stack = stack
        self.sink = sink
        self.report = report
        self.changes: list[StateChange] = []
        self._logical_ids = {
            stack.ref(logical_id): logical_id
            for logical_id in stack.template.of_type("AWS::CloudWatch::Alarm")
            if logical_id in stack.created
        }
        self._evaluated_at: float | None = None
        self._lock = threading.Lock()

    def evaluate(self) -> list[StateChange]:
        """Evaluate every alarm at each minute since the last evaluation and now; the changes."""
        with self._lock:
            now = self.sink.clock()
            alarms, states = self._alarms()
            self._sample_queues(alarms)
            series = self.sink.series()
            changes = []
            for tick in self._ticks(now):
                for alarm in alarms:
                    points = periods(
                        alarm.rule, series.get((alarm.namespace, alarm.metric_name, alarm.dimensions), []), tick
                    )
                    decision = decide(alarm.rule, points, states[alarm.name], tick)
                    if decision.state is states[alarm.name]:
                        continue
                    change = StateChange(
                        tick, alarm.logical_id, alarm.name, states[alarm.name], decision.state, decision.reason
                    )
                    self._apply(alarm, change, decision.reason_data)
                    states[alarm.name] = decision.state
                    changes.append(change)
            self._evaluated_at = now
            self.changes.extend(changes)
            return changes

    def _ticks(self, now: float) -> list[float]:
        """Each minute's start since the last evaluation (as CloudWatch evaluates every minute),
        then now."""
        if self._evaluated_at is None:
            return [now]
        first = math.floor(max(self._evaluated_at, now - MAX_TICKS * TICK_SECONDS) / TICK_SECONDS) + 1
        minutes = [minute * TICK_SECONDS for minute in range(first, math.ceil(now / TICK_SECONDS))]
        return [*minutes, now]

    def _alarms(self) -> tuple[list[AlarmDefinition], dict[str, State]]:
        alarms, states = [], {}
        for page in self.stack.client("cloudwatch").get_paginator("describe_alarms").paginate():
            for described in page["MetricAlarms"]:
                alarms.append(
                    _definition(described, self._logical_ids.get(described["AlarmName"], described["AlarmName"]))
                )
                states[described["AlarmName"]] = State(described["StateValue"])
        return alarms, states

    def _sample_queues(self, alarms: list[AlarmDefinition]) -> None:
        """SQS reports queue depth on its own (every minute on AWS): sampled at each evaluation."""
        sqs = sqs_backends[self.sink.account_id][self.sink.region]
        watched = {
            dict(alarm.dimensions).get("QueueName")
            for alarm in alarms
            if (alarm.namespace, alarm.metric_name) == QUEUE_DEPTH
        }
        for queue_name in sorted(name for name in watched if name):
            try:
                visible = sqs.get_queue(queue_name).approximate_number_of_messages
            except QueueDoesNotExist:
                continue
            self.sink.put(*QUEUE_DEPTH, {"QueueName": queue_name}, float(visible))

    def _apply(self, alarm: AlarmDefinition, change: StateChange, reason_data: str) -> None:
        account, region = self.sink.account_id, self.sink.region
        cloudwatch_backends[account][region].set_alarm_state(
            alarm.name, change.reason[:1023], reason_data, change.new.value
        )
        if self.report:
            self.report(change)
        notice = message(alarm, change.old, change.new, change.reason, change.at, account, region)
        for action in alarm.actions(change.new):
            if action.startswith("arn:aws:sns:"):
                sns_backends[account][region].publish(
                    json.dumps(notice), arn=action, subject=subject(alarm, change.new, region)
                )


def _definition(described: dict[str, Any], logical_id: str) -> AlarmDefinition:
    rule = AlarmRule(
        statistic=described.get("Statistic") or described["ExtendedStatistic"],
        period=int(described["Period"]),
        evaluation_periods=int(described["EvaluationPeriods"]),
        threshold=float(described["Threshold"]),
        comparison=described["ComparisonOperator"],
        datapoints_to_alarm=described.get("DatapointsToAlarm"),
        treat_missing_data=described.get("TreatMissingData") or "missing",
        low_sample_count=described.get("EvaluateLowSampleCountPercentile") or "evaluate",
    )
    enabled = described.get("ActionsEnabled", True)
    return AlarmDefinition(
        logical_id=logical_id,
        name=described["AlarmName"],
        arn=described["AlarmArn"],
        description=described.get("AlarmDescription", ""),
        namespace=described["Namespace"],
        metric_name=described["MetricName"],
        dimensions=dimensions({d["Name"]: d["Value"] for d in described.get("Dimensions", [])}),
        rule=rule,
        ok_actions=described.get("OKActions", []) if enabled else [],
        alarm_actions=described.get("AlarmActions", []) if enabled else [],
        insufficient_data_actions=described.get("InsufficientDataActions", []) if enabled else [],
        unit=described.get("Unit"),
        configuration_updated=described["AlarmConfigurationUpdatedTimestamp"],
        evaluate_low_sample_count_percentile=described.get("EvaluateLowSampleCountPercentile", ""),
    )
