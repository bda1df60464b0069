"""Test-side views of moto resources: what landed on a queue, a bus, a table or a stream."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from moto.core.exceptions import JsonRESTError
from moto.ses.models import ses_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack
from local_stack.cloudformation.template import REGION
from local_stack.lambda_runtime.streams import StreamReader, lambda_event

_deserializer = TypeDeserializer()


def drain_queue(stack: Stack, queue_url: str) -> list[dict[str, Any]]:
    """Every message on the queue (received and deleted), body parsed as JSON when it is JSON."""
    sqs = stack.client("sqs")
    messages = []
    while batch := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], AttributeNames=["All"]
    ).get("Messages"):
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            with suppress(ValueError):
                message["Body"] = json.loads(message["Body"])
            messages.append(message)
    return messages


def embedded_metrics(output: str) -> dict[str, tuple[str, str | None, Any]]:
    """What a function printed in CloudWatch's embedded metric format (a JSON object a line, as its
    log reaches CloudWatch), by metric name: (namespace, unit, value)."""
    found = {}
    for line in output.splitlines():
        if '"_aws"' in line:
            document = json.loads(line)
            for definition in document["_aws"]["CloudWatchMetrics"]:
                for metric in definition["Metrics"]:
                    found[metric["Name"]] = (definition["Namespace"], metric.get("Unit"), document[metric["Name"]])
    return found


class BusCapture:
    """An extra rule on a bus that copies matching events to a queue of the test's own."""

    def __init__(self, stack: Stack, bus_name: str, pattern: dict[str, Any]) -> None:
        self.stack = stack
        name = f"capture-{bus_name}"
        self.queue_url = stack.client("sqs").create_queue(QueueName=name)["QueueUrl"]
        queue_arn = stack.client("sqs").get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        events = stack.client("events")
        events.put_rule(Name=name, EventBusName=bus_name, EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule=name, EventBusName=bus_name, Targets=[{"Id": "capture", "Arn": queue_arn["Attributes"]["QueueArn"]}]
        )

    def events(self) -> list[dict[str, Any]]:
        return [message["Body"] for message in drain_queue(self.stack, self.queue_url)]


class TopicCapture:
    """An SQS subscription of the test's own on a topic: every notification published to it."""

    def __init__(self, stack: Stack, topic_arn: str) -> None:
        self.stack = stack
        name = "capture-" + topic_arn.rsplit(":", 1)[1]
        sqs = stack.client("sqs")
        self.queue_url = sqs.create_queue(QueueName=name[:80])["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]
        stack.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn["QueueArn"])

    def notifications(self) -> list[dict[str, Any]]:
        """The SNS envelopes: Subject, Message (text), MessageAttributes."""
        return [message["Body"] for message in drain_queue(self.stack, self.queue_url)]


def table_items(stack: Stack, logical_id: str) -> list[dict[str, Any]]:
    items = stack.client("dynamodb").scan(TableName=stack.ref(logical_id))["Items"]
    return [{name: _deserializer.deserialize(value) for name, value in item.items()} for item in items]


def stream_reader(stack: Stack, table_logical_id: str, consumer_logical_id: str) -> StreamReader:
    """A reader of the table's stream with the filter criteria of the consumer's event source mapping."""
    mapping = next(
        stack.resolve(resource["Properties"])
        for resource in stack.template.of_type("AWS::Lambda::EventSourceMapping").values()
        if stack.template.function_of(resource["Properties"]["FunctionName"]) == consumer_logical_id
    )
    assert mapping["EventSourceArn"] == stack.get_att(table_logical_id, "StreamArn")
    filters = mapping.get("FilterCriteria", {}).get("Filters", [])
    return StreamReader(stack.client("dynamodbstreams"), mapping["EventSourceArn"], filters)


def stream_event(reader: StreamReader) -> dict[str, Any]:
    return lambda_event(reader.read())


class ServerFaultError(JsonRESTError):
    """A 5xx answer from an AWS service, as moto would send its own errors."""

    def __init__(self, error_type: str = "InternalServerError", status: int = 500) -> None:
        super().__init__(error_type, "injected by the test")
        self.code = status


@contextmanager
def failing_backend_call(
    monkeypatch: pytest.MonkeyPatch,
    backend_class: type,
    method: str,
    when: Callable[..., bool],
    error: Exception,
    after: bool = False,
) -> Iterator[list[int]]:
    """Make one moto operation (a backend method, or a request handler) fail while
    `when(target, *args, **kwargs)` holds: a fault in AWS, not in the code under test. With `after`,
    the operation takes effect first and only its response is lost."""
    original = getattr(backend_class, method)
    failures: list[int] = []

    def faulty(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not when(self, *args, **kwargs):
            return original(self, *args, **kwargs)
        failures.append(1)
        if after:
            original(self, *args, **kwargs)
        raise error

    monkeypatch.setattr(backend_class, method, faulty)
    try:
        yield failures
    finally:
        monkeypatch.setattr(backend_class, method, original)


def sent_emails() -> list[dict[str, Any]]:
    """Every email sent through SES (moto keeps them): from, to, subject, body."""
    backend = ses_backends[ACCOUNT_ID][REGION]
    return [
        {"from": message.source, "to": message.destinations["ToAddresses"], "subject": message.subject,
         "body": message.body}
        for message in backend.sent_messages
    ]  # fmt: skip
