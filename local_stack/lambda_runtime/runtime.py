"""Lambda as the template configures it, for the local stack: synchronous invocations (Step
Functions tasks), asynchronous ones (EventBridge targets) with retries, then the function's
DeadLetterQueue and EventInvokeConfig OnFailure destination, and the event source mappings that
poll SQS queues and DynamoDB streams, with partial batch responses. Every invocation is metered
as Lambda meters it (AWS/Lambda, local_stack/cloudwatch), and throttled where Lambda would throttle
it: when the function's reserved concurrency is in use.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from moto.awslambda.models import lambda_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack
from local_stack.cloudformation.template import REGION
from local_stack.cloudwatch.metrics import MetricSink
from local_stack.cloudwatch.publishers import MeteredFunction
from local_stack.happenings import Happenings
from local_stack.lambda_runtime.functions import (
    FunctionError,
    FunctionInstance,
    FunctionSpec,
    Invocable,
    Throttled,
    acting_as,
)
from local_stack.lambda_runtime.streams import StreamReader, lambda_event

ASYNC_RETRIES_DEFAULT = 2  # Lambda's default for asynchronous invocations
THROTTLED_RETRY_SECONDS = 0.2


@dataclass
class AsyncInvocation:
    function: FunctionSpec
    event: Any
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0


@dataclass(frozen=True)
class AsyncConfig:
    max_retries: int
    dead_letter_arn: str | None
    on_failure_arn: str | None


class ReservedConcurrency:
    """Lambda throttles an invocation when as many as the function's reserved concurrency are
    running (PutFunctionConcurrency, or the template's ReservedConcurrentExecutions, read from
    moto at each invocation): 0 throttles every one. Everything else is the wrapped instance's."""

    def __init__(self, spec: FunctionSpec, inner: Invocable) -> None:
        self.spec = spec
        self.inner = inner
        self._running = 0
        self._lock = threading.Lock()

    def invoke(self, event: Any, timeout: float | None = None) -> Any:
        reserved = lambda_backends[ACCOUNT_ID][REGION].get_function(self.spec.name).reserved_concurrency
        with self._lock:
            if reserved is not None and self._running >= int(reserved):
                raise Throttled(self.spec.logical_id)
            self._running += 1
        try:
            return self.inner.invoke(event, timeout)
        finally:
            with self._lock:
                self._running -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class LocalLambda:
    def __init__(
        self,
        stack: Stack,
        instance_for: Callable[[FunctionSpec], Invocable] = FunctionInstance,
        metrics: MetricSink | None = None,
    ) -> None:
        self.stack = stack
        self.metrics = metrics or MetricSink(ACCOUNT_ID, REGION)
        self.instances: dict[str, Invocable] = {
            logical_id: MeteredFunction(spec, ReservedConcurrency(spec, instance_for(spec)), self.metrics)
            for logical_id, spec in stack.functions.items()
        }
        self.pending: queue.Queue[AsyncInvocation] = queue.Queue()
        self.sources = [EventSource.of(stack, mapping) for mapping in _mappings(stack)]
        self._configs = {logical_id: _async_config(stack, logical_id) for logical_id in stack.functions}
        # An invocation ended or was queued, or (the local adapter tells) a message or a stream record
        # arrived: for whoever waits on the stack.
        self.progress = Happenings()
        self._arrived: set[str] = set()  # the sources told of an arrival since the delivery loop looked
        self._arrived_lock = threading.Lock()

    # -- invocations -------------------------------------------------------------------------
    def invoke(self, name_or_arn: str, event: Any) -> Any:
        """RequestResponse: the handler's result, or FunctionError."""
        try:
            return self.instances[self.stack.function_named(name_or_arn).logical_id].invoke(event)
        finally:
            self.progress.happened()

    def invoke_async(self, name_or_arn: str, event: Any) -> None:
        """Event: queued, like Lambda's internal queue, and run by `run_pending` or a worker."""
        self.pending.put(AsyncInvocation(self.stack.function_named(name_or_arn), event))
        self.progress.happened()

    def run_pending(self, run: Callable[[AsyncInvocation], Any] | None = None) -> int:
        """Run queued asynchronous invocations (and their retries) until none is left; `run` may
        hand each one to another thread."""
        count = 0
        while True:
            try:
                invocation = self.pending.get_nowait()
            except queue.Empty:
                return count
            (run or self._attempt)(invocation)
            count += 1

    def _attempt(self, invocation: AsyncInvocation) -> None:
        invocation.attempts += 1
        try:
            self.instances[invocation.function.logical_id].invoke(invocation.event)
        except Throttled:
            # Lambda keeps a throttled event on its queue (up to six hours): not an attempt.
            invocation.attempts -= 1
            time.sleep(THROTTLED_RETRY_SECONDS)
            self.pending.put(invocation)
        except FunctionError as error:
            config = self._configs[invocation.function.logical_id]
            if invocation.attempts <= config.max_retries:
                self.pending.put(invocation)
            else:
                self._dead_letter(invocation, config, error)
        finally:
            self.progress.happened()

    def _dead_letter(self, invocation: AsyncInvocation, config: AsyncConfig, error: FunctionError) -> None:
        """What Lambda does when retries are exhausted, with the function's role: the bare event to
        the DLQ, and an invocation record with the event and the error to the OnFailure destination."""
        sqs = self.stack.client("sqs")
        deliveries = []
        if config.dead_letter_arn:
            attributes = {
                "RequestID": {"DataType": "String", "StringValue": invocation.request_id},
                "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                "ErrorMessage": {"DataType": "String", "StringValue": error.message[:1000] or error.error_type},
            }
            deliveries.append((config.dead_letter_arn, invocation.event, attributes))
        if config.on_failure_arn:
            record = {
                "version": "1.0",
                "timestamp": datetime.now(UTC).isoformat(),
                "requestContext": {
                    "requestId": invocation.request_id,
                    "functionArn": f"{invocation.function.arn}:$LATEST",
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": invocation.attempts,
                },
                "requestPayload": invocation.event,
                "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
                "responsePayload": error.payload(),
            }
            deliveries.append((config.on_failure_arn, record, {}))
        for queue_arn, body, attributes in deliveries:
            url = self._queue_url(queue_arn)
            with acting_as(invocation.function):
                sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body), MessageAttributes=attributes)

    def _queue_url(self, queue_arn: str) -> str:
        return str(self.stack.client("sqs").get_queue_url(QueueName=queue_arn.rsplit(":", 1)[1])["QueueUrl"])

    # -- event sources -------------------------------------------------------------------------
    def poll_sources(self) -> int:
        """One poll of every event source mapping; the number of batches delivered."""
        return sum(source.poll(self) for source in self.sources)

    def arrived(self, source_arn: str) -> None:
        """A message sent to a queue or a record written to a stream (the local adapter tells each):
        the delivery loop polls that source's mappings next, and whoever waits on `progress` wakes."""
        with self._arrived_lock:
            self._arrived.add(source_arn)
        self.progress.happened()

    def _told_arrivals(self) -> set[str]:
        with self._arrived_lock:
            arrived, self._arrived = self._arrived, set()
        return arrived

    def settle(self, timeout: float = 30.0) -> None:
        """Deliver until nothing is left to deliver: queued async invocations and event sources."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not (self.run_pending() + self.poll_sources()):
                return
        raise TimeoutError("the local stack did not settle")

    def start_workers(
        self, stop: threading.Event, idle_poll_seconds: float = 1.0, concurrency: int = 32
    ) -> list[threading.Thread]:
        """Background delivery for a long-running local stack (`make dev`): asynchronous invocations
        run concurrently (as many as `concurrency`), event sources are polled in order. An idle loop
        sleeps until `progress` moves (an invocation queued or ended; the local adapter adds each
        message sent to a queue and each stream record), so an idle stack costs no CPU. A pass polls
        only the sources told of an arrival and those that just delivered (they may hold more), and
        every source once `idle_poll_seconds` have passed, which bounds what nothing tells (a delayed
        message becoming visible)."""
        running = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="lambda-async")

        def attempt(invocation: AsyncInvocation) -> None:
            try:
                self._attempt(invocation)
            except Exception:
                logging.getLogger("local_stack").exception("asynchronous invocation failed")

        def loop() -> None:
            polled_all, busy = -idle_poll_seconds, []
            while not stop.is_set():
                self.progress.look()  # before taking the arrivals: one told later wakes the sleep below
                arrived = self._told_arrivals()
                if time.monotonic() - polled_all >= idle_poll_seconds:
                    polled_all, due = time.monotonic(), self.sources
                else:
                    due = [source for source in self.sources if source in busy or source.arn in arrived]
                try:
                    delivered = self.run_pending(lambda invocation: running.submit(attempt, invocation))
                    busy = [source for source in due if source.poll(self)]
                except Exception:
                    logging.getLogger("local_stack").exception("delivery failed")
                    delivered, busy = 0, []
                if not delivered + len(busy):
                    self.progress.sleep(idle_poll_seconds)
            running.shutdown(wait=True)  # what was handed to an instance ends before the loop does

        thread = threading.Thread(target=loop, name="local-lambda", daemon=True)
        thread.start()
        return [thread]


def _mappings(stack: Stack) -> list[dict[str, Any]]:
    return [
        stack.resolve(resource["Properties"])
        for resource in stack.template.of_type("AWS::Lambda::EventSourceMapping").values()
    ]


def _async_config(stack: Stack, logical_id: str) -> AsyncConfig:
    function = stack.resolve(stack.template.properties(logical_id))
    config: dict[str, Any] = {}
    for resource in stack.template.of_type("AWS::Lambda::EventInvokeConfig").values():
        if resource["Properties"]["FunctionName"] == {"Ref": logical_id}:
            config = stack.resolve(resource["Properties"])
    return AsyncConfig(
        max_retries=int(config.get("MaximumRetryAttempts", ASYNC_RETRIES_DEFAULT)),
        dead_letter_arn=function.get("DeadLetterConfig", {}).get("TargetArn"),
        on_failure_arn=config.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination"),
    )


class EventSource:
    """An event source mapping: polls its source and invokes its function with a batch."""

    def __init__(self, stack: Stack, mapping: dict[str, Any]) -> None:
        self.stack = stack
        self.mapping = mapping
        self.function = stack.function_named(mapping["FunctionName"])
        self.batch_size = int(mapping.get("BatchSize", 10))
        self.arn: str = mapping["EventSourceArn"]  # the queue's or the stream's

    @staticmethod
    def of(stack: Stack, mapping: dict[str, Any]) -> EventSource:
        if ":sqs:" in mapping["EventSourceArn"]:
            return SqsSource(stack, mapping)
        return StreamSource(stack, mapping)

    def poll(self, runtime: LocalLambda) -> int:
        raise NotImplementedError


class SqsSource(EventSource):
    """Receive, invoke, delete what succeeded; failures become visible again for a retry, and the
    queue's redrive policy moves a message to its DLQ after maxReceiveCount receives."""

    def __init__(self, stack: Stack, mapping: dict[str, Any]) -> None:
        super().__init__(stack, mapping)
        self.queue_arn = mapping["EventSourceArn"]
        self.queue_url = stack.client("sqs").get_queue_url(QueueName=self.queue_arn.rsplit(":", 1)[1])["QueueUrl"]

    def poll(self, runtime: LocalLambda) -> int:
        sqs = self.stack.client("sqs")
        messages = sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(message) for message in messages]}
        try:
            response = runtime.instances[self.function.logical_id].invoke(event)
            failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
        except FunctionError:
            failed = {message["MessageId"] for message in messages}
        for message in messages:
            if message["MessageId"] in failed:
                sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            else:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return 1

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                name: {"stringValue": value.get("StringValue"), "dataType": value["DataType"]}
                for name, value in message.get("MessageAttributes", {}).items()
            },
            "md5OfBody": message["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": "us-east-1",
        }


class StreamSource(EventSource):
    """Reads the stream in order with the mapping's filters; a reported failure is retried from
    that record on, up to MaximumRetryAttempts, then its batch is sent to the OnFailure destination."""

    def __init__(self, stack: Stack, mapping: dict[str, Any]) -> None:
        super().__init__(stack, mapping)
        filters = mapping.get("FilterCriteria", {}).get("Filters", [])
        self.reader = StreamReader(stack.client("dynamodbstreams"), mapping["EventSourceArn"], filters)
        self.max_retries = int(mapping.get("MaximumRetryAttempts", -1))
        self.backlog: list[dict[str, Any]] = []
        self.retries = 0

    def poll(self, runtime: LocalLambda) -> int:
        self.backlog.extend(self.reader.read())
        if not self.backlog:
            return 0
        batch = self.backlog[: self.batch_size]
        try:
            response = runtime.instances[self.function.logical_id].invoke(lambda_event(batch))
            failures = [item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])]
        except FunctionError:
            failures = [batch[0]["dynamodb"]["SequenceNumber"]]
        if not failures:
            self.backlog = self.backlog[len(batch) :]
            self.retries = 0
            return 1
        first_failed = next(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failures)
        self.backlog = self.backlog[first_failed:]
        self.retries += 1
        if 0 <= self.max_retries < self.retries:
            self._give_up(batch[first_failed:])
        return 1

    def _give_up(self, batch: list[dict[str, Any]]) -> None:
        destination = self.mapping.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        if destination:
            record = {
                "requestContext": {"condition": "RetryAttemptsExhausted", "functionArn": self.function.arn},
                "DDBStreamBatchInfo": {
                    "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                    "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                    "batchSize": len(batch),
                    "streamArn": self.mapping["EventSourceArn"],
                },
            }
            sqs = self.stack.client("sqs")
            url = sqs.get_queue_url(QueueName=destination.rsplit(":", 1)[1])["QueueUrl"]
            with acting_as(self.function):
                sqs.send_message(QueueUrl=url, MessageBody=json.dumps(record))
        self.backlog = self.backlog[len(batch) :]
        self.retries = 0
