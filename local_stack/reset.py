"""Puts a deployed stack back as `deploy` left it, in a fraction of the time a new deployment takes:
the tests share one stack per process and reset it before each test.

It works on moto's backends in this process (what `deploy` made through the API, read back and
emptied in place), so that nothing it does is an AWS request: the least-privilege recorder sees the
tests' calls only. What a fresh deployment has and the reset restores:

- every table of the stack empty, with an empty stream; DynamoDB's idempotency tokens forgotten;
- every queue empty (in flight and deleted messages too); every bucket empty;
- the user pools without users (nor their tokens, nor group memberships);
- no execution of any state machine: running ones are stopped first (an ending execution writes,
  sends and publishes), then all are forgotten, so that names can be used again;
- the template's SNS subscriptions only, and no notification sent; no email sent (SES);
- the rules of the template with their own targets only; no log events; no metric datapoints;
  each alarm in the state it was created in; each secret's value as deployed;
- each function's reserved concurrency as the template sets it;
- and nothing the stack did not create: tables, queues, buckets, topics, rules, buses, pools, log
  groups, alarms and state machines that a test made are deleted.

What lives outside moto (the payment provider, the local runtime, environment variables) is reset
by whoever owns it.
"""

from __future__ import annotations

import copy
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from moto.awslambda.models import lambda_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.cognitoidp.models import cognitoidp_backends
from moto.dynamodb.models import dynamodb_backends
from moto.events.models import events_backends
from moto.logs.models import logs_backends
from moto.s3.models import FakeKey, FakeMultipart, s3_backends
from moto.secretsmanager.models import secretsmanager_backends
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack
from local_stack.cloudformation.template import REGION
from local_stack.moto_patches.adapter import stop_waiting_callbacks
from local_stack.moto_patches.dynamodb import CLIENT_REQUEST_TOKENS

STOP_TIMEOUT = 10.0  # how long a stopped execution may take to end


@dataclass
class _Deployed:
    """What the stack's resources held right after `deploy`, where a test may change it in place."""

    alarms: dict[str, dict[str, Any]] = field(default_factory=dict)
    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    rule_targets: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)


_ALARM_STATE = ("state_value", "state_reason", "state_reason_data", "state_updated_timestamp", "history")
_SECRET_STATE = ("secret_string", "versions", "default_version_id")


class StackReset:
    """`StackReset(stack)` right after `deploy(...)`; then `reset()` makes the stack as deployed."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.names = _names(stack)
        cloudwatch = cloudwatch_backends[ACCOUNT_ID][REGION]
        secrets = secretsmanager_backends[ACCOUNT_ID][REGION].secrets
        self.deployed = _Deployed(
            alarms={
                name: {key: copy.deepcopy(getattr(cloudwatch.alarms[name], key)) for key in _ALARM_STATE}
                for name in self.names["AWS::CloudWatch::Alarm"]
            },
            secrets={
                arn: {key: copy.deepcopy(getattr(secrets[arn], key)) for key in _SECRET_STATE}
                for arn in self.names["AWS::SecretsManager::Secret"]
            },
            rule_targets={
                (bus, rule.name): copy.deepcopy(rule.targets)
                for bus, rule in _rules()
                if rule.name in self.names["AWS::Events::Rule"]
            },
        )

    def __call__(self) -> None:
        _stop_executions()
        self._step_functions()
        self._dynamodb()
        self._sqs()
        self._s3()
        self._sns()
        self._events()
        self._cognito()
        self._ses()
        self._logs()
        self._cloudwatch()
        self._secrets()
        self._lambda()

    def _step_functions(self) -> None:
        backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
        machines = self.names["AWS::StepFunctions::StateMachine"]
        backend.state_machines = [machine for machine in backend.state_machines if machine.arn in machines]
        for machine in backend.state_machines:
            machine.executions.clear()

    def _dynamodb(self) -> None:
        backend = dynamodb_backends[ACCOUNT_ID][REGION]
        _keep_only(backend.tables, self.names["AWS::DynamoDB::Table"])
        for table in backend.tables.values():
            table.items = defaultdict(dict)
            if table.stream_shard is not None:
                table.stream_shard.items.clear()
        CLIENT_REQUEST_TOKENS.forget(backend)

    def _sqs(self) -> None:
        backend = sqs_backends[ACCOUNT_ID][REGION]
        _keep_only(backend.queues, self.names["AWS::SQS::Queue"])
        for queue in backend.queues.values():
            with queue._messages_lock:
                queue._messages = []
                queue._pending_messages = set()
                queue.deleted_messages = set()
                queue.last_purged_at = None

    def _s3(self) -> None:
        backend = s3_backends[ACCOUNT_ID]["aws"]
        for name, bucket in list(backend.buckets.items()):
            versions = [version for _, listed in bucket.keys.lists() for version in listed]
            for stored in [*versions, *bucket.multiparts.values()]:
                if isinstance(stored, FakeKey | FakeMultipart):  # not a delete marker
                    stored.dispose()  # its temporary file
            bucket.keys.clear()
            bucket.multiparts.clear()
            if name not in self.names["AWS::S3::Bucket"]:
                backend.delete_bucket(name)  # and its name, which S3 keeps across accounts

    def _sns(self) -> None:
        backend = sns_backends[ACCOUNT_ID][REGION]
        for arn in set(backend.topics) - self.names["AWS::SNS::Topic"]:
            backend.delete_topic(arn)
        _keep_only(backend.subscriptions, self.names["AWS::SNS::Subscription"])
        for topic in backend.topics.values():
            topic.sent_notifications.clear()

    def _events(self) -> None:
        backend = events_backends[ACCOUNT_ID][REGION]
        _keep_only(backend.event_buses, self.names["AWS::Events::EventBus"] | {"default"})
        for bus, rule in list(_rules()):
            targets = self.deployed.rule_targets.get((bus, rule.name))
            if targets is None:
                del backend.event_buses[bus].rules[rule.name]
            else:
                rule.targets = copy.deepcopy(targets)

    def _cognito(self) -> None:
        backend = cognitoidp_backends[ACCOUNT_ID][REGION]
        _keep_only(backend.user_pools, self.names["AWS::Cognito::UserPool"])
        for pool in backend.user_pools.values():
            for tokens in (pool.users, pool.refresh_tokens, pool.access_tokens, pool.id_tokens):
                tokens.clear()
            for group in pool.groups.values():
                group.users.clear()

    def _ses(self) -> None:
        backend = ses_backends[ACCOUNT_ID][REGION]
        backend.sent_messages.clear()
        backend.sent_message_count = 0

    def _logs(self) -> None:
        backend = logs_backends[ACCOUNT_ID][REGION]
        _keep_only(backend.groups, self.names["AWS::Logs::LogGroup"])
        for group in backend.groups.values():
            group.streams.clear()

    def _cloudwatch(self) -> None:
        backend = cloudwatch_backends[ACCOUNT_ID][REGION]
        backend.metric_data.clear()
        for name, alarm in list(backend.alarms.items()):
            deployed = self.deployed.alarms.get(name)
            if deployed is None:
                del backend.alarms[name]
            else:
                for key, value in deployed.items():
                    setattr(alarm, key, copy.deepcopy(value))

    def _secrets(self) -> None:
        secrets = secretsmanager_backends[ACCOUNT_ID][REGION].secrets
        for arn, deployed in self.deployed.secrets.items():
            for key, value in deployed.items():
                setattr(secrets[arn], key, copy.deepcopy(value))

    def _lambda(self) -> None:
        backend = lambda_backends[ACCOUNT_ID][REGION]
        for logical_id in self.stack.template.of_type("AWS::Lambda::Function"):
            reserved = self.stack.created[logical_id]["Properties"].get("ReservedConcurrentExecutions")
            function = backend.get_function(self.stack.ref(logical_id))
            function.reserved_concurrency = None if reserved is None else int(reserved)


def _names(stack: Stack) -> dict[str, set[str]]:
    """The physical names (ARNs where moto keys them so) of the stack's resources, by type."""
    keys = {
        "AWS::SQS::Queue": "QueueName",
        "AWS::Events::EventBus": "Name",
        "AWS::StepFunctions::StateMachine": "Arn",
    }
    names: dict[str, set[str]] = defaultdict(set)
    for logical_id, resource in stack.template.resources.items():
        created = stack.created.get(logical_id)
        if created is not None and not created.get("RecordedOnly"):
            names[resource["Type"]].add(created[keys.get(resource["Type"], "Ref")])
    return names


def _keep_only(resources: dict[str, Any], names: set[str]) -> None:
    """Delete what the stack did not create."""
    for name in set(resources) - names:
        del resources[name]


def _rules() -> list[tuple[str, Any]]:
    backend = events_backends[ACCOUNT_ID][REGION]
    return [(bus_name, rule) for bus_name, bus in backend.event_buses.items() for rule in bus.rules.values()]


def _stop_executions() -> None:
    """Stop every running execution and wait until each has ended."""
    backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
    # The parser backend's state machines hold its own executions (moto's annotation names the other kind).
    listed = [cast(Execution, execution) for machine in backend.state_machines for execution in machine.executions]
    running = [execution for execution in listed if execution.exec_status == ExecutionStatus.RUNNING]
    for stopped in running:
        stopped.stop(stop_date=datetime.now(UTC), error="States.Aborted", cause="reset")
        worker = stopped.exec_worker
        if worker is not None and worker.env is not None:
            stop_waiting_callbacks(worker.env)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(e.exec_status == ExecutionStatus.RUNNING for e in running):
        if time.monotonic() > deadline:
            raise TimeoutError("executions still running after they were stopped")
        time.sleep(0.01)
