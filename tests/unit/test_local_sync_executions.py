"""A gap of moto that the local adapter fills: StartSyncExecution (moto's Step Functions parser has a
synchronous execution that its API does not expose). An EXPRESS state machine runs in the calling
thread and the answer is AWS's, in process (how the local API gateway calls it) and through moto's
server over HTTP (how the AWS CLI and `sam local` containers call it). botocore sends this action to
a `sync-` host prefix, which moto does not serve: clients are made with `inject_host_prefix=False`."""

import json
import re
import socket
from datetime import UTC, datetime, timedelta

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_stack.moto_patches.express import billed_duration_ms, moto_runs_sync_executions

ROLE = "arn:aws:iam::123456789012:role/local-sync-executions"
LOCAL_ENDPOINT = Config(inject_host_prefix=False)
RESPONDING = {
    "StartAt": "Respond",
    "States": {"Respond": {"Type": "Pass", "Result": {"statusCode": 200, "body": '{"a":1}'}, "End": True}},
}
FAILING = {
    "StartAt": "Broken",
    "States": {"Broken": {"Type": "Fail", "Error": "Quote.Invalid", "Cause": "the test said so"}},
}
TIMING_OUT = {
    "StartAt": "Linger",
    "TimeoutSeconds": 1,  # the smallest: the machine's timeout wakes the Wait (one real second)
    "States": {"Linger": {"Type": "Wait", "Seconds": 30, "End": True}},
}
TOO_LARGE = (
    "1 validation error detected: Value at 'input' failed to satisfy constraint: "
    "Member must have length less than or equal to 262144"
)
UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Nothing here may leave the machine: a connection or name lookup beyond loopback fails."""
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def local_connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise ConnectionRefusedError(f"the tests reach no network: {address}")
        return connect(sock, address)

    def local_lookup(host, *args, **kwargs):
        if host not in LOOPBACK:
            raise socket.gaierror(f"the tests reach no network: {host}")
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", local_connect)
    monkeypatch.setattr(socket, "getaddrinfo", local_lookup)


@pytest.fixture
def sfn(aws):
    """Step Functions in process (moto's mock_aws), with only the sync-execution patches: no runtime."""
    with moto_runs_sync_executions():
        yield aws.client("stepfunctions", config=LOCAL_ENDPOINT)


@pytest.fixture
def served_sfn(aws, moto_server):
    """The same through moto's server over HTTP, as the AWS CLI calls it."""
    with moto_runs_sync_executions():
        yield aws.client("stepfunctions", endpoint_url=moto_server, config=LOCAL_ENDPOINT)


def machine(sfn, name, definition, kind="EXPRESS"):
    created = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE, type=kind)
    return created["stateMachineArn"]


def answer(response):
    """The response without botocore's metadata, dates checked and set aside."""
    answered = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    started, stopped = answered.pop("startDate"), answered.pop("stopDate")
    assert isinstance(started, datetime)
    assert started.tzinfo is not None
    assert started <= stopped
    billing = answered.pop("billingDetails")
    elapsed = stopped - started  # as serialized, to the millisecond: the bill was made within 1 ms of it
    assert billing["billedMemoryUsedInMB"] == 64
    assert billing["billedDurationInMilliseconds"] in {
        billed_duration_ms(started, stopped + timedelta(milliseconds=slop)) for slop in (-1, 0, 1)
    }
    answered["elapsed"] = elapsed
    return answered


def error_of(call):
    with pytest.raises(ClientError) as raised:
        call()
    response = raised.value.response
    return response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Code"], response["Error"]["Message"]


def sized(size):
    """Valid JSON of exactly `size` bytes in UTF-8, mostly two-byte characters: half as many characters."""
    envelope = len(json.dumps({"pad": ""}).encode())
    doubles, single = divmod(size - envelope, 2)
    text = json.dumps({"pad": "é" * doubles + "a" * single}, ensure_ascii=False)
    assert len(text.encode("utf-8")) == size
    assert len(text) < size * 0.51
    return text


@pytest.fixture(params=["in process", "over HTTP"])
def client(request):
    return request.getfixturevalue("sfn" if request.param == "in process" else "served_sfn")


def test_a_pass_state_answers_with_its_output(client):
    arn = machine(client, "sync-respond", RESPONDING)

    response = answer(client.start_sync_execution(stateMachineArn=arn, name="first", input='{ "order": 7 }'))

    assert re.fullmatch(
        f"arn:aws:states:us-east-1:123456789012:express:sync-respond:first:{UUID}", response.pop("executionArn")
    )
    assert json.loads(response.pop("output")) == {"statusCode": 200, "body": '{"a":1}'}
    assert response.pop("elapsed") < timedelta(seconds=5)
    assert response == {
        "stateMachineArn": arn,
        "name": "first",
        "status": "SUCCEEDED",
        "input": '{ "order": 7 }',  # as sent, as AWS echoes it
        "inputDetails": {"included": True},
        "outputDetails": {"included": True},
    }


def test_a_fail_state_answers_failed_with_its_error_and_cause_and_no_output(client):
    arn = machine(client, "sync-fail", FAILING)

    response = answer(client.start_sync_execution(stateMachineArn=arn, input='{"outcome":"fail"}'))

    response.pop("executionArn"), response.pop("name"), response.pop("elapsed")
    assert response == {
        "stateMachineArn": arn,
        "status": "FAILED",
        "error": "Quote.Invalid",
        "cause": "the test said so",
        "input": '{"outcome":"fail"}',
        "inputDetails": {"included": True},
        "outputDetails": {"included": True},  # AWS sends it on failures too, without an output
    }


def test_a_machine_over_its_timeout_answers_timed_out(client):
    arn = machine(client, "sync-timing-out", TIMING_OUT)

    response = answer(client.start_sync_execution(stateMachineArn=arn, name="slow", traceHeader="Root=1-abc"))

    assert (response["status"], response["traceHeader"]) == ("TIMED_OUT", "Root=1-abc")
    assert "output" not in response
    assert timedelta(seconds=1) <= response["elapsed"] < timedelta(seconds=10)


def test_a_standard_machine_is_refused(client):
    arn = machine(client, "sync-standard", RESPONDING, kind="STANDARD")

    assert error_of(lambda: client.start_sync_execution(stateMachineArn=arn)) == (
        400,
        "StateMachineTypeNotSupported",
        "This operation is not supported by this type of state machine",
    )


def test_input_is_limited_to_262144_bytes_of_utf8(client):
    # A Pass with its own Result: moto checks each state's output against the same limit, measured on
    # its ASCII-escaped JSON ("é" is 6 bytes there), so passing this input on would fail it locally.
    arn = machine(client, "sync-limit", RESPONDING)

    largest = answer(client.start_sync_execution(stateMachineArn=arn, input=sized(262144)))
    refused = error_of(lambda: client.start_sync_execution(stateMachineArn=arn, input=sized(262145)))

    assert (largest["status"], largest["input"]) == ("SUCCEEDED", sized(262144))
    assert refused == (400, "ValidationException", TOO_LARGE)


def test_input_that_is_not_json_is_refused(client):
    arn = machine(client, "sync-not-json", RESPONDING)

    status, code, message = error_of(lambda: client.start_sync_execution(stateMachineArn=arn, input="not json"))

    assert (status, code) == (400, "InvalidExecutionInput")
    assert message.startswith("Invalid State Machine Execution Input: ")


def test_unnamed_executions_each_get_a_fresh_name(client):
    arn = machine(client, "sync-unnamed", RESPONDING)

    first, second = (answer(client.start_sync_execution(stateMachineArn=arn)) for _ in range(2))

    assert (first["status"], second["status"]) == ("SUCCEEDED", "SUCCEEDED")
    assert first["name"] != second["name"]
    for response in (first, second):
        assert re.fullmatch(UUID, response["name"])
        assert response["executionArn"].startswith(
            f"arn:aws:states:us-east-1:123456789012:express:sync-unnamed:{response['name']}:"
        )
        assert response["input"] == "{}"


def test_sync_executions_are_neither_listed_nor_described_as_on_aws(client):
    arn = machine(client, "sync-unlisted", RESPONDING)

    execution = client.start_sync_execution(stateMachineArn=arn, name="unlisted")["executionArn"]

    assert client.list_executions(stateMachineArn=arn)["executions"] == []
    assert error_of(lambda: client.describe_execution(executionArn=execution))[:2] == (400, "InvalidArn")


def test_the_billed_duration_is_rounded_up_to_100_ms():
    start = datetime(2026, 1, 1, tzinfo=UTC)

    billed = [
        billed_duration_ms(start, start + timedelta(milliseconds=ms)) for ms in (0, 0.001, 94, 100, 100.001, 5004)
    ]

    assert billed == [100, 100, 100, 100, 200, 5100]


def test_without_inject_host_prefix_false_moto_does_not_answer(aws):
    """botocore sends the action to sync-states.us-east-1.amazonaws.com, which no moto URL pattern
    matches: mock_aws answers its catch-all 404 for an amazonaws.com host (nothing leaves the machine;
    the network is shut here anyway) and no execution runs."""
    with moto_runs_sync_executions():
        arn = machine(aws.client("stepfunctions", config=LOCAL_ENDPOINT), "sync-prefixed", RESPONDING)
        default_client = aws.client("stepfunctions")

        assert error_of(lambda: default_client.start_sync_execution(stateMachineArn=arn)) == (
            404,
            "404",
            "Not yet implemented",
        )


def test_with_the_whole_adapter_a_sync_execution_sends_no_status_event(aws, stack, local_lambda):
    """As under `make dev` (every patch, the status-change one included): the sync execution still
    answers, and, an Express workflow, puts no status-change event on the default bus (a STANDARD
    execution, sent the same way, shows that the rule delivers)."""
    sfn, sqs, events = (aws.client(name, config=LOCAL_ENDPOINT) for name in ("stepfunctions", "sqs", "events"))
    express, standard = machine(sfn, "sync-express", RESPONDING), machine(sfn, "sync-std", RESPONDING, "STANDARD")
    url = sqs.create_queue(QueueName="sync-status-changes")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="sync-status-changes", EventPattern=json.dumps({"source": ["aws.states"]}))
    events.put_targets(Rule="sync-status-changes", Targets=[{"Id": "queue", "Arn": queue_arn}])

    answered = sfn.start_sync_execution(stateMachineArn=express, name="quick")
    started = sfn.start_execution(stateMachineArn=standard, name="slow-one")["executionArn"]
    delivered = []
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while not delivered and datetime.now(UTC) < deadline:
        delivered = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])

    assert answered["status"] == "SUCCEEDED"
    assert [json.loads(message["Body"])["detail"]["executionArn"] for message in delivered] == [started]
