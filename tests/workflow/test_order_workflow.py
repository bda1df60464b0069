"""The real statemachine/order_workflow.asl.json (the order saga), with the template's substitutions,
executed by moto's Step Functions interpreter; its Lambda tasks run the real handlers in process and
charge through the fake payment provider over HTTP. Every test checks the exact states entered."""

import json
from contextlib import contextmanager
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from moto.awslambda.models import LambdaBackend
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.responses import DynamoHandler
from moto.sesv2.models import SESV2Backend
from moto.sns.models import SNSBackend
from moto.sqs.models import SQSBackend
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from support import seed
from support.api import id_token_claims
from support.aws import ServerFaultError, TopicCapture, drain_queue, failing_backend_call, sent_emails, table_items
from support.workflow import (
    described_executions,
    execution_arn,
    nested_history,
    process,
    settle_until,
    states_entered,
    task_answers,
    time_out_running_execution,
    wait_for_execution,
)

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
LARGE = {"gadget": 30}  # 30 x 40.00 = 1200.00, above the default ApprovalThreshold (1000)


@pytest.fixture
def confirmations(stack):
    return TopicCapture(stack, stack.ref("OrderConfirmedTopic"))


@pytest.fixture
def approval_requests(stack):
    return TopicCapture(stack, stack.ref("ApprovalRequestsTopic"))


@pytest.fixture
def shipping(stack):
    return lambda: drain_queue(stack, stack.ref("ShippingQueue"))


def order_of(back_office, order_id):
    """The order as staff see it (any customer's)."""
    response = back_office.get(f"/orders/{order_id}")
    assert response.status == 200
    return response.body


def path_of(stack, order_id):
    return states_entered(stack, execution_arn(stack, order_id), children=True)


def open_breaker(stack, opened_at):
    """The payment provider's breaker, opened by another execution at `opened_at`."""
    stack.client("dynamodb").put_item(
        TableName=stack.ref("CircuitBreakerTable"),
        Item={"name": {"S": "payment-provider"}, "state": {"S": "OPEN"}, "opened_at": {"N": str(opened_at)},
              "failures": {"N": "0"}, "version": {"N": "7"}},
    )  # fmt: skip


def breaker_state(stack):
    [item] = table_items(stack, "CircuitBreakerTable") or [{"state": "CLOSED"}]
    return item["state"]


def test_happy_path_charges_once_ships_confirms_then_emails_the_customer(
    back_office, storefront, stack, local_lambda, payments, confirmations, shipping, customer
):
    seed.stock(back_office, "widget-1", 5, price=19.99)
    order_id = seed.order(storefront, {"widget-1": 2})

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["total"], order["payment_status"]) == ("CONFIRMED", 39.98, "CHARGED")
    assert "reason" not in order
    assert seed.quantity(back_office, "widget-1") == 3
    [charge] = payments.charges
    assert (charge["amount"], charge["currency"], charge["payment_method"]) == ("39.98", "USD", "pm_card_visa")
    [shipment] = shipping()
    assert shipment["Body"]["order_id"] == order_id
    assert shipment["Body"]["items"] == [{"product_id": "widget-1", "quantity": 2, "price": 19.99}]
    [confirmation] = confirmations.notifications()
    assert json.loads(confirmation["Message"])["order_id"] == order_id
    [email] = sent_emails()
    assert email["to"] == [customer["email"]]
    assert email["from"] == "orders@example.com"
    assert email["subject"] == f"Your order {order_id} is confirmed"
    assert order_id in email["body"]
    assert "39.98 USD" in email["body"]
    assert path_of(stack, order_id) == HAPPY_PATH


def test_out_of_stock_is_rejected_with_nothing_reserved_or_charged(
    back_office, storefront, stack, local_lambda, payments, shipping
):
    seed.stock(back_office, "widget-1", 1)
    seed.stock(back_office, "widget-2", 5)
    order_id = seed.order(storefront, {"widget-2": 2, "widget-1": 2})

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"  # a rejection is an outcome, not a failure
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert (seed.quantity(back_office, "widget-1"), seed.quantity(back_office, "widget-2")) == (1, 5)
    assert payments.charges == []
    assert shipping() == []
    assert sent_emails() == []
    markers = [item for item in table_items(stack, "InventoryTable") if item["product_id"].startswith("reservation#")]
    assert markers == []
    assert path_of(stack, order_id) == [*RESERVED, "ReturnOutOfStock", "StepsOutcome", "OutOfStock", *REJECTED_END]
    # The function's result, not an error (which Lambda would count in its alarmed Errors).
    answer = {"outcome": "OUT_OF_STOCK", "message": "not enough stock for widget-1"}
    assert answers_of(stack, order_id, "ReserveStock") == [answer]
    assert failed_tasks(stack, order_id) == []


NOTHING_VALIDATED = dict.fromkeys(["user_id", "items", "total", "approval_required", "approval_timeout", "customer"])


def answers_of(stack, order_id, state):
    return task_answers(stack, execution_arn(stack, order_id), state)


@pytest.mark.parametrize("unknown", ["product", "user"])
def test_unknown_product_or_user_is_rejected_as_validation_failed(
    back_office, storefront, stack, local_lambda, payments, unknown
):
    seed.stock(back_office, "widget-1", 5)
    ghost = id_token_claims("no-such-user", "ghost@example.com", "Ghost")  # a user without a profile
    buyer = storefront.as_caller(ghost) if unknown == "user" else storefront
    order_id = seed.order(buyer, {"no-such-product" if unknown == "product" else "widget-1": 1})

    process(local_lambda, stack, order_id)

    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "VALIDATION_FAILED")
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []
    assert path_of(stack, order_id) == [*VALIDATED, "ReturnInvalid", "StepsOutcome", "InvalidOrder", *REJECTED_END]
    why = "unknown products: no-such-product" if unknown == "product" else "user no-such-user not found"
    assert answers_of(stack, order_id, "ValidateOrder") == [{"outcome": "INVALID", "message": why, **NOTHING_VALIDATED}]
    assert failed_tasks(stack, order_id) == []


def test_a_customer_profile_that_no_longer_parses_fails_the_order_as_a_processing_error(
    back_office, storefront, stack, local_lambda, payments, backoff, customer
):
    """Pydantic's ValidationError is a fault (our data, not the customer's order): retried, then
    FAILED PROCESSING_ERROR, never REJECTED VALIDATION_FAILED (no domain error shares its name)."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    stack.client("dynamodb").update_item(
        TableName=stack.ref("UsersTable"), Key={"user_id": {"S": customer["sub"]}}, UpdateExpression="REMOVE email"
    )

    execution = process(local_lambda, stack, order_id)

    order = order_of(back_office, order_id)
    assert (execution["status"], order["status"], order["reason"]) == ("FAILED", "FAILED", "PROCESSING_ERROR")
    assert answers_of(stack, order_id, "ValidateOrder") == [{"error": "ValidationError"}] * 4
    assert len(backoff) == 3
    assert (seed.quantity(back_office, "widget-1"), payments.charges) == (5, [])
    assert path_of(stack, order_id) == [*VALIDATED[:3], "ProcessingError", *FAILED_END]


LAMBDA_TASKS = {  # those of a confirmed order's path; CheckPaymentCircuit's is tested with the breaker open
    "ValidateOrder": "ValidateOrderFunction",
    "ReserveStock": "UpdateInventoryFunction",
    "ChargePayment": "ChargePaymentFunction",
}


@contextmanager
def lambda_fails(monkeypatch, function_id, attempts, after=False):
    """Lambda answers the function's first `attempts` invocations with a ServiceException; with
    `after`, once the function has run (its answer lost, as when a timeout or the network cuts it)."""

    def outage(backend: LambdaBackend, function_name: str, *args: Any, **kwargs: Any) -> bool:
        return f"-{function_id}:" in function_name and len(failures) < attempts

    fault = ServerFaultError("ServiceException", 500)
    with failing_backend_call(monkeypatch, LambdaBackend, "invoke", outage, fault, after=after) as failures:
        yield


def assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts):
    """Each failed attempt is in the history; retries came after 1, 2 and 4 s at most (full jitter)."""
    errors = [failure["error"] for failure in task_failures(stack, order_id)]
    assert errors == ["Lambda.ServiceException"] * failed_attempts
    assert len(backoff) == min(failed_attempts, 3)
    assert all(0 <= delay <= limit for delay, limit in zip(backoff, [1, 2, 4], strict=False))


def order_processed_while_lambda_fails(
    back_office, storefront, stack, local_lambda, monkeypatch, function_id, attempts
):
    """An order of one widget (of 5 in stock), processed while Lambda fails the function's first
    `attempts` invocations: its id and its execution."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    with lambda_fails(monkeypatch, function_id, attempts):
        return order_id, process(local_lambda, stack, order_id)


@pytest.mark.parametrize("task", LAMBDA_TASKS)
def test_a_task_that_lambda_fails_once_is_retried_and_the_order_confirmed(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch, task
):
    """Lambda fails the task's first attempt: the customer never notices."""
    order_id, execution = order_processed_while_lambda_fails(
        back_office, storefront, stack, local_lambda, monkeypatch, LAMBDA_TASKS[task], attempts=1
    )

    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=1)
    assert (execution["status"], order_of(back_office, order_id)["status"]) == ("SUCCEEDED", "CONFIRMED")
    assert len(payments.charges) == 1
    assert path_of(stack, order_id) == HAPPY_PATH


@pytest.mark.parametrize("task", LAMBDA_TASKS)
def test_a_task_that_lambda_fails_every_attempt_fails_the_order_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch, task
):
    """Lambda fails all four attempts: the order fails with its stock released and nothing charged."""
    order_id, execution = order_processed_while_lambda_fails(
        back_office, storefront, stack, local_lambda, monkeypatch, LAMBDA_TASKS[task], attempts=4
    )

    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=4)
    order = order_of(back_office, order_id)
    assert (execution["status"], order["status"], order["reason"]) == ("FAILED", "FAILED", "PROCESSING_ERROR")
    assert (seed.quantity(back_office, "widget-1"), payments.charges) == (5, [])
    until_task = HAPPY_PATH[: HAPPY_PATH.index(task) + 1]
    assert path_of(stack, order_id) == [*until_task, "ProcessingError", *FAILED_END]


@pytest.mark.parametrize("attempts", [1, 4])
def test_a_breaker_check_that_lambda_fails_is_retried_and_one_that_fails_every_attempt_fails_the_order(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch, clock, attempts
):
    """With the circuit open the charge leaves the decision to CheckPaymentCircuit: Lambda failing its
    first attempt goes unnoticed; failing all four fails the order, stock released, nothing charged."""
    open_breaker(stack, opened_at=clock.now - 15)
    order_id, execution = order_processed_while_lambda_fails(
        back_office, storefront, stack, local_lambda, monkeypatch, "CheckPaymentCircuitFunction", attempts
    )

    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=attempts)
    order = order_of(back_office, order_id)
    if attempts == 1:
        assert (execution["status"], order["status"], len(payments.charges)) == ("SUCCEEDED", "CONFIRMED", 1)
        assert path_of(stack, order_id) == [*RESERVED, *CHARGED, *BREAKER, *WAITED, *BREAKER, *CHARGED, *CONFIRMATION]
    else:
        assert (execution["status"], order["status"], order["reason"]) == ("FAILED", "FAILED", "PROCESSING_ERROR")
        assert (seed.quantity(back_office, "widget-1"), payments.charges) == (5, [])
        path = [*RESERVED, *CHARGED, "CheckPaymentCircuit", "ProcessingError", *FAILED_END]
        assert path_of(stack, order_id) == path


def test_a_reservation_whose_answer_was_lost_is_retried_reserves_once_and_the_order_is_confirmed(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch
):
    """UpdateInventory commits its transaction, then its answer is lost: the retry sends DynamoDB the
    same transaction with the same idempotency token (its times are the execution's, not the
    attempt's), which DynamoDB answers as the first one, without taking the stock again."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    with lambda_fails(monkeypatch, "UpdateInventoryFunction", attempts=1, after=True):
        execution = process(local_lambda, stack, order_id)

    assert (execution["status"], order_of(back_office, order_id)["status"]) == ("SUCCEEDED", "CONFIRMED")
    assert seed.quantity(back_office, "widget-1") == 3  # taken once
    assert answers_of(stack, order_id, "ReserveStock") == [
        {"error": "Lambda.ServiceException"},
        {"outcome": "DONE", "message": None},  # DynamoDB's answer to the first call, given again
    ]
    assert len(backoff) == 1
    assert len(payments.charges) == 1
    assert path_of(stack, order_id) == HAPPY_PATH


@pytest.mark.parametrize("written", [False, True], ids=["refused", "answer-lost"])
def test_a_confirmation_write_that_fails_once_is_retried_and_the_customer_told(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch, written
):
    """DynamoDB answers MarkConfirmed's write with a 500 once, before or after writing it: the retry
    confirms the order (again), and the customer gets the email, charged once, refunded never."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    orders_table = stack.ref("OrdersTable")

    def confirms(handler: DynamoHandler, *args: Any, **kwargs: Any) -> bool:
        body = handler.body
        confirming = {"S": "CONFIRMED"} in body.get("ExpressionAttributeValues", {}).values()
        return bool(body["TableName"] == orders_table and confirming and not failures)

    fault = ServerFaultError()
    with failing_backend_call(monkeypatch, DynamoHandler, "update_item", confirms, fault, after=written) as failures:
        execution = process(local_lambda, stack, order_id)

    assert (execution["status"], order_of(back_office, order_id)["status"]) == ("SUCCEEDED", "CONFIRMED")
    errors = [failure["error"] for failure in task_failures(stack, order_id)]
    assert errors == ["DynamoDB.InternalServerError"]
    assert len(backoff) == 1
    assert (len(payments.charges), payments.refunds) == (1, [])
    assert [email["to"] for email in sent_emails()] == [["ada@example.com"]]
    assert path_of(stack, order_id) == HAPPY_PATH


def test_a_close_that_lambda_fails_once_is_retried_and_the_order_rejected_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch
):
    """CloseOrder is the saga's last step: an order it fails to close would hold its stock forever."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2}, payment_method="pm_card_declined")
    with lambda_fails(monkeypatch, "CloseOrderFunction", attempts=1):
        execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_DECLINED")
    assert seed.quantity(back_office, "widget-1") == 5
    errors = [failure["error"] for failure in task_failures(stack, order_id)]
    assert errors == ["Lambda.ServiceException"]  # CloseOrder's; the decline is ChargePayment's result
    assert len(backoff) == 1
    assert 0 <= backoff[0] <= 2  # CloseOrder's first retry: 2 s at most (full jitter)
    assert path_of(stack, order_id) == [*DECLINED, *REJECTED_END]


def test_a_declined_payment_is_rejected_and_its_stock_released(
    back_office, storefront, stack, local_lambda, payments, shipping, backoff
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2}, payment_method="pm_card_declined")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_DECLINED")
    assert "payment_status" not in order
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []
    assert backoff == []  # a decline is never retried
    assert shipping() == []
    assert sent_emails() == []
    assert path_of(stack, order_id) == [*DECLINED, *REJECTED_END]
    # Why, in the provider's words, for whoever reads the execution: the function's result, not an
    # error (which Lambda would count in its alarmed Errors).
    answer = {"outcome": "DECLINED", "charge_id": None, "message": "Your card was declined."}
    assert answers_of(stack, order_id, "ChargePayment") == [answer]
    assert failed_tasks(stack, order_id) == []


def task_failures(stack, order_id):
    """Each failed attempt of a task of the order's execution or of its steps (children), in order.
    A child's failure, which the task that started it reports again, is not counted twice."""
    return [
        event["taskFailedEventDetails"]
        for _, event in nested_history(stack, execution_arn(stack, order_id))
        if event["type"] == "TaskFailed" and event["taskFailedEventDetails"]["resourceType"] != "states"
    ]


def failed_tasks(stack, order_id):
    """Each failed task of the order's execution: the error type and message its function raised."""
    causes = [json.loads(failure["cause"]) for failure in task_failures(stack, order_id)]
    return [(cause["errorType"], cause["errorMessage"]) for cause in causes]


def awaiting_approval(local_lambda, back_office, order_id):
    """Run the order until it waits for staff; the order as staff then see it."""

    def waiting():
        order = order_of(back_office, order_id)
        return order if order["status"] == "AWAITING_APPROVAL" else None

    return settle_until(local_lambda, waiting)


def test_a_large_order_waits_for_approval_then_is_charged_and_confirmed(
    back_office, storefront, stack, local_lambda, payments, approval_requests
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    awaiting_approval(local_lambda, back_office, order_id)
    [request] = approval_requests.notifications()
    assert request["Subject"] == f"Order {order_id} needs approval"
    assert json.loads(request["Message"]) == {
        "order_id": order_id,
        "user_id": storefront.claims["sub"],
        "total": "1200.00",
        "items": [{"product_id": "gadget", "quantity": 30}],
        "decide": f'POST /orders/{order_id}/approval {{"approved": true|false, "comment": ...}}',
    }
    # Subscribers may filter on the order (a filter policy reads message attributes only).
    assert request["MessageAttributes"] == {"order_id": {"Type": "String", "Value": order_id}}
    assert seed.quantity(back_office, "gadget") == 10  # reserved before approval
    assert payments.charges == []

    decided = back_office.post(f"/orders/{order_id}/approval", {"approved": True, "comment": "known customer"})

    assert decided.status == 200
    assert decided.body["status"] == "PROCESSING"
    assert decided.body["approval"]["approved"] is True
    assert decided.body["approval"]["by"] == "staff-0001"
    assert decided.body["approval"]["comment"] == "known customer"
    assert wait_for_execution(stack, execution_arn(stack, order_id))["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["approval"]["approved"]) == ("CONFIRMED", True)
    assert [charge["amount"] for charge in payments.charges] == ["1200.00"]
    approved = {"outcome": "APPROVED", "message": "approved by staff-0001"}
    assert answers_of(stack, order_id, "RequestApproval") == [approved]
    assert path_of(stack, order_id) == [
        *AWAITING_APPROVAL, "ApprovalOutcome", *PAYMENT_STEPS, *BREAKER, *CHARGED, *CONFIRMATION
    ]  # fmt: skip
    again = back_office.post(f"/orders/{order_id}/approval", {"approved": False})
    assert (again.status, again.body) == (409, {"message": f"order {order_id} is CONFIRMED, not awaiting approval"})
    unknown = back_office.post("/orders/3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21/approval", {"approved": True})
    assert (unknown.status, unknown.body) == (404, {"message": "order 3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21 not found"})


def test_an_approval_request_that_lambda_fails_once_is_retried_and_the_order_awaits_staff(
    back_office, storefront, stack, local_lambda, payments, approval_requests, backoff, monkeypatch
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    with lambda_fails(monkeypatch, "RequestApprovalFunction", attempts=1):
        order = awaiting_approval(local_lambda, back_office, order_id)

    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=1)
    assert (order["status"], seed.quantity(back_office, "gadget")) == ("AWAITING_APPROVAL", 10)
    assert len(approval_requests.notifications()) == 1
    back_office.post(f"/orders/{order_id}/approval", {"approved": False})  # the execution ends
    assert wait_for_execution(stack, execution_arn(stack, order_id))["status"] == "SUCCEEDED"
    assert payments.charges == []


def test_an_approval_request_that_lambda_fails_every_attempt_fails_the_order_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments, approval_requests, backoff, monkeypatch
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    with lambda_fails(monkeypatch, "RequestApprovalFunction", attempts=4):
        assert process(local_lambda, stack, order_id)["status"] == "FAILED"

    assert_retried_after_lambda_failed(stack, order_id, backoff, failed_attempts=4)
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("FAILED", "PROCESSING_ERROR")
    assert (seed.quantity(back_office, "gadget"), approval_requests.notifications()) == (40, [])
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ProcessingError", *FAILED_END]
    assert payments.charges == []


def test_a_large_order_that_staff_reject_is_rejected_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    awaiting_approval(local_lambda, back_office, order_id)

    decided = back_office.post(f"/orders/{order_id}/approval", {"approved": False, "comment": "suspicious"})

    assert decided.status == 200
    assert (decided.body["status"], decided.body["reason"]) == ("REJECTED", "NOT_APPROVED")
    assert decided.body["approval"] == {
        "approved": False,
        "by": "staff-0001",
        "at": decided.body["approval"]["at"],
        "comment": "suspicious",
    }
    assert seed.quantity(back_office, "gadget") == 40
    assert wait_for_execution(stack, execution_arn(stack, order_id))["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["status"] == "REJECTED"
    assert payments.charges == []
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ApprovalOutcome", "EndedElsewhere"]
    # Staff ended the order themselves: the waiting task's result says so, no task failed.
    ended = {"outcome": "ENDED", "message": "not approved by staff-0001"}
    assert answers_of(stack, order_id, "RequestApproval") == [ended]
    assert failed_tasks(stack, order_id) == []


@pytest.fixture
def decide_as_the_wait_runs_out(back_office, storefront, local_lambda, function, monkeypatch):
    """`decide(approved)`: a large order awaiting approval, then staff's decision, to which Step
    Functions answers TaskTimedOut: the approval's wait (5 s here, so that it then runs out for
    real) ended as staff decided. The order's id and the decision's answer."""
    validate = function("ValidateOrderFunction").module("validate_order")
    monkeypatch.setattr(validate, "settings", validate.settings.model_copy(update={"approval_timeout": 5}))
    every_token = lambda *args, **kwargs: True  # noqa: E731
    timed_out = JsonRESTError("TaskTimedOut", "Task Timed Out")

    def decide(approved):
        seed.stock(back_office, "gadget", 40, price=40)
        order_id = seed.order(storefront, LARGE)
        awaiting_approval(local_lambda, back_office, order_id)
        with failing_backend_call(monkeypatch, StepFunctionsParserBackend, "send_task_success", every_token, timed_out):
            return order_id, back_office.post(f"/orders/{order_id}/approval", {"approved": approved})

    return decide


def test_an_approval_that_meets_a_wait_that_has_just_run_out_is_409_and_the_order_times_out(
    back_office, stack, local_lambda, payments, decide_as_the_wait_runs_out
):
    order_id, decided = decide_as_the_wait_runs_out(True)

    assert (decided.status, decided.body) == (409, {"message": f"order {order_id}: the time to approve it has run out"})
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "APPROVAL_TIMEOUT")
    assert seed.quantity(back_office, "gadget") == 40
    assert payments.charges == []
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ApprovalTimedOut", *REJECTED_END]


def test_a_rejection_that_meets_a_wait_that_has_just_run_out_stands(
    back_office, stack, local_lambda, payments, decide_as_the_wait_runs_out
):
    order_id, decided = decide_as_the_wait_runs_out(False)

    assert (decided.status, decided.body["status"], decided.body["reason"]) == (200, "REJECTED", "NOT_APPROVED")
    # A decision without a comment has none, shown or stored.
    approval = {"approved": False, "by": "staff-0001", "at": decided.body["approval"]["at"]}
    assert decided.body["approval"] == approval
    assert table_items(stack, "OrdersTable")[0]["approval"] == approval
    assert seed.quantity(back_office, "gadget") == 40
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "NOT_APPROVED")  # staff's, not the timeout's
    assert seed.quantity(back_office, "gadget") == 40
    assert payments.charges == []


def test_no_decision_in_time_rejects_the_order_as_approval_timeout(
    back_office, storefront, stack, local_lambda, payments, function, monkeypatch
):
    validate = function("ValidateOrderFunction").module("validate_order")
    monkeypatch.setattr(validate, "settings", validate.settings.model_copy(update={"approval_timeout": 1}))
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "APPROVAL_TIMEOUT")
    assert seed.quantity(back_office, "gadget") == 40
    assert payments.charges == []
    assert path_of(stack, order_id) == [*AWAITING_APPROVAL, "ApprovalTimedOut", *REJECTED_END]
    late = back_office.post(f"/orders/{order_id}/approval", {"approved": True})
    assert late.status == 409


def test_an_outage_is_retried_then_opens_the_breaker_and_the_order_waits_for_the_provider(
    back_office, storefront, stack, local_lambda, payments, clock, backoff
):
    """Provider down → retries → breaker opens → the order waits → provider back → half-open
    probe → breaker closed → confirmed, charged once."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    payments.set_mode("unavailable")
    clock.on_wait = lambda: payments.set_mode("ok")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
    assert len(payments.charges) == 1
    # PaymentBreakerThreshold 5: 3 attempts (1 + 2 retries), back to the breaker (closed: 3 of 5),
    # 3 more (the 5th failure opens it), back to the breaker (open: wait 60 s), then the probe.
    assert clock.waits == [60]
    assert len(backoff) == 4  # 2 retries of each ChargePayment entry that failed
    outage = ("PaymentProviderError", "/charges: HTTP 503 The payment service is unavailable.")
    assert failed_tasks(stack, order_id) == [outage] * 6
    assert all(0 <= delay <= cap for delay, cap in zip(backoff, [2, 4, 2, 4], strict=True))
    assert path_of(stack, order_id) == [
        *RESERVED,
        "ChargePayment", *BREAKER,
        "ChargePayment", *BREAKER, *WAITED,
        *BREAKER, *CHARGED, *CONFIRMATION,
    ]  # fmt: skip
    assert breaker_state(stack) == "CLOSED"


def test_while_the_breaker_is_open_an_order_waits_instead_of_calling_the_provider(
    back_office, storefront, stack, local_lambda, payments, clock
):
    seed.stock(back_office, "widget-1", 5)
    open_breaker(stack, opened_at=clock.now - 15)
    calls_when_waiting = []
    clock.on_wait = lambda: calls_when_waiting.append(len(payments.charges))
    order_id = seed.order(storefront, {"widget-1": 1})

    process(local_lambda, stack, order_id)

    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
    assert clock.waits == [45]  # until the breaker's 60 s are up, then the probe
    assert calls_when_waiting == [0]
    assert len(payments.charges) == 1
    # The charge read the open circuit and left the provider alone; the breaker decided to wait.
    assert [answer["outcome"] for answer in answers_of(stack, order_id, "ChargePayment")] == [
        "CIRCUIT_NOT_CLOSED", "DONE",
    ]  # fmt: skip
    assert path_of(stack, order_id) == [
        *RESERVED, *CHARGED, *BREAKER, *WAITED, *BREAKER, *CHARGED, *CONFIRMATION,
    ]  # fmt: skip


def test_an_outage_longer_than_the_maximum_wait_fails_the_order_and_releases_its_stock(
    back_office, storefront, stack, local_lambda, payments, clock, function, monkeypatch
):
    gate = function("CheckPaymentCircuitFunction").module("circuit")
    monkeypatch.setattr(gate, "settings", gate.settings.model_copy(update={"payment_max_wait": 150}))
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    payments.set_mode("unavailable")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "FAILED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("FAILED", "PAYMENT_UNAVAILABLE")
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []
    assert sum(clock.waits) == 150  # 60, 60 and the last 30 that reach PaymentMaxWait
    assert path_of(stack, order_id)[-13:] == [
        *WAITED,
        *BREAKER,
        "ReturnGiveUp",
        "StepsOutcome",
        "PaymentUnavailable",
        *FAILED_END,
    ]


def test_a_charge_that_timed_out_and_is_retried_charges_once(
    back_office, storefront, stack, local_lambda, payments, function, monkeypatch, backoff
):
    monkeypatch.setattr(function("ChargePaymentFunction").module("charge").payments, "timeout", 0.3)
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    payments.set_mode("slow")  # the first charge hangs; the provider charges it once it recovers
    backoff.on_append = lambda: payments.set_mode("ok")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["payment_status"] == "CHARGED"
    assert len(payments.charges) == 1  # the hung request's charge, answered again to the retry
    [delay] = backoff  # PaymentTimeout: one retry, after at most 5 s
    assert 0 <= delay <= 5
    assert failed_tasks(stack, order_id) == [("PaymentTimeout", "/charges: no answer within 0.3 s")]
    assert path_of(stack, order_id) == HAPPY_PATH


def test_shipping_failing_after_the_charge_refunds_releases_and_fails_without_confirming(
    back_office, storefront, stack, local_lambda, payments, shipping, confirmations, monkeypatch, backoff
):
    backoff.on_append = parameters.clear_caches  # CloseOrder reads the API key itself, as on AWS
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    shipping_queue = stack.get_att("ShippingQueue", "QueueName")
    refuse = lambda backend, queue_name, *args, **kwargs: queue_name == shipping_queue  # noqa: E731
    fault = ServerFaultError("ServiceUnavailable", 503)
    with failing_backend_call(monkeypatch, SQSBackend, "send_message", refuse, fault) as failed:
        execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "FAILED"
    assert len(failed) == 4  # ShipOrder's first attempt and 3 retries
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"], order["payment_status"]) == ("FAILED", "PROCESSING_ERROR", "REFUNDED")
    [charge] = payments.charges
    assert [refund["charge"] for refund in payments.refunds] == [charge["id"]]
    [stored] = table_items(stack, "OrdersTable")
    assert (stored["charge_id"], stored["refund_id"]) == (charge["id"], payments.refunds[0]["id"])  # for support
    assert seed.quantity(back_office, "widget-1") == 5
    assert shipping() == []
    assert confirmations.notifications() == []
    assert sent_emails() == []
    assert path_of(stack, order_id) == [*RESERVED, *CHARGED, "ShipOrder", "ProcessingError", *FAILED_END]


def test_steps_that_time_out_after_shipping_fail_the_order_refunded_and_released_and_never_run_again(
    back_office, storefront, stack, local_lambda, payments, shipping, confirmations, monkeypatch
):
    """The order's steps (Express) run out of their five minutes just after handing the order to
    shipping: the order workflow catches it as the order's fault and closes the order (refund, release,
    FAILED), without starting the steps again (they would charge or ship twice)."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    shipping_queue = stack.get_att("ShippingQueue", "QueueName")
    send_message = SQSBackend.send_message

    def ship_then_time_out(backend: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> Any:
        sent = send_message(backend, queue_name, *args, **kwargs)
        if queue_name == shipping_queue:
            time_out_running_execution()
        return sent

    monkeypatch.setattr(SQSBackend, "send_message", ship_then_time_out)
    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "FAILED"
    steps = described_executions(stack.client("stepfunctions"), stack.ref("OrderStepsWorkflow"))
    assert [step["status"] for step in steps] == ["TIMED_OUT"]
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"], order["payment_status"]) == ("FAILED", "PROCESSING_ERROR", "REFUNDED")
    [charge] = payments.charges
    assert [refund["charge"] for refund in payments.refunds] == [charge["id"]]
    assert seed.quantity(back_office, "widget-1") == 5
    assert [message["Body"]["order_id"] for message in shipping()] == [order_id]
    assert (confirmations.notifications(), sent_emails()) == ([], [])
    assert path_of(stack, order_id) == [*RESERVED, *CHARGED, "ShipOrder", "ProcessingError", *FAILED_END]


def test_two_orders_paid_with_the_same_card_are_two_charges_each_under_its_own_order_key(
    back_office, storefront, stack, local_lambda, payments
):
    seed.stock(back_office, "widget-1", 5)
    order_ids = []
    for _ in range(2):  # the same lines and card: the provider gets the same charge request twice
        order_ids.append(seed.order(storefront, {"widget-1": 1}, payment_method="pm_card_visa"))
        process(local_lambda, stack, order_ids[-1])

    stored = {item["order_id"]: item for item in table_items(stack, "OrdersTable")}
    charges = [(charge["idempotency_key"], charge["amount"], charge["payment_method"]) for charge in payments.charges]
    assert charges == [(f"charge-{order_id}", "10.00", "pm_card_visa") for order_id in order_ids]
    assert [stored[order_id]["charge_id"] for order_id in order_ids] == [charge["id"] for charge in payments.charges]
    assert len({charge["id"] for charge in payments.charges}) == 2
    assert [(stored[o]["status"], stored[o]["payment_status"]) for o in order_ids] == [("CONFIRMED", "CHARGED")] * 2
    assert seed.quantity(back_office, "widget-1") == 3


def test_an_aborted_execution_is_ended_failed_by_the_watcher_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments
):
    seed.stock(back_office, "gadget", 40, price=40)
    order_id = seed.order(storefront, LARGE)
    awaiting_approval(local_lambda, back_office, order_id)

    stack.client("stepfunctions").stop_execution(executionArn=execution_arn(stack, order_id), cause="operator")
    settle_until(local_lambda, lambda: order_of(back_office, order_id)["status"] == "FAILED")

    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("FAILED", "EXECUTION_ABORTED")
    assert seed.quantity(back_office, "gadget") == 40


def test_a_repeated_order_created_starts_one_execution_and_charges_once(
    back_office, storefront, stack, local_lambda, function, payments
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    process(local_lambda, stack, order_id)
    order = order_of(back_office, order_id)
    event = {"source": "orders.api", "detail-type": "OrderCreated", "detail": {**order, "status": "PENDING"}}

    again = function("ProcessOrderFunction").invoke(event)
    charge_again = function("ChargePaymentFunction").invoke({"order_id": order_id})

    assert again == {"order_id": order_id, "started": False}
    assert charge_again == {"outcome": "DONE", "charge_id": payments.charges[0]["id"], "message": None}
    executions = stack.client("stepfunctions").list_executions(stateMachineArn=stack.ref("OrderWorkflow"))["executions"]
    assert [e["name"] for e in executions] == [order_id]
    assert len(payments.charges) == 1
    assert seed.quantity(back_office, "widget-1") == 3


@pytest.mark.parametrize(
    ("undelivered", "addressed", "expected_path"),
    [
        (
            "email",
            {"to": "ada@example.com"},
            [*RESERVED, *CHARGED, *SHIPPED[:-1], "EmailUndelivered", *CONFIRMATION[3:]],
        ),
        ("notification", {}, [*RESERVED, *CHARGED, *SHIPPED, "NotificationUndelivered", *CONFIRMATION[4:]]),
    ],
    ids=["email", "notification"],
)
def test_a_confirmation_that_cannot_be_sent_is_dead_lettered_and_the_order_stays_confirmed(
    back_office,
    storefront,
    stack,
    local_lambda,
    payments,
    confirmations,
    monkeypatch,
    backoff,
    undelivered,
    addressed,
    expected_path,
):
    """SES, or SNS for the confirmed-order topic, fails every try: the order stays CONFIRMED and what
    was not sent waits in ConfirmationDLQ (SQS refusing it once on the way: the dead letter is
    retried, not lost); the other confirmation still goes out."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    topic = stack.ref("OrderConfirmedTopic")
    backend, method, when = {
        "email": (SESV2Backend, "send_email", lambda *args, **kwargs: True),
        "notification": (SNSBackend, "publish", lambda backend, message, arn=None, **kwargs: arn == topic),
    }[undelivered]
    dead_letters = stack.get_att("ConfirmationDLQ", "QueueName")

    def first_dead_letter(backend: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> bool:
        return queue_name == dead_letters and not refused

    fault = ServerFaultError("ServiceUnavailable", 503)
    with (
        failing_backend_call(monkeypatch, backend, method, when, fault) as failed,
        failing_backend_call(monkeypatch, SQSBackend, "send_message", first_dead_letter, fault) as refused,
    ):
        execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
    assert (len(failed), len(refused)) == (4, 1)  # the first attempt and 3 retries; the dead letter once
    assert len(backoff) == 4
    assert backoff[3] <= 1  # the dead letter's retry
    [dead_letter] = drain_queue(stack, stack.ref("ConfirmationDLQ"))
    body = {name: value for name, value in dead_letter["Body"].items() if name != "error"}
    assert body == {"undelivered": undelivered, "order_id": order_id, **addressed}
    sent = {"email": len(sent_emails()), "notification": len(confirmations.notifications())}
    assert sent == {"email": 1, "notification": 1, undelivered: 0}
    assert path_of(stack, order_id) == expected_path


def test_an_order_worth_more_than_the_highest_price_is_priced_and_waits_for_approval(
    back_office, storefront, stack, local_lambda, approval_requests
):
    """Totals are sums, not prices: 1,000 units at the highest price (1,000,000) are 10^9."""
    seed.stock(back_office, "dear", 1000, price=1_000_000)
    order_id = seed.order(storefront, {"dear": 1000})

    order = awaiting_approval(local_lambda, back_office, order_id)

    assert order["total"] == 1_000_000_000
    [request] = approval_requests.notifications()
    assert json.loads(request["Message"])["total"] == "1000000000.00"
    back_office.post(f"/orders/{order_id}/approval", {"approved": False})
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"


def processed_while_changed_as_it_ships(stack, local_lambda, monkeypatch, order_id, field, value):
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


def test_an_order_refunded_elsewhere_while_it_ships_is_failed_not_confirmed_and_not_refunded_again(
    back_office, storefront, stack, local_lambda, payments, confirmations, monkeypatch
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})

    execution = processed_while_changed_as_it_ships(
        stack, local_lambda, monkeypatch, order_id, "payment_status", "REFUNDED"
    )

    assert execution["status"] == "FAILED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"], order["payment_status"]) == ("FAILED", "PROCESSING_ERROR", "REFUNDED")
    assert (len(payments.charges), payments.refunds) == (1, [])
    assert seed.quantity(back_office, "widget-1") == 5
    assert (confirmations.notifications(), sent_emails()) == ([], [])
    assert path_of(stack, order_id) == [
        *RESERVED,
        *CHARGED,
        "ShipOrder",
        "MarkConfirmed",
        "ProcessingError",
        *FAILED_END,
    ]


def test_an_order_closed_elsewhere_while_it_ships_is_not_confirmed_over_it(
    back_office, storefront, stack, local_lambda, payments, confirmations, monkeypatch
):
    """Only a PROCESSING order becomes CONFIRMED: one closed as FAILED by hand stays FAILED."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})

    execution = processed_while_changed_as_it_ships(stack, local_lambda, monkeypatch, order_id, "status", "FAILED")

    assert execution["status"] == "FAILED"
    assert order_of(back_office, order_id)["status"] == "FAILED"
    assert (confirmations.notifications(), sent_emails()) == ([], [])
    # A terminal status is the saga's last write: whoever wrote it owns the charge and the stock.
    assert (len(payments.charges), payments.refunds) == (1, [])
    assert path_of(stack, order_id) == [
        *RESERVED,
        *CHARGED,
        "ShipOrder",
        "MarkConfirmed",
        "ProcessingError",
        *FAILED_END,
    ]
