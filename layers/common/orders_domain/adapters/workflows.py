"""Workflows (Step Functions): starting one at most once per order or import, and resuming an
execution that waits on a task token (staff's approval)."""

import json
from typing import Any

from botocore.exceptions import ClientError
from pydantic import BaseModel

from orders_domain.adapters import aws_clients

# What Step Functions answers for a token whose task no longer waits (decided, timed out, ended).
_GONE = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


def start_once(state_machine_arn: str, name: str, payload: dict[str, Any]) -> bool:
    """Start the execution called `name`; False when it exists already (a repeated event), which is
    not an error: a standard workflow's execution names are unique for 90 days."""
    try:
        aws_clients.stepfunctions().start_execution(
            stateMachineArn=state_machine_arn, name=name, input=json.dumps(payload)
        )
    except aws_clients.stepfunctions().exceptions.ExecutionAlreadyExists:
        return False
    return True


def resume(token: str, output: BaseModel) -> bool:
    """Complete the waiting task with `output` (its result, on which the workflow decides); False
    when it no longer waits."""
    try:
        aws_clients.stepfunctions().send_task_success(taskToken=token, output=output.model_dump_json(exclude_none=True))
    except ClientError as error:
        if error.response["Error"]["Code"] in _GONE:
            return False
        raise
    return True
