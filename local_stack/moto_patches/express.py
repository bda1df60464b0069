"""Express workflows under moto, filled in for the local adapter (`local_stack/moto_patches/adapter.py` applies
it with its other patches; also usable alone, it needs no Lambda runtime):

- `StepFunctionsParserBackend.start_sync_execution` and `StepFunctionResponse.start_sync_execution`
  (added: moto's parser has a synchronous execution, `SyncExecution`, that its API does not expose):
  `StartSyncExecution` runs an EXPRESS state machine in the calling thread and answers as AWS does,
  with its 256 KiB input limit. Like AWS, it does not list or describe these executions. botocore
  sends this action to a `sync-` host prefix, which moto does not serve: clients need
  `Config(inject_host_prefix=False)` (or AWS_DISABLE_HOST_PREFIX_INJECTION=true).
- Each execution's history goes to the machine's log group, as its LoggingConfiguration says: where an
  Express workflow's path is read on AWS too (moto's own logging session cannot publish).
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

from moto.core.exceptions import AWSError
from moto.core.responses import ActionResult
from moto.moto_api._internal import mock_random
from moto.stepfunctions.exceptions import ValidationException
from moto.stepfunctions.parser.api import StateMachineType, SyncExecutionStatus
from moto.stepfunctions.parser.asl.eval.event.logging import (
    CloudWatchLoggingConfiguration,
    CloudWatchLoggingSession,
    HistoryLog,
)
from moto.stepfunctions.parser.asl.utils.encoding import to_json_str
from moto.stepfunctions.parser.backend.execution import SyncExecution
from moto.stepfunctions.parser.models import StepFunctionsParserBackend
from moto.stepfunctions.responses import StepFunctionResponse

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


_LOG_STREAMS = threading.Lock()


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
