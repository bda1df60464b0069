"""Driving and observing the order workflow on moto's Step Functions interpreter."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.models import stepfunctions_parser_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack
from local_stack.cloudformation.template import REGION
from local_stack.lambda_runtime.runtime import LocalLambda
from local_stack.moto_patches.nested import EXECUTION_ENDS


class FakeClock:
    """A clock that moves only when told (by a Wait state of the workflow); `waits` records how long
    each wait would have lasted."""

    def __init__(self) -> None:
        self.now = time.time()
        self.waits: list[float] = []
        self.on_wait: Callable[[], None] = lambda: None  # what changes in the world while waiting

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        self.on_wait()


class Delays(list[float]):
    """The retry delays of a test, recorded instead of slept; `on_append` is what changes in the
    world meanwhile (a fault that clears)."""

    def __init__(self) -> None:
        super().__init__()
        self.on_append: Callable[[], None] = lambda: None

    def append(self, delay: float) -> None:
        super().append(delay)
        self.on_append()


def execution_arn(stack: Stack, order_id: str) -> str:
    state_machine = stack.ref("OrderWorkflow")
    return state_machine.replace(":stateMachine:", ":execution:") + f":{order_id}"


def wait_for_execution(stack: Stack, arn: str, timeout: float = 30.0) -> dict[str, Any]:
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        EXECUTION_ENDS.look()
        try:
            description = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:  # its starter has not run yet: ask again soon
            EXECUTION_ENDS.sleep(0.02)
            continue
        if description["status"] != "RUNNING":
            return description
        # Woken by the end of any execution of this process (the local adapter tells each one);
        # the longest wait only bounds an end that nothing told.
        EXECUTION_ENDS.sleep(0.1)
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


def nested_history(stack: Stack, arn: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(execution ARN, event) of the execution's history, each child execution's (started by a
    `states:startExecution` task) in place, right after the event that started it."""
    for event in history(stack, arn):
        yield arn, event
        if event["type"] == "TaskSubmitted":
            child = json.loads(event["taskSubmittedEventDetails"]["output"]).get("ExecutionArn")
            if child:
                yield from nested_history(stack, child)


def states_entered(stack: Stack, arn: str, *, children: bool = False) -> list[str]:
    """The states the execution entered, in order (Map iterations and Parallel branches included;
    with `children`, the states of its child executions too, where the parent started them)."""
    events = nested_history(stack, arn) if children else ((arn, event) for event in history(stack, arn))
    return [event["stateEnteredEventDetails"]["name"] for _, event in events if "stateEnteredEventDetails" in event]


def process(local_lambda: LocalLambda, stack: Stack, order_id: str) -> dict[str, Any]:
    """Deliver everything the order set off (stream, bus, async functions, queues) and wait for its
    workflow to end; the execution's description."""
    local_lambda.settle()
    description = wait_for_execution(stack, execution_arn(stack, order_id))
    local_lambda.settle()
    return description


def settle_until(local_lambda: LocalLambda, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Deliver what is pending until `check()` is truthy (an execution waiting for someone), asking
    again as soon as an invocation ends or is queued; the longest wait only bounds a step of an
    execution that no function marks."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still not true after {timeout}s: {check}")
        local_lambda.progress.look()
        local_lambda.settle()
        local_lambda.progress.sleep(0.1)
    return value


def most_at_once(executions: list[dict[str, Any]]) -> int:
    """The largest number of the described executions that ran at the same moment."""
    moments = sorted(
        [(execution["startDate"], 1) for execution in executions]
        + [(execution["stopDate"], -1) for execution in executions]
    )
    running = peak = 0
    for _, change in moments:
        running += change
        peak = max(peak, running)
    return peak


def described_executions(sfn: Any, state_machine_arn: str) -> list[dict[str, Any]]:
    """Every execution of the machine, described (moto keeps Express executions listable)."""
    listed = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
    return [sfn.describe_execution(executionArn=e["executionArn"]) for page in listed for e in page["executions"]]


def logged_executions(stack: Stack, log_group_logical_id: str) -> list[list[dict[str, Any]]]:
    """Each execution's history from a workflow's log group, oldest first: where an Express
    workflow's path is read, on AWS too."""
    group = stack.resolve(stack.template.properties(log_group_logical_id))["LogGroupName"]
    by_execution: dict[str, list[dict[str, Any]]] = {}
    for event in stack.client("logs").filter_log_events(logGroupName=group)["events"]:
        message = json.loads(event["message"])
        by_execution.setdefault(message["execution_arn"], []).append(message)
    return list(by_execution.values())


def task_answers(stack: Stack, arn: str, state: str) -> list[dict[str, Any]]:
    """Each attempt of the task `state` of the execution or of its children, in order: the function's
    result (a waiting task's: the token's answer), or `{"error": <name>}` for an attempt that failed.
    A business outcome must be a result: a function error is counted in Lambda's alarmed Errors metric."""
    answers: list[dict[str, Any]] = []
    current: dict[str, str] = {}  # each execution's current state
    for execution, event in nested_history(stack, arn):
        if "stateEnteredEventDetails" in event:
            current[execution] = event["stateEnteredEventDetails"]["name"]
        elif current.get(execution) == state and event["type"] == "TaskSucceeded":
            output = json.loads(event["taskSucceededEventDetails"]["output"])
            answers.append(output.get("Payload", output))
        elif current.get(execution) == state and event["type"] == "TaskFailed":
            answers.append({"error": event["taskFailedEventDetails"]["error"]})
    return answers


def running_execution() -> Environment | None:
    """The evaluation environment of the execution whose task runs this code (a backend call): the
    evaluation frames on this thread hold it (a Map iteration's and a child's run on theirs)."""
    frame = sys._getframe()
    while frame is not None:
        env = frame.f_locals.get("env")
        if isinstance(env, Environment):
            return env
        frame = frame.f_back  # type: ignore[assignment]
    return None


def time_out_running_execution() -> None:
    """End the execution whose task runs this code as its TimeoutSeconds would, once that task ends.
    The task runs in a frame of its own, which would stop only the task: the execution's own
    environment is moto's execution worker's."""
    env = running_execution()
    assert env is not None, "no execution runs this code"
    arn = env.states.context_object.context_object_data["Execution"]["Id"]
    execution = stepfunctions_parser_backends[ACCOUNT_ID][REGION].describe_execution(arn)
    execution.exec_worker.env.set_timed_out()
