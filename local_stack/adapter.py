"""The one place where the local stack fills moto's gaps, by patching these of its methods:

- `LambdaFunction._invoke_lambda` (moto runs code only in Docker): Step Functions Lambda tasks and
  `lambda.invoke` run the real handler through LocalLambda; a raised error becomes the payload's
  errorType, which Retry and Catch see.
- `LambdaFunction.docker_client`: never a Docker connection (see `_no_docker`).
- `Rule.send_to_targets` (moto's EventBridge delivers only to SQS, logs and buses): a Lambda target
  becomes an asynchronous invocation, with its retries and dead-letter destinations, and the event's
  `time` in ISO 8601 as EventBridge delivers it (moto keeps epoch seconds).
- `CognitoIdpBackend.confirm_sign_up` / `admin_confirm_sign_up` (moto runs no Cognito triggers):
  a pool's PostConfirmation function runs synchronously, as Cognito runs it, and its failure fails
  the confirmation.
- DynamoDB's writes (`put_item`, `update_item`, `delete_item`, `transact_write_items` and the PartiQL
  ones): moto checks a condition and then writes, so two writes on two threads could both pass the
  same `quantity >= :wanted`; DynamoDB applies each conditional write atomically. They take turns.
- `transact_write_items` again: a cancelled transaction rolls back by replacing each of its tables
  with a copy taken before, so a table's stream shard is a new object and every stream reader's
  iterator (the event source mapping's) reads the old one, which never grows again: no later write
  is published. The tables stay the same objects; their data is restored and the stream records of
  the rolled-back writes are removed (DynamoDB publishes nothing for a cancelled transaction).
- `BaseExecutionWorkerCommunication.terminated` (moto emits no Step Functions events): when an
  execution of a STANDARD state machine ends (SUCCEEDED, FAILED, TIMED_OUT, ABORTED), the
  "Step Functions Execution Status Change" event goes to the account's default event bus, as AWS
  sends it (Express workflows send none on AWS either). Its rules deliver it like any event.
- `Environment.set_stop` / `set_error` (moto's stop_execution wakes Wait states but not a task
  waiting for its token, so an execution aborted while it waits for approval would never end): the
  waiting callbacks are interrupted too, and the error that the interrupted task then raises does
  not turn the stopped execution into a failed one: it ends ABORTED, as on AWS.
- the Step Functions retrier's `time.sleep` (optional): backoff is recorded and skipped, so tests
  assert the schedule without waiting.
- `StepFunctionsParserBackend.start_sync_execution` and `StepFunctionResponse.start_sync_execution`
  (added: moto's parser has a synchronous execution, `SyncExecution`, that its API does not expose):
  `StartSyncExecution` runs an EXPRESS state machine in the calling thread and answers as AWS does
  (see `moto_runs_sync_executions`); also usable alone, it needs no Lambda runtime. Like AWS, it does
  not list or describe these executions. botocore sends this action to a `sync-` host prefix, which
  moto does not serve: clients need `Config(inject_host_prefix=False)`.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from moto.awslambda.models import LambdaFunction
from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser
from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend
from moto.events.models import Rule, events_backends
from moto.moto_api._internal import mock_random
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.parser.api import ExecutionStatus, StateMachineType, SyncExecutionStatus
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.eval.environment import Environment
from moto.stepfunctions.parser.asl.eval.event.logging import (
    CloudWatchLoggingConfiguration,
    CloudWatchLoggingSession,
    HistoryLog,
)
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution, SyncExecution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

from local_stack.functions import FunctionError
from local_stack.logs import say
from local_stack.runtime import LocalLambda

_DYNAMODB_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)
_DYNAMODB_TURN = threading.RLock()


def _one_at_a_time(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def atomic(*args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_TURN:
            return write(*args, **kwargs)

    return atomic


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


def _stop_waiting_callbacks_too(set_stop: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(set_stop)
    def stop(env: Environment, *args: Any, **kwargs: Any) -> None:
        set_stop(env, *args, **kwargs)
        for endpoint in list(env.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()

    return stop


def _stopped_stays_stopped(set_error: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(set_error)
    def fail(env: Environment, *args: Any, **kwargs: Any) -> None:
        if not isinstance(env.program_state(), ProgramStopped):
            set_error(env, *args, **kwargs)

    return fail


def _rolled_back_in_place(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        names = {next(iter(item.values())).get("TableName") for item in transact_items}
        live = {name: backend.tables[name] for name in names if name in backend.tables}
        try:
            return transact(backend, transact_items)
        except Exception:
            for name, table in live.items():
                restored = backend.tables[name]
                if restored is not table:  # moto put back its copy: copy the data, keep the table
                    shard = table.stream_shard
                    published = len(restored.stream_shard.items) if restored.stream_shard is not None else 0
                    vars(table).update({key: value for key, value in vars(restored).items() if key != "stream_shard"})
                    if shard is not None:
                        del shard.items[published:]
                    backend.tables[name] = table
            raise

    return transact_write_items


@contextmanager
def moto_runs_local_functions(runtime: LocalLambda, backoff: list[float] | None = None) -> Iterator[None]:
    """While active, moto hands Lambda work to `runtime`. With `backoff`, Step Functions retry
    delays are appended to it instead of slept."""
    original_send = Rule.send_to_targets
    original_confirm = CognitoIdpBackend.confirm_sign_up
    original_admin_confirm = CognitoIdpBackend.admin_confirm_sign_up
    original_terminated = BaseExecutionWorkerCommunication.terminated

    def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        try:
            result = runtime.invoke(function.function_arn, payload)
        except FunctionError as error:
            return json.dumps(error.payload()), True, "".join(error.trace)
        return json.dumps(result), False, ""

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

    def terminated(communication: BaseExecutionWorkerCommunication) -> None:
        original_terminated(communication)  # the execution's final status, dates, output or error
        _send_status_change(communication.execution)

    with ExitStack() as patches:
        patches.enter_context(patch.object(LambdaFunction, "_invoke_lambda", invoke))
        patches.enter_context(patch.object(LambdaFunction, "docker_client", property(_no_docker)))
        patches.enter_context(patch.object(Rule, "send_to_targets", send_to_targets))
        patches.enter_context(patch.object(CognitoIdpBackend, "confirm_sign_up", confirm_sign_up))
        patches.enter_context(patch.object(CognitoIdpBackend, "admin_confirm_sign_up", admin_confirm_sign_up))
        patches.enter_context(patch.object(BaseExecutionWorkerCommunication, "terminated", terminated))
        for name in _DYNAMODB_WRITES:
            write = getattr(DynamoDBBackend, name)
            if name == "transact_write_items":
                write = _rolled_back_in_place(write)
            patches.enter_context(patch.object(DynamoDBBackend, name, _one_at_a_time(write)))
        patches.enter_context(patch.object(Environment, "set_stop", _stop_waiting_callbacks_too(Environment.set_stop)))
        patches.enter_context(patch.object(Environment, "set_error", _stopped_stays_stopped(Environment.set_error)))
        if backoff is not None:
            patches.enter_context(patch.object(retrier_decl, "time", SimpleNamespace(sleep=backoff.append)))
        patches.enter_context(moto_runs_sync_executions())
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


# StartSyncExecution (Express workflows): what AWS answers and bills.
MAX_INPUT_BYTES = 262144  # `input`, in UTF-8 bytes (botocore checks no maximum)
BILLED_MEMORY_MB = 64  # Express workflows are billed per 64 MB of memory...
BILLED_DURATION_STEP = timedelta(milliseconds=100)  # ...and per 100 ms, rounded up


class StateMachineTypeNotSupportedError(AWSError):
    """moto's stepfunctions exceptions have no such class (the parser's, `moto.stepfunctions.parser.api`,
    carry no error code: their `__type` is null)."""

    TYPE = "StateMachineTypeNotSupported"
    STATUS = 400


@contextmanager
def moto_runs_sync_executions() -> Iterator[None]:
    """While active, moto answers `StartSyncExecution` (under `mock_aws(config={"stepfunctions":
    {"execute_state_machine": True}})`, in process and through its server)."""
    with ExitStack() as patches:
        patches.enter_context(
            patch.object(StepFunctionsParserBackend, "start_sync_execution", start_sync_execution, create=True)
        )
        patches.enter_context(
            patch.object(StepFunctionResponse, "start_sync_execution", _respond_sync_execution, create=True)
        )
        yield


def start_sync_execution(
    backend: StepFunctionsParserBackend,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> SyncExecution:
    """Run an execution of an EXPRESS state machine to its end, in the calling thread, as AWS's
    StartSyncExecution does; validated in AWS's order (the request's constraints first)."""
    execution_input = "{}" if execution_input is None else execution_input
    if len(execution_input.encode("utf-8")) > MAX_INPUT_BYTES:
        # AWS refuses the request; moto would run it, and fail it with States.DataLimitExceeded only
        # if a state passed that much on.
        raise ValidationException(
            "1 validation error detected: Value at 'input' failed to satisfy constraint: "
            f"Member must have length less than or equal to {MAX_INPUT_BYTES}"
        )
    if name is not None:
        backend._validate_name(name)  # InvalidName, or the ValidationException of a name over 80
    state_machine = backend.describe_state_machine(state_machine_arn)  # InvalidArn, StateMachineDoesNotExist
    if state_machine.type != StateMachineType.EXPRESS:
        raise StateMachineTypeNotSupportedError("This operation is not supported by this type of state machine")
    state_machine._validate_execution_input(execution_input)  # InvalidExecutionInput, as StartExecution
    # The execution's own view of the machine: later updates do not change it. A shallow copy is
    # enough (the definition is a string) and, unlike a deep one, copies no other execution's threads.
    snapshot = copy.copy(state_machine)
    snapshot.sm_type = StateMachineType.EXPRESS  # moto's machines always say STANDARD there
    exec_name = name or str(mock_random.uuid4())
    # The parser's `stepfunctions_express_execution_arn` (LocalStack's; moto lacks the helper).
    exec_arn = (
        f"arn:{backend.partition}:states:{backend.region_name}:{backend.account_id}:express:"
        f"{state_machine.name}:{exec_name}:{mock_random.uuid4()}"
    )
    execution = SyncExecution(
        name=exec_name,
        sm_type=StateMachineType.EXPRESS,
        role_arn=state_machine.roleArn,
        # The parser's `stepfunctions_express_execution_arn` (LocalStack's; moto lacks the helper).
        exec_arn=exec_arn,
        account_id=backend.account_id,
        region_name=backend.region_name,
        state_machine=snapshot,  # type: ignore[arg-type]  # moto's StateMachine, as its own start_execution passes
        start_date=datetime.now(UTC),
        cloud_watch_logging_session=_logging_session(state_machine.arn, state_machine.loggingConfiguration, exec_arn),
        activity_store={},
        input_data=execution_input,
        trace_header=trace_header,
    )
    # Not in `state_machine.executions`: on AWS, ListExecutions and DescribeExecution do not show
    # Express executions either.
    execution.start()  # SyncExecutionWorker: evaluates the program in this thread, then `terminated`
    return execution


def _logging_session(machine_arn: str, configuration: dict[str, Any], exec_arn: str) -> CloudWatchLoggingSession | None:
    """The execution's history in the machine's log group, as its LoggingConfiguration says: where
    an Express workflow's path is read on AWS too (it has no GetExecutionHistory)."""
    logging = CloudWatchLoggingConfiguration.from_logging_configuration(machine_arn, configuration)  # type: ignore[arg-type]
    return _ExecutionLog(exec_arn, logging) if logging else None


class _ExecutionLog(CloudWatchLoggingSession):
    """moto's session cannot publish: its history events hold the time as text, it hands the logs
    backend objects where it takes dicts, and it misses the backend's "no such stream" error. Each
    event is one JSON message in the machine's stream, as AWS writes it."""

    def publish_history_log(self, history_log: HistoryLog) -> None:
        stamp: Any = history_log["event_timestamp"]
        moment = datetime.fromisoformat(stamp) if isinstance(stamp, str) else stamp
        millis = int(moment.timestamp() * 1000)
        message = to_json_str({**history_log, "event_timestamp": str(millis)})
        group, stream = self.configuration.log_group_name, self.configuration.log_stream_name
        logs: Any = self._logs_client  # moto's LogsBackend (typed as a client there)
        with _LOG_STREAMS:
            if stream not in logs.groups[group].streams:
                logs.create_log_stream(group, stream)
        logs.put_log_events(group, stream, [{"timestamp": millis, "message": message}])


_LOG_STREAMS = threading.Lock()


def sync_execution_output(execution: SyncExecution) -> dict[str, Any]:
    """StartSyncExecution's answer: the parser's, with `input` as it was sent (AWS echoes it, the
    parser would re-serialize it) and the billing details AWS adds."""
    answer: dict[str, Any] = {
        key: value for key, value in execution.to_start_sync_execution_output().items() if value is not None
    }
    answer["status"] = SyncExecutionStatus(answer["status"]).value
    answer["input"] = execution.execution_input
    stopped = execution.stop_date or datetime.now(UTC)
    answer["billingDetails"] = {
        "billedMemoryUsedInMB": BILLED_MEMORY_MB,
        "billedDurationInMilliseconds": billed_duration_ms(execution.start_date, stopped),
    }
    return answer


def billed_duration_ms(start: datetime, stop: datetime) -> int:
    """The duration AWS bills an Express execution: in steps of 100 ms, rounded up, at least one."""
    steps = -((start - stop) // BILLED_DURATION_STEP)  # the ceiling, in exact integer arithmetic
    return max(steps, 1) * (BILLED_DURATION_STEP // timedelta(milliseconds=1))


def _respond_sync_execution(response: StepFunctionResponse) -> ActionResult:
    backend = response.stepfunction_backend
    if not isinstance(backend, StepFunctionsParserBackend):
        raise NotImplementedError(
            "StartSyncExecution runs the state machine: "
            'mock_aws(config={"stepfunctions": {"execute_state_machine": True}})'
        )
    execution = start_sync_execution(
        backend,
        response._get_param("stateMachineArn"),
        response._get_param("name"),
        response._get_param("input"),
        response._get_param("traceHeader"),
    )
    return ActionResult(sync_execution_output(execution))


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _pool_of_client(backend: CognitoIdpBackend, client_id: str) -> str:
    return next(pool_id for pool_id, pool in backend.user_pools.items() if client_id in pool.clients)
