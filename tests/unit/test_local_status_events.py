"""A gap of moto that the local adapter fills: Step Functions puts an "Execution Status Change"
event on the default bus when an execution of a Standard workflow ends, which rules (the order
workflow's watcher, here a queue) react to. moto emits none. And every execution, Express too, is
counted in CloudWatch's AWS/States metrics as Step Functions counts it, which the template's alarms
read: moto publishes none."""

import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from support.workflow import wait_for_execution

ROLE = "arn:aws:iam::123456789012:role/local-status-events"
DEFINITION = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.outcome", "StringEquals": "pass", "Next": "Done"},
                {"Variable": "$.outcome", "StringEquals": "fail", "Next": "Broken"},
            ],
            "Default": "Linger",
        },
        "Done": {"Type": "Pass", "Result": "delivered", "ResultPath": "$.result", "End": True},
        "Broken": {"Type": "Fail", "Error": "Order.Broken", "Cause": "the test said so"},
        "Linger": {"Type": "Wait", "Seconds": 300, "Next": "Done"},
    },
}
TIMING_OUT = {
    "StartAt": "Linger",
    "TimeoutSeconds": 1,
    "States": {"Linger": {"Type": "Wait", "Seconds": 30, "End": True}},
}


@pytest.fixture
def sfn(stack, local_lambda):
    """Step Functions with the adapter active (as under `make dev`)."""
    return stack.client("stepfunctions")


def machine(sfn, name, definition, kind="STANDARD"):
    created = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE, type=kind)
    return created["stateMachineArn"]


@pytest.fixture
def received(stack):
    """Subscribe a queue to the default bus's status changes of the given machines; returns a
    function that collects `count` events from it."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = sqs.create_queue(QueueName="status-changes")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def subscribe(*machines):
        pattern = {
            "source": ["aws.states"],
            "detail-type": ["Step Functions Execution Status Change"],
            "detail": {"stateMachineArn": list(machines)},
        }
        events.put_rule(Name="status-changes", EventPattern=json.dumps(pattern))  # the default bus
        events.put_targets(Rule="status-changes", Targets=[{"Id": "queue", "Arn": queue_arn}])

    def collect(count, timeout=10.0):
        found, deadline = [], time.monotonic() + timeout
        while len(found) < count and time.monotonic() < deadline:
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            found += [json.loads(message["Body"]) for message in messages]
            time.sleep(0.05)
        return found

    collect.subscribe = subscribe
    return collect


def ms(moment):
    return int(moment.timestamp() * 1000)


def run(sfn, arn, name, payload):
    return sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))["executionArn"]


def test_succeeded_failed_and_aborted_executions_each_send_their_event(stack, sfn, received):
    orders = machine(sfn, "status-events", DEFINITION)
    received.subscribe(orders)
    before = ms(datetime.now(UTC))

    succeeded = run(sfn, orders, "succeeds", {"outcome": "pass"})
    failed = run(sfn, orders, "fails", {"outcome": "fail"})
    stopped = run(sfn, orders, "stopped", {"outcome": "wait"})
    wait_for_execution(stack, succeeded)
    wait_for_execution(stack, failed)
    _wait_until_waiting(sfn, stopped)
    sfn.stop_execution(executionArn=stopped)
    events = {event["detail"]["name"]: event for event in received(3)}

    after = ms(datetime.now(UTC))
    assert sorted(events) == ["fails", "stopped", "succeeds"]
    details = {}
    for name, arn in (("succeeds", succeeded), ("fails", failed), ("stopped", stopped)):
        event = events[name]
        assert event["source"] == "aws.states"
        assert event["detail-type"] == "Step Functions Execution Status Change"
        assert event["resources"] == [arn]
        assert event["region"] == "us-east-1"  # moto's SQS delivery drops "account" from every event
        assert datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")  # ISO 8601, as AWS sends it
        details[name] = event["detail"]
        assert before <= details[name].pop("startDate") <= details[name].pop("stopDate") <= after

    def expected(name, arn, status, payload, **rest):
        common = {"output": None, "outputDetails": None, "error": None, "cause": None}
        return common | {
            "executionArn": arn,
            "stateMachineArn": orders,
            "name": name,
            "status": status,
            "input": json.dumps(payload, separators=(",", ":")),
            "inputDetails": {"included": True},
            **rest,
        }

    assert details["succeeds"] == expected(
        "succeeds",
        succeeded,
        "SUCCEEDED",
        {"outcome": "pass"},
        output='{"outcome":"pass","result":"delivered"}',
        outputDetails={"included": True},
    )
    assert details["fails"] == expected(
        "fails", failed, "FAILED", {"outcome": "fail"}, error="Order.Broken", cause="the test said so"
    )
    assert details["stopped"] == expected("stopped", stopped, "ABORTED", {"outcome": "wait"})


def test_a_timed_out_execution_sends_timed_out(stack, sfn, received):
    slow = machine(sfn, "status-events-timeout", TIMING_OUT)
    received.subscribe(slow)

    arn = run(sfn, slow, "too-slow", {})
    [event] = received(1, timeout=15)

    assert event["resources"] == [arn]
    assert (event["detail"]["status"], event["detail"]["output"]) == ("TIMED_OUT", None)


@pytest.mark.slow
def test_express_workflows_send_no_status_events_as_on_aws(stack, sfn, received):
    express = machine(sfn, "status-events-express", DEFINITION, kind="EXPRESS")
    standard = machine(sfn, "status-events-standard", DEFINITION)
    received.subscribe(express, standard)

    wait_for_execution(stack, run(sfn, express, "express", {"outcome": "pass"}))
    run(sfn, standard, "standard", {"outcome": "pass"})

    # The express one ended before the standard one started: an event of its would be received first.
    assert [event["detail"]["name"] for event in received(1)] == ["standard"]


def test_a_lambda_target_gets_the_event_as_an_asynchronous_invocation(stack, sfn, local_lambda):
    orders = machine(sfn, "status-events-lambda", DEFINITION)
    function = next(iter(stack.functions.values()))  # any function: the event is queued, not run
    events = stack.client("events")
    pattern = {"source": ["aws.states"], "detail": {"stateMachineArn": [orders], "status": ["FAILED"]}}
    events.put_rule(Name="failed-executions", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="failed-executions", Targets=[{"Id": "function", "Arn": function.arn}])

    wait_for_execution(stack, run(sfn, orders, "succeeds", {"outcome": "pass"}))
    failed = run(sfn, orders, "fails", {"outcome": "fail"})

    [invocation] = _queued(local_lambda)
    assert invocation.function == function
    assert (invocation.event["detail-type"], invocation.event["detail"]["executionArn"]) == (
        "Step Functions Execution Status Change",
        failed,
    )
    assert (invocation.event["account"], invocation.event["detail"]["status"]) == ("123456789012", "FAILED")
    assert datetime.strptime(invocation.event["time"], "%Y-%m-%dT%H:%M:%SZ")  # ISO 8601, as AWS delivers it


def test_each_execution_is_counted_in_aws_states_when_it_starts_and_when_it_ends(stack, sfn):
    orders = machine(sfn, "execution-metrics", DEFINITION)
    express = machine(sfn, "execution-metrics-express", DEFINITION, kind="EXPRESS")
    since = datetime.now(UTC) - timedelta(minutes=1)

    for arn, name, outcome in ((orders, "succeeds", "pass"), (orders, "fails", "fail"), (express, "express", "pass")):
        wait_for_execution(stack, run(sfn, arn, name, {"outcome": outcome}))

    expected = {  # (sum, datapoints): a datapoint of 1 an execution
        (orders, "ExecutionsStarted"): (2, 2),
        (orders, "ExecutionsSucceeded"): (1, 1),
        (orders, "ExecutionsFailed"): (1, 1),
        (express, "ExecutionsStarted"): (1, 1),
        (express, "ExecutionsSucceeded"): (1, 1),
    }
    assert _counted(stack, since, expected) == expected


def _counted(stack, since, expected, timeout=10.0):
    """Each AWS/States metric that CloudWatch holds, by state machine (its one dimension) and name:
    the sum and the number of its datapoints since `since`, once they are as `expected` or after
    `timeout` (an execution's end is counted just after its status is set)."""
    cloudwatch = stack.client("cloudwatch")
    deadline = time.monotonic() + timeout
    while True:
        counted = {}
        for metric in cloudwatch.list_metrics(Namespace="AWS/States")["Metrics"]:
            [dimension] = metric["Dimensions"]
            assert dimension["Name"] == "StateMachineArn"
            statistics = cloudwatch.get_metric_statistics(
                Namespace="AWS/States",
                MetricName=metric["MetricName"],
                Dimensions=metric["Dimensions"],
                StartTime=since,
                EndTime=datetime.now(UTC) + timedelta(minutes=1),
                Period=60,
                Statistics=["Sum", "SampleCount"],
            )["Datapoints"]
            total = sum(point["Sum"] for point in statistics), sum(point["SampleCount"] for point in statistics)
            counted[dimension["Value"], metric["MetricName"]] = total
        if counted == expected or time.monotonic() > deadline:
            return counted
        time.sleep(0.05)


def _wait_until_waiting(sfn, arn, timeout=10.0):
    """Until the execution is in its Wait state (stopping it earlier would race its start)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = sfn.get_execution_history(executionArn=arn)["events"]
        if any(event["type"] == "WaitStateEntered" for event in events):
            return
        time.sleep(0.02)
    raise TimeoutError(f"{arn} never reached its Wait state")


def _queued(runtime, timeout=10.0):
    """The asynchronous invocations queued once one is (taken off the queue, not run)."""
    taken, deadline = [], time.monotonic() + timeout
    while not taken and time.monotonic() < deadline:
        time.sleep(0.05)
        while not runtime.pending.empty():
            taken.append(runtime.pending.get_nowait())
    return taken
