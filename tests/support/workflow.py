"""Driving and observing the order workflow on moto's Step Functions interpreter."""

from __future__ import annotations

import time
from typing import Any

from local_stack.deploy import Stack
from local_stack.runtime import LocalLambda


def execution_arn(stack: Stack, order_id: str) -> str:
    state_machine = stack.ref("OrderWorkflow")
    return state_machine.replace(":stateMachine:", ":execution:") + f":{order_id}"


def wait_for_execution(stack: Stack, arn: str, timeout: float = 30.0) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(0.02)
    raise TimeoutError(f"{arn} still running after {timeout}s")


def history(stack: Stack, arn: str) -> list[dict[str, Any]]:
    sfn = stack.client("stepfunctions")
    events, token = [], None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        events.extend(page["events"])
        token = page.get("nextToken")
        if not token:
            return events


def states_entered(stack: Stack, arn: str) -> list[str]:
    """The states the execution entered, in order (Map iterations and Parallel branches included)."""
    return [
        event["stateEnteredEventDetails"]["name"]
        for event in history(stack, arn)
        if "stateEnteredEventDetails" in event
    ]


def process(local_lambda: LocalLambda, stack: Stack, order_id: str) -> dict[str, Any]:
    """Deliver everything the order set off (stream, bus, async functions, queues) and wait for its
    workflow to end; the execution's description."""
    local_lambda.settle()
    description = wait_for_execution(stack, execution_arn(stack, order_id))
    local_lambda.settle()
    return description
