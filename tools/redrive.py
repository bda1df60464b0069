"""make redrive: every dead-letter queue and on-failure destination of the template, how many
messages wait in each and since when, and their replay to where they came from.

    python -m tools.redrive [--stack NAME] [list | show QUEUE | replay QUEUE [--dry-run]]

Without `--stack`, the running `make dev` (its .aws-sam/local-outputs.json); with it, that deployed
stack (CloudFormation names each resource). QUEUE is the queue's logical id in template.yaml.

What a replay does, by what the queue holds (read from the template, never configured twice):
- a queue's redrive target (`RedrivePolicy`): the messages go back to their source queue: SQS's
  message-move task on AWS, receive / send / delete where it is missing (moto);
- a function's `DeadLetterConfig` (the bare event): the function is invoked again asynchronously;
- an `EventInvokeConfig` on-failure destination (an invocation record): the function it names is
  invoked again asynchronously with the record's `requestPayload`;
- a stream event source mapping's on-failure destination (shard and sequence numbers): the records
  are read again from the stream and the function is invoked with the batch they stand for;
- an EventBridge target's dead-letter queue (the event; `TARGET_ARN` attribute): the target gets it
  again (a function asynchronously, a queue as a message).
A message is deleted only once its replay was accepted; an asynchronous invocation that fails again
lands back in its dead-letter queue after its retries, so nothing is lost. `--dry-run` shows what
would be replayed, and changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from local_stack.cloudformation.deploy import LOCAL_STACK_NAME, physical_name
from local_stack.cloudformation.template import OUTPUTS_FILE, REGION, SamTemplate, load
from local_stack.lambda_runtime.streams import records_between

VISIBILITY = 60  # seconds a message being replayed stays hidden; it reappears if the replay stops


@dataclass(frozen=True)
class DeadLetters:
    queue: str  # logical id
    kind: str  # "queue", "function", "on-failure", "stream", "rule" or "none"
    source: str  # where the messages came from: a queue, function or rule (logical id), or why none


def dead_letter_queues(template: SamTemplate) -> list[DeadLetters]:
    """Every queue of the template that failures end in, and what feeds it."""
    found: dict[str, DeadLetters] = {}
    for letters in [*_fed_by_queues_and_streams(template), *_fed_by_functions(template), *_fed_by_rules(template)]:
        found.setdefault(letters.queue, letters)
    for name in template.of_type("AWS::SQS::Queue"):
        if name.endswith("DLQ") and name not in found:  # written by a workflow's own step
            found[name] = DeadLetters(name, "none", "a workflow step's record: read it, act by hand")
    return sorted(found.values(), key=lambda letters: letters.queue)


def _ref(value: Any) -> str:
    return str(value["Fn::GetAtt"][0] if "Fn::GetAtt" in value else value.get("Ref", value))


def _on_failure(properties: dict[str, Any]) -> Any:
    return properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")


def _fed_by_queues_and_streams(template: SamTemplate) -> Iterator[DeadLetters]:
    for name, queue in template.of_type("AWS::SQS::Queue").items():
        if policy := queue.get("Properties", {}).get("RedrivePolicy"):
            yield DeadLetters(_ref(policy["deadLetterTargetArn"]), "queue", name)
    for mapping in template.of_type("AWS::Lambda::EventSourceMapping").values():
        if destination := _on_failure(mapping["Properties"]):
            yield DeadLetters(_ref(destination), "stream", template.function_of(mapping["Properties"]["FunctionName"]))


def _fed_by_functions(template: SamTemplate) -> Iterator[DeadLetters]:
    for name, function in template.of_type("AWS::Lambda::Function").items():
        if target := function["Properties"].get("DeadLetterConfig", {}).get("TargetArn"):
            yield DeadLetters(_ref(target), "function", name)
    for config in template.of_type("AWS::Lambda::EventInvokeConfig").values():
        if destination := _on_failure(config["Properties"]):
            yield DeadLetters(_ref(destination), "on-failure", "the function each record names")


def _fed_by_rules(template: SamTemplate) -> Iterator[DeadLetters]:
    for name, rule in template.of_type("AWS::Events::Rule").items():
        for target in rule["Properties"].get("Targets", []):
            if "DeadLetterConfig" in target:
                yield DeadLetters(_ref(target["DeadLetterConfig"]["Arn"]), "rule", name)


class DeployedStack:
    """Where the template's resources are deployed: make dev's (named by
    `local_stack/cloudformation/deploy.py`), or a stack on AWS (named by CloudFormation, `physical`)."""

    def __init__(
        self, template: SamTemplate, session: Any, endpoint: str | None = None, physical: dict[str, str] | None = None
    ) -> None:
        self.template = template
        self.session = session
        self.endpoint = endpoint
        self.local = physical is None
        self._physical = physical or {}
        self._clients: dict[str, Any] = {}

    @classmethod
    def of_make_dev(cls, template: SamTemplate, outputs_file: Path = OUTPUTS_FILE) -> DeployedStack:
        outputs = json.loads(outputs_file.read_text())
        session = boto3.session.Session(aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION)
        return cls(template, session, outputs["AwsEndpointUrl"])

    @classmethod
    def deployed(cls, template: SamTemplate, stack_name: str) -> DeployedStack:
        session = boto3.session.Session()
        pages = session.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_name)
        physical = {
            summary["LogicalResourceId"]: summary["PhysicalResourceId"]
            for page in pages
            for summary in page["StackResourceSummaries"]
        }
        return cls(template, session, physical=physical)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            options: dict[str, Any] = {"endpoint_url": self.endpoint} if self.endpoint else {}
            self._clients[service] = self.session.client(
                service, config=Config(retries={"mode": "standard"}), **options
            )
        return self._clients[service]

    def queue_url(self, logical_id: str) -> str:
        if not self.local:
            return self._physical[logical_id]  # a queue's physical id is its URL
        fifo = ".fifo" if self.template.properties(logical_id).get("FifoQueue") else ""
        name = physical_name(LOCAL_STACK_NAME, logical_id, 75) + fifo
        return str(self.client("sqs").get_queue_url(QueueName=name)["QueueUrl"])

    def function_name(self, logical_id: str) -> str:
        """The function as its event sources invoke it: qualified by its alias, if it has one."""
        name = self._physical[logical_id] if not self.local else physical_name(LOCAL_STACK_NAME, logical_id)
        alias = self.template.alias_of(logical_id)
        return f"{name}:{alias}" if alias else name

    def queue_arn(self, url: str) -> str:
        attributes = self.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])


@dataclass(frozen=True)
class Summary:
    letters: DeadLetters
    depth: int
    oldest_seconds: float | None  # of the messages peeked (at most 10)


def summarize(stack: DeployedStack, letters: DeadLetters) -> Summary:
    sqs = stack.client("sqs")
    url = stack.queue_url(letters.queue)
    depth = int(
        sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
            "ApproximateNumberOfMessages"
        ]
    )
    peeked = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, MessageSystemAttributeNames=["SentTimestamp"]
    ).get("Messages", [])
    sent = [int(message["Attributes"]["SentTimestamp"]) / 1000 for message in peeked]
    return Summary(letters, depth, time.time() - min(sent) if sent else None)


def messages(stack: DeployedStack, url: str) -> Iterator[dict[str, Any]]:
    """Every message of the queue once, hidden while it is handled: delete it, or `release` it."""
    sqs = stack.client("sqs")
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=VISIBILITY,
        MessageAttributeNames=["All"],
        MessageSystemAttributeNames=["All"],
    ).get("Messages"):
        yield from batch


def release(stack: DeployedStack, url: str, message: dict[str, Any]) -> None:
    """Visible again at once (not after VISIBILITY), for the next look or replay."""
    stack.client("sqs").change_message_visibility(
        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )


@dataclass(frozen=True)
class Replay:
    message_id: str
    action: str  # what was (or, in a dry run, would be) done
    done: bool


def replay(stack: DeployedStack, letters: DeadLetters, dry_run: bool = False) -> list[Replay]:
    """Send each message of the queue back to where it came from (see the module's docstring)."""
    if letters.kind == "none":
        raise ValueError(f"{letters.queue}: nothing to replay it to ({letters.source})")
    url = stack.queue_url(letters.queue)
    if letters.kind == "queue" and not stack.local and not dry_run:
        source_arn = stack.queue_arn(stack.queue_url(letters.source))
        task = stack.client("sqs").start_message_move_task(SourceArn=stack.queue_arn(url), DestinationArn=source_arn)
        return [Replay(task["TaskHandle"], f"message-move task to {letters.source}", True)]
    done = []
    handled = list(messages(stack, url))
    for message in handled:
        action = _replay_one(stack, letters, message, dry_run)
        replayed = action is not None and not dry_run
        if replayed:
            stack.client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        done.append(Replay(message["MessageId"], action or "not accepted: kept", replayed))
    for message, outcome in zip(handled, done, strict=True):
        if not outcome.done:
            release(stack, url, message)
    return done


def _replay_one(stack: DeployedStack, letters: DeadLetters, message: dict[str, Any], dry_run: bool) -> str | None:
    """What replaying this message does (done unless `dry_run`); None if it was not accepted."""
    body = message["Body"]
    if letters.kind == "queue":
        return _send(stack, stack.queue_url(letters.source), message, dry_run)
    if letters.kind == "function":
        return _invoke_async(stack, stack.function_name(letters.source), body, dry_run)
    if letters.kind == "rule":
        return _to_rule_target(stack, message, dry_run)
    record = json.loads(body)
    if "DDBStreamBatchInfo" in record:
        return _replay_stream(stack, letters, record, dry_run)
    if "requestPayload" in record:  # an asynchronous invocation's record
        function = record["requestContext"]["functionArn"].split(":$LATEST")[0]
        return _invoke_async(stack, function, json.dumps(record["requestPayload"]), dry_run)
    return None


def _to_rule_target(stack: DeployedStack, message: dict[str, Any], dry_run: bool) -> str | None:
    target = message.get("MessageAttributes", {}).get("TARGET_ARN", {}).get("StringValue", "")
    if ":lambda:" in target:
        return _invoke_async(stack, target, message["Body"], dry_run)
    if ":sqs:" in target:
        url = stack.client("sqs").get_queue_url(QueueName=target.rsplit(":", 1)[1])["QueueUrl"]
        return _send(stack, url, message, dry_run)
    return None


def _invoke_async(stack: DeployedStack, function: str, payload: str, dry_run: bool) -> str | None:
    action = f"invoke {function.rsplit(':function:', 1)[-1]} asynchronously"
    if dry_run:
        return action
    status = stack.client("lambda").invoke(FunctionName=function, InvocationType="Event", Payload=payload)
    return action if status["StatusCode"] == 202 else None


def _send(stack: DeployedStack, url: str, message: dict[str, Any], dry_run: bool) -> str:
    action = f"send to {url.rsplit('/', 1)[1]}"
    if not dry_run:
        extra = {}
        if url.endswith(".fifo"):
            extra = {
                "MessageGroupId": message["Attributes"]["MessageGroupId"],
                "MessageDeduplicationId": message["MessageId"],
            }
        attributes = {
            name: {key: value for key, value in attribute.items() if key in ("DataType", "StringValue", "BinaryValue")}
            for name, attribute in message.get("MessageAttributes", {}).items()
        }
        stack.client("sqs").send_message(
            QueueUrl=url, MessageBody=message["Body"], MessageAttributes=attributes, **extra
        )
    return action


def _replay_stream(stack: DeployedStack, letters: DeadLetters, record: dict[str, Any], dry_run: bool) -> str | None:
    info = record["DDBStreamBatchInfo"]
    [mapping] = [
        m["Properties"]
        for m in stack.template.of_type("AWS::Lambda::EventSourceMapping").values()
        if stack.template.function_of(m["Properties"]["FunctionName"]) == letters.source
    ]
    filters = mapping.get("FilterCriteria", {}).get("Filters", [])
    batch = records_between(
        stack.client("dynamodbstreams"),
        info["streamArn"],
        info["startSequenceNumber"],
        info["endSequenceNumber"],
        filters,
    )
    action = f"invoke {letters.source} with the {len(batch)} stream records {info['startSequenceNumber']}.."
    if dry_run:
        return action
    response = stack.client("lambda").invoke(
        FunctionName=stack.function_name(letters.source), Payload=json.dumps({"Records": batch}, default=str)
    )
    answer = json.loads(response["Payload"].read() or b"null")
    failed = "FunctionError" in response or bool((answer or {}).get("batchItemFailures"))
    return None if failed else action


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", help="a deployed stack's name (default: the running make dev)")
    parser.add_argument("--outputs-file", type=Path, default=OUTPUTS_FILE, help="the running make dev's outputs")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("list", help="every DLQ and on-failure destination, its depth and oldest message")
    show = commands.add_parser("show", help="the messages of one queue")
    show.add_argument("queue")
    again = commands.add_parser("replay", help="replay one queue's messages to where they came from")
    again.add_argument("queue")
    again.add_argument("--dry-run", action="store_true")
    arguments = parser.parse_args(argv)
    template = load()
    if arguments.stack:
        stack = DeployedStack.deployed(template, arguments.stack)
    elif arguments.outputs_file.is_file():
        stack = DeployedStack.of_make_dev(template, arguments.outputs_file)
    else:
        parser.error(f"{arguments.outputs_file} not found: start the local stack first (make dev), or give STACK=")
    queues = {letters.queue: letters for letters in dead_letter_queues(template)}
    if arguments.command in (None, "list"):
        for summary in (summarize(stack, each) for each in queues.values()):
            age = "-" if summary.oldest_seconds is None else f"{summary.oldest_seconds:,.0f} s"
            fed_by = f"{summary.letters.kind}: {summary.letters.source}"
            print(f"{summary.letters.queue:<28} {summary.depth:>6}  oldest {age:>10}  {fed_by}")
        return 0
    letters = queues.get(arguments.queue)
    if letters is None:
        parser.error(f"not a DLQ or on-failure destination of the template: {arguments.queue} ({', '.join(queues)})")
    if arguments.command == "show":
        url = stack.queue_url(letters.queue)
        shown = list(messages(stack, url))
        for message in shown:
            print(json.dumps({"MessageId": message["MessageId"], "Body": message["Body"]}))
            release(stack, url, message)
        return 0
    replays = replay(stack, letters, dry_run=arguments.dry_run)
    for one in replays:
        print(f"{one.message_id}: {one.action}{'' if one.done or arguments.dry_run else ' (not done)'}")
    print(
        f"{sum(one.done for one in replays)} of {len(replays)} replayed" + (" (dry run)" if arguments.dry_run else "")
    )
    return 0 if all(one.done for one in replays) or arguments.dry_run else 1


if __name__ == "__main__":
    sys.exit(main())
