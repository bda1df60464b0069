"""The local CloudWatch as a test watches it: the stack's alarms evaluated on the test's clock,
and what they told AlarmTopic."""

from __future__ import annotations

import json
from typing import Any

from local_stack.cloudformation.deploy import Stack
from local_stack.cloudwatch.alarms import AlarmEvaluator, StateChange
from local_stack.lambda_runtime.runtime import LocalLambda
from support.aws import TopicCapture
from support.workflow import FakeClock

# The test's clock starts this much later than the fixtures' set-up, whose requests (stamped on
# the real clock) then fall out of every alarm's evaluation range.
LATER = 3600.0


class WatchedAlarms:
    """The alarms after their first evaluation (all OK), AlarmTopic subscribed from then on."""

    def __init__(self, stack: Stack, runtime: LocalLambda, clock: FakeClock) -> None:
        self.stack = stack
        clock.now += LATER
        runtime.metrics.clock = clock
        self.evaluator = AlarmEvaluator(stack, runtime.metrics)
        self.evaluator.evaluate()
        self.started = len(self.evaluator.changes)
        self.topic = TopicCapture(stack, stack.ref("AlarmTopic"))

    def evaluate(self) -> list[StateChange]:
        return self.evaluator.evaluate()

    @property
    def changes(self) -> list[StateChange]:
        """The changes since the first evaluation, oldest first."""
        return self.evaluator.changes[self.started :]

    def fired(self, since: int = 0) -> set[str]:
        """Logical ids of the alarms that went to ALARM since the first evaluation (or since the
        first `since` changes)."""
        return {change.logical_id for change in self.changes[since:] if change.new.value == "ALARM"}

    def states(self) -> dict[str, str]:
        """Each alarm's state as `describe-alarms` shows it, by logical id."""
        names = {
            self.stack.ref(logical_id): logical_id
            for logical_id in self.stack.template.of_type("AWS::CloudWatch::Alarm")
        }
        described = self.stack.client("cloudwatch").describe_alarms(MaxRecords=100)["MetricAlarms"]
        return {names[alarm["AlarmName"]]: alarm["StateValue"] for alarm in described if alarm["AlarmName"] in names}

    def in_alarm(self) -> set[str]:
        return {logical_id for logical_id, state in self.states().items() if state == "ALARM"}

    def notifications(self) -> list[tuple[str, dict[str, Any]]]:
        """(Subject, Message) of each notification on AlarmTopic since the first evaluation."""
        return [(envelope["Subject"], json.loads(envelope["Message"])) for envelope in self.topic.notifications()]
