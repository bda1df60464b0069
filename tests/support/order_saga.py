"""What the order workflow's tests (tests/workflow/test_order_*.py) share: the paths an order takes
through the saga, how to read the order and its execution, and the faults they inject."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from moto.awslambda.models import LambdaBackend
from moto.sqs.models import SQSBackend

from local_stack.cloudformation.deploy import Stack
from local_stack.fakes.payment_provider import PaymentProvider
from local_stack.lambda_runtime.runtime import LocalLambda
from support import seed
from support.api import ApiClient
from support.aws import ServerFaultError, failing_backend_call, table_items
from support.workflow import Delays, execution_arn, nested_history, process, settle_until, states_entered, task_answers

# The order workflow's states and, where it starts them, those of its steps (Express children):
# OrderSteps and PaymentSteps each start one, which returns to StepsOutcome.
VALIDATED = ["OrderSteps", "Stage", "ValidateOrder", "ValidationOutcome"]
RESERVED = [*VALIDATED, "ReserveStock", "ReservationOutcome"]
PAYMENT_STEPS = ["PaymentSteps", "Stage"]
BREAKER = ["CheckPaymentCircuit", "CircuitDecision"]
# The charge reads the breaker itself: a reserved order goes straight to it, and to the breaker only
# when the circuit is not closed (or the provider failed).
CHARGED = ["ChargePayment", "ChargeOutcome"]
SHIPPED = ["ShipOrder", "MarkConfirmed", "SendConfirmationEmail", "PublishConfirmation"]
CONFIRMATION = [*SHIPPED, "StepsOutcome", "OrderConfirmed"]
HAPPY_PATH = [*RESERVED, *CHARGED, *CONFIRMATION]
AWAITING_APPROVAL = [*RESERVED, "ReturnApprovalRequired", "StepsOutcome", "RequestApproval"]
WAITED = ["ReturnWait", "StepsOutcome", "WaitForPaymentProvider", *PAYMENT_STEPS]
DECLINED = [*RESERVED, *CHARGED, "ReturnDeclined", "StepsOutcome", "PaymentDeclined"]
REJECTED_END = ["CloseOrder", "ClosedAs", "OrderEnded"]
FAILED_END = ["CloseOrder", "ClosedAs", "OrderFailed"]
# Charged, handed to shipping, then failed by the saga as MarkConfirmed finds the order changed.
FAILED_AS_IT_SHIPS = [*RESERVED, *CHARGED, "ShipOrder", "MarkConfirmed", "ProcessingError", *FAILED_END]
LARGE = {"gadget": 30}  # 30 x 40.00 = 1200.00, above the default ApprovalThreshold (1000)


def order_of(back_office: ApiClient, order_id: str) -> Any:
    """The order as staff see it (any customer's)."""
    response = back_office.get(f"/orders/{order_id}")
    assert response.status == 200
    return response.body


def path_of(stack: Stack, order_id: str) -> list[str]:
    return states_entered(stack, execution_arn(stack, order_id), children=True)


def answers_of(stack: Stack, order_id: str, state: str) -> list[dict[str, Any]]:
    return task_answers(stack, execution_arn(stack, order_id), state)


def task_failures(stack: Stack, order_id: str) -> list[dict[str, Any]]:
    """Each failed attempt of a task of the order's execution or of its steps (children), in order.
    A child's failure, which the task that started it reports again, is not counted twice."""
    return [
        event["taskFailedEventDetails"]
        for _, event in nested_history(stack, execution_arn(stack, order_id))
        if event["type"] == "TaskFailed" and event["taskFailedEventDetails"]["resourceType"] != "states"
    ]


def failed_tasks(stack: Stack, order_id: str) -> list[tuple[str, str]]:
    """Each failed task of the order's execution: the error type and message its function raised."""
    causes = [json.loads(failure["cause"]) for failure in task_failures(stack, order_id)]
    return [(cause["errorType"], cause["errorMessage"]) for cause in causes]


def awaiting_approval(local_lambda: LocalLambda, back_office: ApiClient, order_id: str) -> dict[str, Any]:
    """Run the order until it waits for staff; the order as staff then see it."""

    def waiting() -> dict[str, Any] | None:
        order = order_of(back_office, order_id)
        return order if order["status"] == "AWAITING_APPROVAL" else None

    return settle_until(local_lambda, waiting)


def open_breaker(stack: Stack, opened_at: float) -> None:
    """The payment provider's breaker, opened by another execution at `opened_at`."""
    stack.client("dynamodb").put_item(
        TableName=stack.ref("CircuitBreakerTable"),
        Item={"name": {"S": "payment-provider"}, "state": {"S": "OPEN"}, "opened_at": {"N": str(opened_at)},
              "failures": {"N": "0"}, "version": {"N": "7"}},
    )  # fmt: skip


def breaker_state(stack: Stack) -> str:
    [item] = table_items(stack, "CircuitBreakerTable") or [{"state": "CLOSED"}]
    return str(item["state"])


@contextmanager
def lambda_fails(
    monkeypatch: pytest.MonkeyPatch, function_id: str, attempts: int, after: bool = False
) -> Iterator[None]:
    """Lambda answers the function's first `attempts` invocations with a ServiceException; with
    `after`, once the function has run (its answer lost, as when a timeout or the network cuts it)."""

    def outage(backend: LambdaBackend, function_name: str, *args: Any, **kwargs: Any) -> bool:
        return f"-{function_id}:" in function_name and len(failures) < attempts

    fault = ServerFaultError("ServiceException", 500)
    with failing_backend_call(monkeypatch, LambdaBackend, "invoke", outage, fault, after=after) as failures:
        yield


def assert_retried_after_lambda_failed(stack: Stack, order_id: str, backoff: Delays, failed_attempts: int) -> None:
    """Each failed attempt is in the history; retries came after 1, 2 and 4 s at most (full jitter)."""
    errors = [failure["error"] for failure in task_failures(stack, order_id)]
    assert errors == ["Lambda.ServiceException"] * failed_attempts
    assert len(backoff) == min(failed_attempts, 3)
    assert all(0 <= delay <= limit for delay, limit in zip(backoff, [1, 2, 4], strict=False))


def order_processed_while_lambda_fails(
    back_office: ApiClient,
    storefront: ApiClient,
    stack: Stack,
    local_lambda: LocalLambda,
    monkeypatch: pytest.MonkeyPatch,
    function_id: str,
    attempts: int,
) -> tuple[str, dict[str, Any]]:
    """An order of one widget (of 5 in stock), processed while Lambda fails the function's first
    `attempts` invocations: its id and its execution."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    with lambda_fails(monkeypatch, function_id, attempts):
        return order_id, process(local_lambda, stack, order_id)


def assert_ended_after_lambda_failed(
    stack: Stack,
    back_office: ApiClient,
    payments: PaymentProvider,
    backoff: Delays,
    processed: tuple[str, dict[str, Any]],
    attempts: int,
    paths: tuple[list[str], list[str]],
) -> None:
    """The order of `order_processed_while_lambda_fails` after Lambda failed a task's first
    `attempts` (1 or all 4): retried, then confirmed and charged once (along the first of `paths`), or
    FAILED PROCESSING_ERROR with its stock released and nothing charged (along the second)."""
    order_id, execution = processed
    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=attempts)
    order = order_of(back_office, order_id)
    confirmed, failed = paths
    if attempts == 1:  # the customer never notices
        assert (execution["status"], order["status"], len(payments.charges)) == ("SUCCEEDED", "CONFIRMED", 1)
        assert path_of(stack, order_id) == confirmed
    else:
        assert (execution["status"], order["status"], order["reason"]) == ("FAILED", "FAILED", "PROCESSING_ERROR")
        assert (seed.quantity(back_office, "widget-1"), payments.charges) == (5, [])
        assert path_of(stack, order_id) == failed


def processed_while_changed_as_it_ships(
    stack: Stack, local_lambda: LocalLambda, monkeypatch: pytest.MonkeyPatch, order_id: str, field: str, value: str
) -> dict[str, Any]:
    """The order's execution, while something other than it (an operator, a refund recorded by hand)
    sets the order's `field` to `value` just as the order is handed to shipping."""
    shipping_queue = stack.get_att("ShippingQueue", "QueueName")
    send_message = SQSBackend.send_message

    def ship_then_change(backend: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        sent = send_message(backend, queue_name, *args, **kwargs)
        if queue_name == shipping_queue:
            stack.client("dynamodb").update_item(
                TableName=stack.ref("OrdersTable"),
                Key={"order_id": {"S": order_id}},
                UpdateExpression="SET #field = :value",
                ExpressionAttributeNames={"#field": field},
                ExpressionAttributeValues={":value": {"S": value}},
            )
        return sent

    monkeypatch.setattr(SQSBackend, "send_message", ship_then_change)
    return process(local_lambda, stack, order_id)
