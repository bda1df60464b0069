"""A gap of moto that the local adapter fills: a Task state that starts another state machine's
execution (`arn:aws:states:::states:startExecution`, plain, `.sync` and `.sync:2`). moto's parser
calls botocore with the ASL's PascalCase keys and reads botocore's answer as if it were the task's
output; patched, the task runs and its output is AWS's: PascalCase keys, dates in epoch milliseconds.
The children here are EXPRESS machines made of Pass, Choice, Wait and Fail states: no Lambda."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from local_stack.happenings import Happenings
from local_stack.moto_patches.nested import EXECUTION_ENDS, moto_runs_nested_executions

ROLE = "arn:aws:iam::123456789012:role/local-nested-executions"
START = "arn:aws:states:::states:startExecution"
CHUNK_WORKER = {
    "StartAt": "Route",
    "States": {
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.chunk", "StringEquals": "broken", "Next": "Broken"}],
            "Default": "Done",
        },
        "Done": {"Type": "Pass", "Parameters": {"chunk.$": "$.chunk", "done": True}, "End": True},
        "Broken": {"Type": "Fail", "Error": "ChunkBroken", "Cause": "chunk is broken"},
    },
}
SLOW_WORKER = {  # one real second: long enough for the Map's children to overlap
    "StartAt": "Linger",
    "States": {
        "Linger": {"Type": "Wait", "Seconds": 1, "Next": "Done"},
        "Done": {"Type": "Pass", "Parameters": {"chunk.$": "$.chunk"}, "End": True},
    },
}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@pytest.fixture
def sfn(aws):
    """Step Functions in process (moto's mock_aws, running executions), with only this patch."""
    with moto_runs_nested_executions():
        yield aws.client("stepfunctions")


def machine(sfn, name, definition, kind="STANDARD"):
    created = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE, type=kind)
    return created["stateMachineArn"]


def start_child(child_arn, resource=START, **fields):
    """A Task state starting `child_arn` with the chunk of its input, named by its input's `name`."""
    parameters = {"StateMachineArn": child_arn, "Name.$": "$.name", "Input": {"chunk.$": "$.chunk"}}
    return {"Type": "Task", "Resource": resource, "Parameters": parameters, **fields}


def run(sfn, machine_arn, name, execution_input):
    arn = sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(execution_input))["executionArn"]
    return finished(sfn, arn)


def finished(sfn, execution_arn, timeout=20.0):
    """Executions run on moto's threads: the description once the execution has ended."""
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline, f"{execution_arn} still running"
        time.sleep(0.05)
    return described


def child_execution_arn(child_arn, name):
    # moto's form for every execution; AWS's for an EXPRESS one would be ...:express:<machine>:<name>:<uuid>
    return child_arn.replace(":stateMachine:", ":execution:") + f":{name}"


def millis(moment):
    return (moment - EPOCH) // timedelta(milliseconds=1)


def ended_child(sfn, child_arn, name, status, **fields):
    """The ended child's DescribeExecution as a `.sync` task answers it, in AWS's form (PascalCase,
    dates in epoch milliseconds): what every ended child has, and `fields`."""
    described = sfn.describe_execution(executionArn=child_execution_arn(child_arn, name))
    return {
        "ExecutionArn": child_execution_arn(child_arn, name),
        "StateMachineArn": child_arn,
        "Name": name,
        "Status": status,
        "StartDate": millis(described["startDate"]),
        "StopDate": millis(described["stopDate"]),
        "InputDetails": {"Included": True},
        **fields,
    }


def path_of(sfn, execution_arn):
    events = sfn.get_execution_history(executionArn=execution_arn)["events"]
    return [event["stateEnteredEventDetails"]["name"] for event in events if "stateEnteredEventDetails" in event]


def test_start_execution_answers_the_child_execution_and_its_start(sfn):
    child = machine(sfn, "chunk-worker", CHUNK_WORKER, kind="EXPRESS")
    parent = machine(sfn, "dispatcher", {"StartAt": "Process", "States": {"Process": start_child(child, End=True)}})

    before = millis(datetime.now(UTC))
    described = run(sfn, parent, "dispatch-1", {"name": "chunk-a", "chunk": "a"})
    child_described = finished(sfn, child_execution_arn(child, "chunk-a"))

    assert described["status"] == "SUCCEEDED"
    output = json.loads(described["output"])
    assert output == {
        "ExecutionArn": child_execution_arn(child, "chunk-a"),
        "StartDate": millis(child_described["startDate"]),
    }
    assert isinstance(output["StartDate"], int)
    assert before <= output["StartDate"] <= millis(datetime.now(UTC))
    assert child_described["status"] == "SUCCEEDED"
    assert child_described["name"] == "chunk-a"
    assert json.loads(child_described["input"]) == {"chunk": "a"}
    assert json.loads(child_described["output"]) == {"chunk": "a", "done": True}


@pytest.mark.parametrize("resource", [f"{START}.sync", f"{START}.sync:2"])
def test_a_synchronous_start_answers_the_ended_child_execution(sfn, resource):
    child = machine(sfn, "chunk-worker", CHUNK_WORKER, kind="EXPRESS")
    parent = machine(
        sfn, "dispatcher", {"StartAt": "Process", "States": {"Process": start_child(child, resource, End=True)}}
    )

    before = millis(datetime.now(UTC))
    described = run(sfn, parent, "dispatch-1", {"name": "chunk-a", "chunk": "a"})
    after = millis(datetime.now(UTC))

    assert described["status"] == "SUCCEEDED", described
    output = json.loads(described["output"])
    child_described = sfn.describe_execution(executionArn=child_execution_arn(child, "chunk-a"))
    parsed = resource.endswith(":2")  # .sync:2 parses the child's input and output; .sync leaves them JSON text
    assert output == ended_child(
        sfn,
        child,
        "chunk-a",
        "SUCCEEDED",
        Input={"chunk": "a"} if parsed else '{"chunk":"a"}',
        Output={"chunk": "a", "done": True} if parsed else child_described["output"],
        OutputDetails={"Included": True},
    )
    if not parsed:
        assert json.loads(output["Output"]) == {"chunk": "a", "done": True}
    assert all(isinstance(output[key], int) for key in ("StartDate", "StopDate"))
    assert before <= output["StartDate"] <= output["StopDate"] <= after


@pytest.mark.parametrize("resource", [f"{START}.sync", f"{START}.sync:2"])
def test_a_failed_child_fails_the_task_with_states_task_failed(sfn, resource):
    child = machine(sfn, "chunk-worker", CHUNK_WORKER, kind="EXPRESS")
    catch = [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failure", "Next": "Recover"}]
    parent = machine(
        sfn,
        "dispatcher",
        {
            "StartAt": "Process",
            "States": {
                "Process": start_child(child, resource, Catch=catch, Next="Finish"),
                "Finish": {"Type": "Succeed"},
                "Recover": {"Type": "Pass", "End": True},
            },
        },
    )

    described = run(sfn, parent, "dispatch-1", {"name": "chunk-b", "chunk": "broken"})

    assert described["status"] == "SUCCEEDED"
    assert path_of(sfn, described["executionArn"]) == ["Process", "Recover"]
    failure = json.loads(described["output"])["failure"]
    assert failure["Error"] == "States.TaskFailed"
    assert json.loads(failure["Cause"]) == ended_child(  # as the task's output would be
        sfn,
        child,
        "chunk-b",
        "FAILED",
        Input={"chunk": "broken"} if resource.endswith(":2") else '{"chunk":"broken"}',
        Error="ChunkBroken",
        Cause="chunk is broken",
    )


@pytest.mark.slow
def test_a_map_starts_no_more_children_at_once_than_its_max_concurrency(sfn):
    child = machine(sfn, "slow-worker", SLOW_WORKER, kind="EXPRESS")
    process = start_child(child, f"{START}.sync:2", OutputPath="$.Output", End=True)
    parent = machine(
        sfn,
        "dispatcher",
        {
            "StartAt": "Chunks",
            "States": {
                "Chunks": {
                    "Type": "Map",
                    "ItemsPath": "$.chunks",
                    "MaxConcurrency": 2,
                    "ItemProcessor": {
                        "ProcessorConfig": {"Mode": "INLINE"},
                        "StartAt": "Process",
                        "States": {"Process": process},
                    },
                    "End": True,
                }
            },
        },
    )
    chunks = [{"name": f"chunk-{index}", "chunk": str(index)} for index in range(6)]

    described = run(sfn, parent, "dispatch-1", {"chunks": chunks})

    assert described["status"] == "SUCCEEDED", described
    assert json.loads(described["output"]) == [{"chunk": str(index)} for index in range(6)]
    children = [sfn.describe_execution(executionArn=child_execution_arn(child, item["name"])) for item in chunks]
    assert {execution["status"] for execution in children} == {"SUCCEEDED"}
    # The most children running at one moment: a stop at the same instant as a start comes first.
    moments = sorted(
        [(execution["startDate"], 1) for execution in children]
        + [(execution["stopDate"], -1) for execution in children]
    )
    running = [sum(step for _, step in moments[: index + 1]) for index in range(len(moments))]
    assert max(running) == 2


def test_a_retried_task_cannot_restart_its_child_under_the_same_name(sfn):
    """moto's quirk: execution names are unique per machine, EXPRESS ones too, so the retry's
    StartExecution fails; the Retry on States.TaskFailed does not match that error."""
    child = machine(sfn, "chunk-worker", CHUNK_WORKER, kind="EXPRESS")
    retry = [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 1}]
    parent = machine(
        sfn,
        "dispatcher",
        {"StartAt": "Process", "States": {"Process": start_child(child, f"{START}.sync:2", Retry=retry, End=True)}},
    )

    described = run(sfn, parent, "dispatch-1", {"name": "chunk-b", "chunk": "broken"})

    assert described["status"] == "FAILED"
    assert described["error"] == "StepFunctions.ExecutionAlreadyExistsException"
    assert described["cause"].startswith(
        f"Execution Already Exists: '{child_execution_arn(child, 'chunk-b')}' (Service: AWSStepFunctions; "
        "Status Code: 400; Error Code: ExecutionAlreadyExists;"
    )
    events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    errors = [event["taskFailedEventDetails"]["error"] for event in events if event["type"] == "TaskFailed"]
    assert errors == ["States.TaskFailed", "StepFunctions.ExecutionAlreadyExistsException"]


def test_without_the_patch_the_task_fails(aws):
    sfn = aws.client("stepfunctions")
    child = machine(sfn, "chunk-worker", CHUNK_WORKER, kind="EXPRESS")
    parent = machine(sfn, "dispatcher", {"StartAt": "Process", "States": {"Process": start_child(child, End=True)}})

    described = run(sfn, parent, "dispatch-1", {"name": "chunk-a", "chunk": "a"})

    assert described["status"] == "FAILED"
    assert described["error"] == "States.Runtime"
    assert described["cause"].endswith("'StateMachineArn'")  # botocore was given the ASL's keys
    assert sfn.list_executions(stateMachineArn=child)["executions"] == []


def test_a_retried_task_waits_for_its_new_child(sfn):
    """The retry of a `.sync:2` task (its child named after the attempt) follows the new child to its
    end: moto timed it out at once (TaskTimedOut), its first attempt having closed its callback."""
    flaky = {  # fails on the parent's first attempt, succeeds on its retry
        "StartAt": "Route",
        "States": {
            "Route": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.attempt", "NumericEquals": 0, "Next": "Broken"}],
                "Default": "Done",
            },
            "Done": {"Type": "Pass", "Parameters": {"attempt.$": "$.attempt"}, "End": True},
            "Broken": {"Type": "Fail", "Error": "ChunkBroken", "Cause": "first attempt"},
        },
    }
    child = machine(sfn, "flaky-worker", flaky, kind="EXPRESS")
    task = {
        "Type": "Task",
        "Resource": f"{START}.sync:2",
        "Parameters": {
            "StateMachineArn": child,
            "Name.$": "States.Format('chunk-{}', $$.State.RetryCount)",
            "Input": {"attempt.$": "$$.State.RetryCount"},
        },
        "ResultSelector": {"output.$": "$.Output", "name.$": "$.Name"},
        "Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 1}],
        "End": True,
    }
    parent = machine(sfn, "retrying-dispatcher", {"StartAt": "Process", "States": {"Process": task}})

    described = run(sfn, parent, "dispatch-2", {})

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == {"output": {"attempt": 1}, "name": "chunk-1"}
    events = sfn.get_execution_history(executionArn=described["executionArn"])["events"]
    assert [event["type"] for event in events if event["type"].startswith("Task") and "Fail" in event["type"]] == [
        "TaskFailed"
    ]
    assert "TaskTimedOut" not in {event["type"] for event in events}


def test_a_synchronous_task_wakes_when_an_execution_ends_not_after_a_fixed_poll() -> None:
    """The `.sync` wait (moto's loop sleeps 0.5 s between two DescribeExecution calls) returns as
    soon as an execution ends, including one that ended between the look and the wait."""
    ends = Happenings()
    ends.look()
    assert ends.sleep(0) is False  # nothing ended: the longest wait runs out
    ends.look()
    ends.happened()  # the child ends before its parent starts waiting
    assert ends.sleep(60) is True  # returns at once, never 60 s later
    assert ends.sleep(0) is False  # and that end is not counted twice

    ending = threading.Timer(0.05, ends.happened)
    ending.start()
    assert ends.sleep(60) is True
    ending.join()


def test_the_synchronous_task_waits_on_execution_ends_while_patched(aws) -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_callback

    with moto_runs_nested_executions():
        assert state_task_service_callback.time is EXECUTION_ENDS
    assert state_task_service_callback.time is time
