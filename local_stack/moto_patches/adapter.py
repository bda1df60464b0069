"""The one place where the local stack fills moto's gaps, by patching these of its methods:

- `LambdaFunction._invoke_lambda` (moto runs code only in Docker): Step Functions Lambda tasks and
  `lambda.invoke` run the real handler through LocalLambda; a raised error becomes the payload's
  errorType, which Retry and Catch see.
- `LambdaFunction.invoke` with `InvocationType: Event` (moto runs it at once and forgets a failure):
  queued on the runtime as Lambda queues it, with the function's retries, DLQ and on-failure
  destination (what `make redrive` relies on); 202, as Lambda answers.
- `LambdaFunction.docker_client`: never a Docker connection (see `_no_docker`).
- `Rule.send_to_targets` (moto's EventBridge delivers only to SQS, logs and buses): a Lambda target
  becomes an asynchronous invocation, with its retries and dead-letter destinations, and the event's
  `time` in ISO 8601 as EventBridge delivers it (moto keeps epoch seconds).
- `CognitoIdpBackend.confirm_sign_up` / `admin_confirm_sign_up` (moto runs no Cognito triggers):
  a pool's PostConfirmation function runs synchronously, as Cognito runs it, and its failure fails
  the confirmation.
- DynamoDB's writes, atomic; a cancelled transaction's rollback that keeps the stream; the
  idempotency tokens of TransactWriteItems: kept in `local_stack/moto_patches/dynamodb.py`, applied here.
- `BaseExecutionWorkerCommunication.terminated` (moto emits no Step Functions events): when an
  execution of a STANDARD state machine ends (SUCCEEDED, FAILED, TIMED_OUT, ABORTED), the
  "Step Functions Execution Status Change" event goes to the account's default event bus, as AWS
  sends it (Express workflows send none on AWS either). Its rules deliver it like any event.
  With `Execution.start`, every execution (Express too) is counted in AWS/States as AWS counts it:
  ExecutionsStarted, then ExecutionsSucceeded/Failed/TimedOut/Aborted.
- `Environment.set_stop` / `set_error` (moto's stop_execution wakes Wait states but not a task
  waiting for its token, so an execution aborted while it waits for approval would never end): the
  waiting callbacks are interrupted too, and the error that the interrupted task then raises does
  not turn the stopped execution into a failed one: it ends ABORTED, as on AWS.
- `StepFunctionResponse.send_task_failure` (moto's handler drops the request's `cause`, which its
  backend takes): a task failed through SendTaskFailure carries its cause, in the TaskFailed event
  and in what a Catch passes on, as on AWS.
- the Step Functions retrier's `time.sleep` (optional): backoff is recorded and skipped, so tests
  assert the schedule without waiting.
- `Queue.add_message` and `StreamShard.add` (moto keeps no event source mapping of a local
  function): each message sent to a queue and each stream record is told to the runtime, naming its
  queue or stream, so that `make dev`'s delivery loop wakes for it and polls that source's mapping
  alone, instead of polling every source many times a second.
- `StartSyncExecution` of Express workflows, and their history in the machine's log group: kept in
  `local_stack/moto_patches/express.py` (a module of its own for its size), applied here with the rest.
- nested executions (`states:startExecution`, `.sync`, `.sync:2` tasks): kept in
  `local_stack/moto_patches/nested.py`, applied here.

And the patches for speed (`local_stack/moto_patches/speed.py`: moto doing the same work again for
every definition, task, JSONPath, topic subscription and request), applied with the rest.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from moto.awslambda.models import LambdaFunction
from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser
from moto.core.responses import EmptyResult
from moto.dynamodb.models.table import StreamShard
from moto.events.models import Rule, events_backends
from moto.sqs.models import Message, Queue
from moto.stepfunctions.parser.api import ExecutionStatus, StateMachineType
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from local_stack.cloudwatch.metrics import MetricSink
from local_stack.cloudwatch.publishers import execution_ended, execution_started
from local_stack.lambda_runtime.functions import FunctionError
from local_stack.lambda_runtime.runtime import LocalLambda
from local_stack.logs import say
from local_stack.moto_patches.dynamodb import moto_items_as_dynamodb
from local_stack.moto_patches.express import moto_runs_sync_executions
from local_stack.moto_patches.nested import EXECUTION_ENDS, moto_runs_nested_executions
from local_stack.moto_patches.speed import moto_made_faster


def _no_docker(function: LambdaFunction) -> Any:
    """moto's /moto-api/data.json reads every model attribute, and this one connects to Docker: on a
    machine without a Docker daemon the whole dump failed (500). Functions never run in Docker here."""
    raise AttributeError("the local stack runs functions without Docker")


def _as_delivered(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge hands it to a target: moto keeps `time` as epoch seconds, AWS sends
    ISO 8601 (what Powertools' EventBridgeEvent and every handler expect)."""
    delivered = copy.deepcopy(event)
    if isinstance(delivered.get("time"), int | float):
        delivered["time"] = datetime.fromtimestamp(delivered["time"], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return delivered


def _send_task_failure(response: StepFunctionResponse) -> EmptyResult:
    """SendTaskFailure with its cause, which moto's own handler leaves out."""
    backend = response.stepfunction_backend
    assert isinstance(backend, StepFunctionsParserBackend)  # the one that runs executions: it takes a cause
    backend.send_task_failure(
        response._get_param("taskToken"), error=response._get_param("error"), cause=response._get_param("cause")
    )
    return EmptyResult()


def stop_waiting_callbacks(env: Environment) -> None:
    """Interrupt the execution's tasks that wait for their token (moto's stop leaves them waiting)."""
    for endpoint in list(env.callback_pool_manager._pool.values()):
        endpoint.interrupt_all()


def _stop_waiting_callbacks_too(set_stop: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(set_stop)
    def stop(env: Environment, *args: Any, **kwargs: Any) -> None:
        set_stop(env, *args, **kwargs)
        stop_waiting_callbacks(env)

    return stop


def _stopped_stays_stopped(set_error: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(set_error)
    def fail(env: Environment, *args: Any, **kwargs: Any) -> None:
        if not isinstance(env.program_state(), ProgramStopped):
            set_error(env, *args, **kwargs)

    return fail


@contextmanager
def moto_runs_local_functions(runtime: LocalLambda, backoff: list[float] | None = None) -> Iterator[None]:
    """While active, moto hands Lambda work to `runtime`. With `backoff`, Step Functions retry
    delays are appended to it instead of slept."""
    original_send = Rule.send_to_targets
    original_confirm = CognitoIdpBackend.confirm_sign_up
    original_admin_confirm = CognitoIdpBackend.admin_confirm_sign_up
    original_function_invoke = LambdaFunction.invoke

    def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        try:
            result = runtime.invoke(function.function_arn, payload)
        except FunctionError as error:
            return json.dumps(error.payload()), True, "".join(error.trace)
        return json.dumps(result), False, ""

    def function_invoke(function: LambdaFunction, body: str, request_headers: Any, response_headers: Any) -> Any:
        if request_headers.get("x-amz-invocation-type") != "Event":
            return original_function_invoke(function, body, request_headers, response_headers)
        runtime.invoke_async(function.function_arn, json.loads(body) if body else {})
        return ""

    def send_to_targets(rule: Rule, original_event: Any, transform_input: bool = True) -> None:
        if not rule.event_pattern.matches_event(original_event):
            return
        lambda_targets = [target for target in rule.targets if ":lambda:" in target["Arn"]]
        for target in lambda_targets:
            runtime.invoke_async(target["Arn"], _as_delivered(original_event))
        others = copy.copy(rule)
        others.targets = [target for target in rule.targets if target not in lambda_targets]
        if others.targets:
            original_send(others, original_event, transform_input)

    def confirm_sign_up(backend: CognitoIdpBackend, client_id: str, username: str) -> str:
        result: str = original_confirm(backend, client_id, username)
        _post_confirmation(runtime, backend, _pool_of_client(backend, client_id), username, client_id)
        return result

    def admin_confirm_sign_up(backend: CognitoIdpBackend, user_pool_id: str, username: str) -> str:
        result: str = original_admin_confirm(backend, user_pool_id, username)
        _post_confirmation(runtime, backend, user_pool_id, username, None)
        return result

    with ExitStack() as patches:
        patches.enter_context(patch.object(LambdaFunction, "_invoke_lambda", invoke))
        patches.enter_context(patch.object(LambdaFunction, "invoke", function_invoke))
        patches.enter_context(patch.object(Rule, "send_to_targets", send_to_targets))
        patches.enter_context(patch.object(CognitoIdpBackend, "confirm_sign_up", confirm_sign_up))
        patches.enter_context(patch.object(CognitoIdpBackend, "admin_confirm_sign_up", admin_confirm_sign_up))
        patches.enter_context(_executions_reported(runtime.metrics))
        patches.enter_context(_arrivals_told(runtime))
        patches.enter_context(_moto_as_aws())
        if backoff is not None:
            patches.enter_context(patch.object(retrier_decl, "time", SimpleNamespace(sleep=backoff.append)))
        patches.enter_context(moto_runs_sync_executions())
        patches.enter_context(moto_runs_nested_executions())
        patches.enter_context(moto_made_faster())
        yield


@contextmanager
def _executions_reported(metrics: MetricSink) -> Iterator[None]:
    """Each execution counted in AWS/States when it starts and ends, and a STANDARD one's
    status-change event sent when it ends."""
    original_start = Execution.start
    original_terminated = BaseExecutionWorkerCommunication.terminated

    def start(execution: Execution) -> None:
        execution_started(metrics, _machine_arn(execution))
        original_start(execution)

    def terminated(communication: BaseExecutionWorkerCommunication) -> None:
        original_terminated(communication)  # the execution's final status, dates, output or error
        execution = communication.execution
        EXECUTION_ENDS.happened()  # wakes the `.sync` tasks waiting for a child (local_stack/moto_patches/nested.py)
        if execution.exec_status is not None:
            execution_ended(metrics, _machine_arn(execution), execution.exec_status.value)
        _send_status_change(execution)

    with (
        patch.object(Execution, "start", start),
        patch.object(BaseExecutionWorkerCommunication, "terminated", terminated),
    ):
        yield


@contextmanager
def _arrivals_told(runtime: LocalLambda) -> Iterator[None]:
    """What an event source mapping may now deliver (a message queued, a stream record written) is
    told to the runtime, naming its queue or stream."""
    original_add_message = Queue.add_message
    original_add_record = StreamShard.add

    def add_message(queue: Queue, message: Message) -> None:
        original_add_message(queue, message)
        runtime.arrived(queue.queue_arn)

    def add_record(shard: StreamShard, old: Any, new: Any) -> None:
        original_add_record(shard, old, new)
        runtime.arrived(f"{shard.table.table_arn}/stream/{shard.table.latest_stream_label}")

    with patch.object(Queue, "add_message", add_message), patch.object(StreamShard, "add", add_record):
        yield


@contextmanager
def _moto_as_aws() -> Iterator[None]:
    """The gaps that concern no function: Docker, DynamoDB's atomic writes, whole reads and request tokens,
    SendTaskFailure's cause, stopped executions."""
    with ExitStack() as patches:
        patches.enter_context(patch.object(LambdaFunction, "docker_client", property(_no_docker)))
        patches.enter_context(moto_items_as_dynamodb())
        patches.enter_context(patch.object(StepFunctionResponse, "send_task_failure", _send_task_failure))
        patches.enter_context(patch.object(Environment, "set_stop", _stop_waiting_callbacks_too(Environment.set_stop)))
        patches.enter_context(patch.object(Environment, "set_error", _stopped_stays_stopped(Environment.set_error)))
        yield


def _post_confirmation(
    runtime: LocalLambda, backend: CognitoIdpBackend, pool_id: str, username: str, client_id: str | None
) -> None:
    """Run the pool's PostConfirmation trigger, as Cognito does after a confirmation."""
    pool = backend.describe_user_pool(pool_id)
    trigger = pool.extended_config.get("LambdaConfig", {}).get("PostConfirmation")
    if not trigger:
        return
    user: CognitoIdpUser = backend.admin_get_user(pool_id, username)
    event = {
        "version": "1",
        "region": backend.region_name,
        "userPoolId": pool_id,
        "userName": user.username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown", "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE"},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": {**user.attribute_lookup, "cognito:user_status": "CONFIRMED"}},
        "response": {},
    }
    try:
        runtime.invoke(trigger, event)
    except FunctionError as error:
        # What Cognito answers when a trigger fails: the confirmation fails with the function's error.
        raise InvalidParameterException(f"PostConfirmation failed with error {error.message}.") from error


STATUS_CHANGE = "Step Functions Execution Status Change"


def status_change_event(execution: Execution) -> dict[str, Any]:
    """The PutEvents entry of an ended execution: the detail is DescribeExecution's, as AWS sends it
    (dates in epoch milliseconds; output and outputDetails only for SUCCEEDED; null where absent)."""
    described = execution.to_describe_output()
    succeeded = described["status"] == ExecutionStatus.SUCCEEDED
    stopped = described.get("stopDate") or datetime.now(UTC)
    detail = {
        "executionArn": described["executionArn"],
        "stateMachineArn": described["stateMachineArn"],
        "name": described["name"],
        "status": described["status"].value,
        "startDate": _epoch_ms(described["startDate"]),
        "stopDate": _epoch_ms(stopped),
        "input": described["input"],
        "inputDetails": {"included": True},
        "output": described["output"] if succeeded else None,
        "outputDetails": {"included": True} if succeeded else None,
        "error": described.get("error"),
        "cause": described.get("cause"),
    }
    return {
        "Source": "aws.states",
        "DetailType": STATUS_CHANGE,
        "Detail": json.dumps(detail),
        "Resources": [described["executionArn"]],
        "Time": stopped.timestamp(),  # moto renders it as ISO 8601, as AWS does
    }


def _send_status_change(execution: Execution) -> None:
    """Put the ended execution's event on the default bus of its account and region (best effort,
    as on AWS: a target that fails to take it fails no execution)."""
    # moto's state machines keep their type in `type`; their `sm_type` always says STANDARD.
    if getattr(execution.state_machine, "type", execution.sm_type) == StateMachineType.EXPRESS:
        return
    try:
        events_backends[execution.account_id][execution.region_name].put_events([status_change_event(execution)])
    except Exception as error:
        say(f"[local] status-change event of {execution.exec_arn} not delivered: {error!r}")


def _machine_arn(execution: Execution) -> str:
    """The state machine's ARN (not its version's): the StateMachineArn of AWS/States metrics."""
    return str(getattr(execution.state_machine, "source_arn", None) or execution.state_machine_arn)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _pool_of_client(backend: CognitoIdpBackend, client_id: str) -> str:
    return next(pool_id for pool_id, pool in backend.user_pools.items() if client_id in pool.clients)
