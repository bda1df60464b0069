"""The order workflow (Step Functions): starting it at most once per order, and resuming an
execution that waits on a task token (staff's approval)."""

import json
from typing import Any

from botocore.exceptions import ClientError

from orders_domain import aws

# What Step Functions answers for a token whose task no longer waits (decided, timed out, ended).
_GONE = {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


class OrderWorkflow:
    def __init__(self, state_machine_arn: str) -> None:
        self.state_machine_arn = state_machine_arn

    def start(self, order_id: str) -> bool:
        """Start the execution named after the order; False when it exists already (a repeated
        OrderCreated delivery), which is not an error."""
        try:
            aws.stepfunctions().start_execution(
                stateMachineArn=self.state_machine_arn, name=order_id, input=json.dumps({"order_id": order_id})
            )
        except aws.stepfunctions().exceptions.ExecutionAlreadyExists:
            return False
        return True


def resume(token: str, output: dict[str, Any]) -> bool:
    """Complete the waiting task with `output`; False when it no longer waits."""
    return _answer(lambda: aws.stepfunctions().send_task_success(taskToken=token, output=json.dumps(output)))


def fail_task(token: str, error: str, cause: str) -> bool:
    """Fail the waiting task with `error` (which the workflow catches); False when it no longer waits."""
    return _answer(lambda: aws.stepfunctions().send_task_failure(taskToken=token, error=error, cause=cause))


def _answer(call: Any) -> bool:
    try:
        call()
    except ClientError as error:
        if error.response["Error"]["Code"] in _GONE:
            return False
        raise
    return True
