"""Every fault class fires exactly its alarms, and CloudWatch's notification reaches AlarmTopic:
the faults of support.alarm_faults.FAULTS injected into the whole stack (functions, workflows,
queues, both APIs), then the template's alarms evaluated by the local CloudWatch on the test's clock."""

from __future__ import annotations

import itertools
import json
import math
import os
import socket
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import pytest
from botocore.client import BaseClient
from moto.awslambda.models import LambdaBackend
from moto.dynamodb.models import DynamoDBBackend
from moto.stepfunctions.parser.asl.component.program.program import Program

from local_stack.cloudwatch.alarms import AlarmEvaluator
from local_stack.cloudwatch.evaluation import EXTRA_PERIODS, cloudwatch_time
from local_stack.cloudwatch.publishers import ApiMetrics, MeteredFunction
from local_stack.lambda_runtime.functions import FunctionError, Throttled
from local_stack.lambda_runtime.workers import FunctionPool
from support import seed
from support.alarm_faults import FAULTS, Fault
from support.alarms import WatchedAlarms
from support.api import ApiClient, route_templates
from support.aws import ServerFaultError, TopicCapture, failing_backend_call
from support.workflow import process, wait_for_execution

REGION_NAME = "US East (N. Virginia)"


@pytest.fixture
def alarms(stack, local_lambda, clock):
    return WatchedAlarms(stack, local_lambda, clock)


# -- the faults ----------------------------------------------------------------------------------
def crash(request: pytest.FixtureRequest, function: str) -> None:
    """An event the handler cannot read: an unhandled exception of the real code."""
    with pytest.raises(FunctionError):
        request.getfixturevalue("local_lambda").invoke(function, "not an event")


def throttle(request: pytest.FixtureRequest, function: str) -> None:
    stack = request.getfixturevalue("stack")
    stack.client("lambda").put_function_concurrency(FunctionName=stack.ref(function), ReservedConcurrentExecutions=0)
    with pytest.raises(Throttled):
        request.getfixturevalue("local_lambda").invoke(function, {})


def dead_letter(request: pytest.FixtureRequest, queue: str) -> None:
    stack = request.getfixturevalue("stack")
    fifo = {"MessageGroupId": "g", "MessageDeduplicationId": "d"} if stack.ref(queue).endswith(".fifo") else {}
    stack.client("sqs").send_message(QueueUrl=stack.ref(queue), MessageBody='{"dead": "letter"}', **fifo)


def retries_exhausted(request: pytest.FixtureRequest, function: str) -> None:
    local_lambda = request.getfixturevalue("local_lambda")
    local_lambda.invoke_async(function, "not an event")
    assert local_lambda.run_pending() == 3  # the first attempt and Lambda's two retries


def failed_execution(request: pytest.FixtureRequest, machine: str) -> None:
    stack = request.getfixturevalue("stack")
    if machine == "OrderWorkflow":
        # Lambda's service fails ValidateOrder on every attempt: the order ends FAILED (no function ran).
        monkeypatch = request.getfixturevalue("monkeypatch")
        outage = lambda backend, name, *args, **kwargs: "-ValidateOrderFunction:" in name  # noqa: E731
        with failing_backend_call(monkeypatch, LambdaBackend, "invoke", outage, ServerFaultError("ServiceException")):
            assert _order_processed(request)["status"] == "FAILED"
        return
    assert _started(stack, machine, "{}")["status"] == "FAILED"  # an input it cannot read


def timed_out_execution(request: pytest.FixtureRequest, machine: str) -> None:
    """The execution reaches its TimeoutSeconds before its first state (moto would wait for it)."""
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setattr(Program, "eval", lambda program, env: env.set_timed_out())
    if machine == "OrderWorkflow":  # a real order: the watcher ends it FAILED (EXECUTION_TIMED_OUT)
        assert _order_processed(request)["status"] == "TIMED_OUT"
        return
    assert _started(request.getfixturevalue("stack"), machine, "{}")["status"] == "TIMED_OUT"


def timeout(request: pytest.FixtureRequest, api: str) -> None:
    """The storefront in a worker process (as under make dev) whose DynamoDB endpoint accepts the
    connection and never answers: the invocation runs past its timeout and the worker is stopped."""
    stack, local_lambda = request.getfixturevalue("stack"), request.getfixturevalue("local_lambda")
    hanging = socket.create_server(("127.0.0.1", 0))
    request.addfinalizer(hanging.close)
    spec = stack.functions["StorefrontFunction"]
    environment = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{hanging.getsockname()[1]}"}
    pool = FunctionPool(spec, environment)
    request.addfinalizer(pool.stop)
    storefront = ApiClient(
        MeteredFunction(spec, pool, local_lambda.metrics),
        route_templates(stack.template, api),
        http_api=True,
        metrics=ApiMetrics(stack, api, local_lambda.metrics),
    )
    response = storefront.get("/products/widget-1", timeout=1.0)
    assert (response.status, response.body) == (500, {"message": "Internal Server Error"})


def server_error(request: pytest.FixtureRequest, api: str) -> None:
    back_office, monkeypatch = request.getfixturevalue("back_office"), request.getfixturevalue("monkeypatch")
    every_read = lambda *args, **kwargs: True  # noqa: E731
    with failing_backend_call(monkeypatch, DynamoDBBackend, "get_item", every_read, ServerFaultError()):
        response = back_office.get("/inventory/widget-1")
    assert response.status == 500


def slow(request: pytest.FixtureRequest, api: str) -> None:
    """DynamoDB takes 1.5 s (on the test's clock) to answer 11 of 1,001 reads in five minutes: the
    slowest 1 % of the requests, as many as the alarm's p99 needs to be significant."""
    clock, monkeypatch = request.getfixturevalue("clock"), request.getfixturevalue("monkeypatch")
    client = request.getfixturevalue("storefront" if api == "StorefrontApi" else "back_office")
    path = "/products/widget-1" if api == "StorefrontApi" else "/inventory/widget-1"
    original = DynamoDBBackend.get_item
    reads = itertools.count(1)

    def read(backend: DynamoDBBackend, *args: Any, **kwargs: Any) -> Any:
        if next(reads) > 990:
            clock.now += 1.5
        return original(backend, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "get_item", read)
    clock.now = math.ceil(clock.now / 300) * 300  # all in one five-minute period
    assert [client.get(path).status for _ in range(1001)] == [404] * 1001


def provider_outage(request: pytest.FixtureRequest, provider: str) -> None:
    """The provider answers 503 until the order has waited once for it (before PaymentMaxWait)."""
    payments, clock = request.getfixturevalue("payments"), request.getfixturevalue("clock")
    payments.set_mode("unavailable")
    clock.on_wait = lambda: payments.set_mode("ok")
    assert _order_processed(request)["status"] == "SUCCEEDED"
    assert clock.waits == [60]


INJECT: dict[str, Callable[[pytest.FixtureRequest, str], None]] = {
    "crash": crash,
    "throttle": throttle,
    "dead letter": dead_letter,
    "retries exhausted": retries_exhausted,
    "failed execution": failed_execution,
    "timed-out execution": timed_out_execution,
    "timeout": timeout,
    "5xx": server_error,
    "slow": slow,
    "provider outage": provider_outage,
}


def _order_processed(request: pytest.FixtureRequest) -> dict[str, Any]:
    back_office, storefront = request.getfixturevalue("back_office"), request.getfixturevalue("storefront")
    request.getfixturevalue("payments")
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    return process(request.getfixturevalue("local_lambda"), request.getfixturevalue("stack"), order_id)


def _started(stack: Any, machine: str, given: str) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=stack.ref(machine), name=f"fault-{machine}", input=given)["executionArn"]
    return wait_for_execution(stack, arn)


# -- the tests -----------------------------------------------------------------------------------
@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.id)
def test_each_fault_fires_exactly_its_alarms_and_notifies_alarm_topic(fault: Fault, request, stack, alarms):
    INJECT[fault.kind](request, fault.target)
    request.getfixturevalue("local_lambda").settle()

    alarms.evaluate()

    assert alarms.fired() == fault.alarms
    assert alarms.in_alarm() == (set() if fault.over else fault.alarms)
    described = {
        alarm["AlarmName"]: alarm
        for alarm in stack.client("cloudwatch").describe_alarms(MaxRecords=100)["MetricAlarms"]
    }
    notifications = alarms.notifications()
    names = sorted(stack.ref(alarm) for alarm in fault.alarms)
    back = [(name, "ALARM", "OK") for name in names] if fault.over else []
    assert sorted((m["AlarmName"], m["OldStateValue"], m["NewStateValue"]) for _, m in notifications) == sorted(
        [*((name, "OK", "ALARM") for name in names), *back]
    )
    for subject, message in notifications:
        name = message["AlarmName"]
        alarm = described[name]
        assert subject == f'{message["NewStateValue"]}: "{name}" in {REGION_NAME}'
        if message["NewStateValue"] == "ALARM":
            assert message["NewStateReason"].startswith("Threshold Crossed: 1 out of the last 1 datapoints [")
        assert message["AlarmDescription"] == alarm["AlarmDescription"]
        trigger = message["Trigger"]
        assert (trigger["Namespace"], trigger["MetricName"], trigger["Period"]) == (
            alarm["Namespace"],
            alarm["MetricName"],
            alarm["Period"],
        )
        assert trigger["Dimensions"] == [{"value": d["Value"], "name": d["Name"]} for d in sorted_dimensions(alarm)]
        assert message["AlarmActions"] == message["OKActions"] == [stack.ref("AlarmTopic")]
    latest = {message["AlarmName"]: message for _, message in notifications}  # oldest first: the last wins
    assert {name: latest[name]["NewStateReason"] for name in names} == {
        name: described[name]["StateReason"] for name in names
    }


def test_an_evaluation_is_cloudwatchs_own_work_not_requests_of_the_account(stack, local_lambda, clock):
    """The state changes, their notifications and the queue depths are CloudWatch's and SQS's doing,
    inside the services: the only request is the one that reads the alarms, as a console would."""
    topic = TopicCapture(stack, stack.ref("AlarmTopic"))
    alarm_names = {stack.ref(alarm) for alarm in stack.template.of_type("AWS::CloudWatch::Alarm")}
    evaluator = AlarmEvaluator(stack, local_lambda.metrics)
    with patch.object(BaseClient, "_make_api_call", autospec=True, side_effect=BaseClient._make_api_call) as requests:
        changes = evaluator.evaluate()  # the first: every alarm leaves INSUFFICIENT_DATA

    assert [call.args[1] for call in requests.call_args_list] == ["DescribeAlarms"]
    assert sorted(change.name for change in changes) == sorted(alarm_names)
    notified = [json.loads(envelope["Message"]) for envelope in topic.notifications()]
    assert sorted((message["AlarmName"], message["NewStateValue"]) for message in notified) == sorted(
        (name, "OK") for name in alarm_names
    )
    described = stack.client("cloudwatch").describe_alarms(MaxRecords=100)["MetricAlarms"]
    assert {alarm["AlarmName"]: alarm["StateValue"] for alarm in described} == dict.fromkeys(alarm_names, "OK")


def stamp(moment: float) -> str:
    """How a datapoint's period is named in a state reason."""
    return datetime.fromtimestamp(moment, UTC).strftime("%d/%m/%y %H:%M:%S")


def sorted_dimensions(alarm: dict[str, Any]) -> list[dict[str, str]]:
    return sorted(alarm["Dimensions"], key=lambda dimension: dimension["Name"])


def test_a_crash_notifies_in_cloudwatchs_shape_and_the_alarm_returns_to_ok_once_the_errors_stop(
    request, stack, alarms, clock
):
    crash_at = clock.now
    crash(request, "ValidateOrderFunction")
    alarms.evaluate()
    name = stack.ref("ValidateOrderErrorsAlarm")

    # Until the errors' minute leaves the evaluation range, it is the latest datapoint there.
    minute = crash_at // 60 * 60
    clock.now = minute + (1 + EXTRA_PERIODS) * 60 - 1
    assert alarms.evaluate() == []
    clock.now += 1  # no datapoint in the range: notBreaching
    [recovered] = alarms.evaluate()

    assert (recovered.logical_id, recovered.old.value, recovered.new.value) == (
        "ValidateOrderErrorsAlarm",
        "ALARM",
        "OK",
    )
    [(alarm_subject, alarm), (ok_subject, ok)] = alarms.notifications()
    described = stack.client("cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    assert alarm_subject == f'ALARM: "{name}" in {REGION_NAME}'
    assert alarm == {
        "AlarmName": name,
        "AlarmDescription": described["AlarmDescription"],
        "AWSAccountId": "123456789012",
        "AlarmConfigurationUpdatedTimestamp": alarm["AlarmConfigurationUpdatedTimestamp"],
        "NewStateValue": "ALARM",
        "NewStateReason": (
            f"Threshold Crossed: 1 out of the last 1 datapoints [1.0 ({stamp(minute)})] was greater than "
            "the threshold (0.0) (minimum 1 datapoint for OK -> ALARM transition)."
        ),
        "StateChangeTime": cloudwatch_time(crash_at),
        "Region": REGION_NAME,
        "AlarmArn": f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{name}",
        "OldStateValue": "OK",
        "OKActions": [stack.ref("AlarmTopic")],
        "AlarmActions": [stack.ref("AlarmTopic")],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "Errors",
            "Namespace": "AWS/Lambda",
            "StatisticType": "Statistic",
            "Statistic": "SUM",
            "Unit": None,
            "Dimensions": [{"value": stack.ref("ValidateOrderFunction"), "name": "FunctionName"}],
            "Period": 60,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": 0.0,
            "TreatMissingData": "notBreaching",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    assert alarm["AlarmConfigurationUpdatedTimestamp"] == cloudwatch_time(
        described["AlarmConfigurationUpdatedTimestamp"].timestamp()
    )
    assert ok_subject == f'OK: "{name}" in {REGION_NAME}'
    assert (ok["OldStateValue"], ok["NewStateValue"], ok["StateChangeTime"]) == (
        "ALARM",
        "OK",
        cloudwatch_time(clock.now),
    )
    assert ok["NewStateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[NonBreaching]."
    )
    assert (described["StateValue"], described["StateReason"]) == ("OK", ok["NewStateReason"])
