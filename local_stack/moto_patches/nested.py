"""Nested workflows under moto, filled in for the local adapter (`local_stack/moto_patches/adapter.py` applies it
with its other patches; also usable alone, it needs no Lambda runtime): a Task state whose Resource is
`arn:aws:states:::states:startExecution` (plain, `.sync` or `.sync:2`) starts a child execution.

moto's parser (LocalStack's, trimmed) lost the step that maps a task's parameters to botocore's
request and botocore's response back to the task's output: `StateTaskService._normalise_parameters`
and `_normalise_response` are no-ops there. The Step Functions integration, the only one that calls
botocore with the ASL's own keys, fails every such task with States.Runtime. Patched, on
`StateTaskServiceSfn` only:

- `_normalise_parameters`: after moto's own step (which makes `Input` JSON text), the ASL's
  PascalCase keys become botocore's (`StateMachineArn` -> `stateMachineArn`, `Name`, `Input`).
- `_normalise_response`: botocore's answers (StartExecution's, and the DescribeExecution that
  `.sync` and `.sync:2` poll) become the task's output as AWS gives it: PascalCase keys, nested ones
  too (`InputDetails.Included`), dates as epoch milliseconds (numbers). The parser's resolvers read
  `ExecutionArn` back; a datetime left in the output makes moto's DescribeExecution of the parent
  raise (it `json.dumps` the output).
  moto's DescribeExecution has no `inputDetails`; AWS's has, and moto never truncates input.

So the task's output is, plain: `{"ExecutionArn", "StartDate"}`; `.sync`: `{"ExecutionArn",
"Input", "InputDetails", "Name", "Output", "OutputDetails", "StartDate", "StateMachineArn", "Status",
"StopDate"}` with `Input` and `Output` JSON text; `.sync:2`: the same with both parsed. A child that
fails, times out or is aborted fails the task with States.TaskFailed, its cause that DescribeExecution
as JSON (`Error` and `Cause` instead of `Output`).

Not filled in (moto's own behaviour): a child needs a `Name`. moto does not generate one as AWS does:
unnamed children are all called "None", and the second one fails the task with
StepFunctions.ExecutionAlreadyExistsException. moto keeps names unique per state machine for EXPRESS
machines as well (it runs them as STANDARD executions, which also makes them listed and described),
so a retried task that restarts its child under the same name fails the same way once the first
child has ended (name children after `$$.State.RetryCount` too).

Also patched, `StateTaskServiceSfn._eval_integration_pattern`: a `.sync` task that Retry runs again
timed out at once (TaskTimedOut). Its callback endpoint is made once per state, and the first
attempt interrupts it when it ends; the retry waited on the interrupted one. A retry now gets a
fresh endpoint under the same token.

And one for speed: moto's `.sync` task asks DescribeExecution of its child, then sleeps 0.5 s, until
the child has ended, so every nested execution cost at least half a second. The task now waits for
the end of an execution (`EXECUTION_ENDS`, told by the adapter when any execution ends) and asks
again at once; 0.5 s stays the longest wait, for a parent stopped meanwhile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from unittest.mock import patch

import botocore.session
from botocore import xform_name
from botocore.model import OperationModel, ServiceModel
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)
from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackEndpoint
from moto.stepfunctions.parser.asl.eval.environment import Environment

from local_stack.happenings import Happenings

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


EXECUTION_ENDS = Happenings()  # told by the adapter when any execution ends

# moto's own steps, which the patched ones extend.
_moto_normalise_parameters = StateTaskServiceSfn._normalise_parameters
_moto_normalise_response = StateTaskServiceSfn._normalise_response
_moto_eval_integration_pattern = StateTaskServiceSfn._eval_integration_pattern


@contextmanager
def moto_runs_nested_executions() -> Iterator[None]:
    """While active, moto's Step Functions interpreter (under `mock_aws(config={"stepfunctions":
    {"execute_state_machine": True}})`) runs `states:startExecution` tasks, plain, `.sync` and
    `.sync:2`, with AWS's task output."""
    with ExitStack() as patches:
        patches.enter_context(patch.object(StateTaskServiceSfn, "_normalise_parameters", _normalise_parameters))
        patches.enter_context(patch.object(StateTaskServiceSfn, "_normalise_response", _normalise_response))
        patches.enter_context(patch.object(StateTaskServiceSfn, "_eval_integration_pattern", _eval_integration_pattern))
        patches.enter_context(patch.object(state_task_service_callback, "time", EXECUTION_ENDS))
        yield


def _eval_integration_pattern(task: StateTaskServiceSfn, env: Environment, *args: Any, **kwargs: Any) -> None:
    task_data: dict[str, Any] = dict(env.states.context_object.context_object_data.get("Task") or {})
    token = task_data.get("Token")
    endpoint = env.callback_pool_manager.get(token) if isinstance(token, str) else None
    if (
        isinstance(token, str) and endpoint is not None and endpoint._notify_event.is_set()
    ):  # interrupted by the previous attempt
        env.callback_pool_manager._pool[token] = CallbackEndpoint(callback_id=token)
    EXECUTION_ENDS.look()  # before the child starts: its end wakes the `.sync` wait below
    _moto_eval_integration_pattern(task, env, *args, **kwargs)


def _normalise_parameters(
    task: StateTaskServiceSfn,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    _moto_normalise_parameters(task, parameters, boto_service_name, service_action_name)
    # The parser's own renaming, by the request's shape: `StateMachineArn` -> `stateMachineArn`.
    shape = _operation(task, service_action_name).input_shape
    if shape is not None:
        task._to_boto_request(parameters, shape)


def _normalise_response(
    task: StateTaskServiceSfn,
    response: Any,
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    _moto_normalise_response(task, response, boto_service_name, service_action_name)
    if not isinstance(response, dict):
        return
    operation = _operation(task, service_action_name)
    if operation.name == "DescribeExecution":
        response.setdefault("inputDetails", {"included": True})
    # By the response's shape: keys the shape does not know (a mocked response's) stay as they are.
    if operation.output_shape is not None:
        task._from_boto_response(response, operation.output_shape)
    for key, value in response.items():
        if isinstance(value, datetime):
            response[key] = _epoch_millis(value)


def _operation(task: StateTaskServiceSfn, service_action_name: str | None) -> OperationModel:
    """The botocore operation of the task (StartExecution), or the one its resolver names
    (`describe_execution`)."""
    return _operations()[task._get_boto_service_action(service_action_name)]


@cache
def _operations() -> dict[str, OperationModel]:
    model: ServiceModel = botocore.session.get_session().get_service_model("stepfunctions")
    return {xform_name(name): model.operation_model(name) for name in model.operation_names}


def _epoch_millis(moment: datetime) -> int:
    """As Step Functions writes a date into a task's output; exact, in integer arithmetic."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND
