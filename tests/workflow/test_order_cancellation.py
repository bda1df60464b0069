"""A customer's cancellation in each state of the saga, and its races with the charge: an order is
either cancelled (stock released, nothing charged) or paid, never both, whichever comes first."""

from typing import Any

import pytest
from moto.awslambda.models import LambdaBackend

from support import seed
from support.aws import table_items
from support.workflow import execution_arn, process, settle_until, states_entered, task_answers, wait_for_execution

# The order workflow's states and, where it starts them, those of its steps (Express children).
VALIDATED = ["OrderSteps", "Stage", "ValidateOrder", "ValidationOutcome"]
RESERVED = [*VALIDATED, "ReserveStock", "ReservationOutcome"]
ENDED_IN_STEPS = ["ReturnEnded", "StepsOutcome", "EndedElsewhere"]
WAITING_FOR_PAYMENT = [
    *RESERVED, "ChargePayment", "ChargeOutcome",  # the circuit is open: no call, the breaker decides
    "CheckPaymentCircuit", "CircuitDecision", "ReturnWait", "StepsOutcome", "WaitForPaymentProvider",
    "PaymentSteps", "Stage", "CheckPaymentCircuit", "CircuitDecision", "ChargePayment", "ChargeOutcome",
]  # fmt: skip
NO_LONGER_THE_WORKFLOWS = "order {} is no longer processed by the workflow"


def ended_without_an_error(stack, order_id, state, earlier=(), **result):
    """The order's task `state` answered ENDED as its result in one attempt (after its `earlier`
    answers), which did not fail (an error would be counted in Lambda's alarmed Errors)."""
    message = NO_LONGER_THE_WORKFLOWS.format(order_id)
    assert task_answers(stack, execution_arn(stack, order_id), state) == [
        *earlier,
        {"outcome": "ENDED", "message": message, **result},
    ]


def order_of(back_office, order_id):
    return back_office.get(f"/orders/{order_id}").body


def cancel(storefront, order_id):
    return storefront.post(f"/orders/{order_id}/cancel")


@pytest.fixture
def breaker_open(stack, clock):
    """The payment provider's breaker, opened by another execution a moment ago: orders wait."""
    stack.client("dynamodb").put_item(
        TableName=stack.ref("CircuitBreakerTable"),
        Item={"name": {"S": "payment-provider"}, "state": {"S": "OPEN"}, "opened_at": {"N": str(clock.now)},
              "failures": {"N": "0"}, "version": {"N": "1"}},
    )  # fmt: skip
    return clock


def test_a_pending_order_is_cancelled_and_never_processed(back_office, storefront, stack, local_lambda, payments):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})

    cancelled = cancel(storefront, order_id)
    local_lambda.settle()

    assert cancelled.status == 200
    assert cancelled.body == {  # no reason: the customer's own decision
        "order_id": order_id,
        "user_id": storefront.claims["sub"],
        "items": [{"product_id": "widget-1", "quantity": 2}],
        "status": "CANCELLED",
        "created_at": cancelled.body["created_at"],
        "updated_at": cancelled.body["updated_at"],
    }
    [stored] = table_items(stack, "OrdersTable")
    assert stored["created_at"] < stored["cancel_requested_at"] <= stored["updated_at"]  # when it was asked
    assert "reason" not in stored  # nor an empty one stored
    assert order_of(back_office, order_id)["status"] == "CANCELLED"
    unknown = cancel(storefront, "3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21")
    assert (unknown.status, unknown.body) == (404, {"message": "order 3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21 not found"})
    executions = stack.client("stepfunctions").list_executions(stateMachineArn=stack.ref("OrderWorkflow"))
    assert executions["executions"] == []
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []


@pytest.mark.parametrize(
    ("function_id", "quantity", "state", "expected_path"),
    [
        ("ValidateOrderFunction", 2, "ValidateOrder", [*VALIDATED, *ENDED_IN_STEPS]),
        ("UpdateInventoryFunction", 2, "ReserveStock", [*RESERVED, *ENDED_IN_STEPS]),
        (
            "RequestApprovalFunction",
            60,  # 60 x 20.00 = 1200.00: above the ApprovalThreshold
            "RequestApproval",
            [
                *RESERVED,
                "ReturnApprovalRequired",
                "StepsOutcome",
                "RequestApproval",
                "ApprovalOutcome",
                "EndedElsewhere",
            ],
        ),
    ],
    ids=["ValidateOrder", "ReserveStock", "RequestApproval"],
)
def test_an_order_cancelled_as_a_task_starts_ends_its_execution_there_with_nothing_reserved(
    back_office, storefront, stack, local_lambda, payments, monkeypatch, function_id, quantity, state, expected_path
):
    """The customer cancels just as Lambda is asked to run the task: the task finds the order no
    longer the workflow's (its write is refused) and the execution ends there (the approval's wait
    answered through its token: its function's result is not the task's)."""
    seed.stock(back_office, "widget-1", 100, price=20)
    order_id = seed.order(storefront, {"widget-1": quantity})
    invoke, answers = LambdaBackend.invoke, []

    def customer_cancels_first(backend: LambdaBackend, function_name: str, *args: Any, **kwargs: Any) -> Any:
        if f"-{function_id}:" in function_name:
            answers.append(cancel(storefront, order_id))
        return invoke(backend, function_name, *args, **kwargs)

    monkeypatch.setattr(LambdaBackend, "invoke", customer_cancels_first)
    execution = process(local_lambda, stack, order_id)

    assert [(answer.status, answer.body["status"]) for answer in answers] == [(200, "CANCELLED")]
    assert execution["status"] == "SUCCEEDED"
    assert states_entered(stack, execution_arn(stack, order_id), children=True) == expected_path
    nothing_validated = {"user_id": None, "items": None, "total": None, "approval_required": None,
                         "approval_timeout": None, "customer": None}  # fmt: skip
    ended_without_an_error(stack, order_id, state, **(nothing_validated if state == "ValidateOrder" else {}))
    assert order_of(back_office, order_id)["status"] == "CANCELLED"
    assert seed.quantity(back_office, "widget-1") == 100
    assert payments.charges == []


def test_an_order_awaiting_approval_is_cancelled_its_stock_released_and_its_execution_ended(
    back_office, storefront, stack, local_lambda, payments
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, {"gadget": 30})
    settle_until(local_lambda, lambda: order_of(back_office, order_id)["status"] == "AWAITING_APPROVAL")

    cancelled = cancel(storefront, order_id)

    assert (cancelled.status, cancelled.body["status"]) == (200, "CANCELLED")
    assert seed.quantity(back_office, "gadget") == 40
    assert wait_for_execution(stack, execution_arn(stack, order_id))["status"] == "SUCCEEDED"
    assert states_entered(stack, execution_arn(stack, order_id))[-3:] == [
        "RequestApproval", "ApprovalOutcome", "EndedElsewhere"
    ]  # fmt: skip
    # The cancellation answered the waiting task once, with the outcome that ApprovalOutcome ends the
    # execution on, and why, for whoever reads it: a result, not a task failure.
    assert task_answers(stack, execution_arn(stack, order_id), "RequestApproval") == [
        {"outcome": "ENDED", "message": f"order {order_id} was cancelled by its customer"}
    ]
    assert back_office.post(f"/orders/{order_id}/approval", {"approved": True}).status == 409
    assert order_of(back_office, order_id)["status"] == "CANCELLED"
    assert payments.charges == []


def test_an_order_waiting_for_payment_is_cancelled_and_the_charge_that_follows_is_refused(
    back_office, storefront, stack, local_lambda, payments, breaker_open
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    answers = []
    breaker_open.on_wait = lambda: answers.append(cancel(storefront, order_id))

    execution = process(local_lambda, stack, order_id)

    assert [(answer.status, answer.body["status"]) for answer in answers] == [(200, "CANCELLED")]
    assert execution["status"] == "SUCCEEDED"
    assert states_entered(stack, execution_arn(stack, order_id), children=True) == [
        *WAITING_FOR_PAYMENT, *ENDED_IN_STEPS
    ]  # fmt: skip
    not_closed = {"outcome": "CIRCUIT_NOT_CLOSED", "message": "the payment circuit is not closed", "charge_id": None}
    ended_without_an_error(stack, order_id, "ChargePayment", earlier=[not_closed], charge_id=None)
    assert order_of(back_office, order_id)["status"] == "CANCELLED"
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []


def test_once_the_charge_has_claimed_the_order_a_cancel_is_refused_and_it_is_charged_once(
    back_office, storefront, stack, local_lambda, payments, breaker_open, function
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    answers = []

    def charge_then_cancel():
        """The charge wins the race: a charge attempt that the breaker let through (another
        execution's, say) claims the order first."""
        function("ChargePaymentFunction").invoke({"order_id": order_id, "payment": {"decision": "CALL"}})
        answers.append(cancel(storefront, order_id))

    breaker_open.on_wait = charge_then_cancel

    process(local_lambda, stack, order_id)

    [refused] = answers
    assert (refused.status, refused.body) == (
        409,
        {"message": f"order {order_id} is being paid: it can no longer be cancelled"},
    )
    order = order_of(back_office, order_id)
    assert (order["status"], order["payment_status"]) == ("CONFIRMED", "CHARGED")
    assert len(payments.charges) == 1
    assert seed.quantity(back_office, "widget-1") == 3


def test_a_confirmed_order_cannot_be_cancelled(back_office, storefront, stack, local_lambda, payments):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    process(local_lambda, stack, order_id)

    refused = cancel(storefront, order_id)

    assert refused.status == 409
    assert refused.body["message"] == f"order {order_id} is CONFIRMED: it can no longer be cancelled"
    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
    assert seed.quantity(back_office, "widget-1") == 3
    assert payments.refunds == []


def test_nobody_cancels_another_customers_order(back_office, storefront, stack, local_lambda, payments):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    stranger = storefront.as_caller(seed.customer(back_office, "Eve"))

    refused = cancel(stranger, order_id)

    assert refused.status == 404
    assert order_of(back_office, order_id)["status"] == "PENDING"
    items = {item["order_id"]: item for item in table_items(stack, "OrdersTable")}
    assert "cancel_requested_at" not in items[order_id]
