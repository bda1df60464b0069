"""The order workflow's faults and compensation: Lambda or AWS failing a step, retried and unnoticed, or
failing it after its retries; the saga then refunds, releases the stock and ends the order FAILED (also
when its execution is aborted, or the order changed by someone else as it ships). Every test checks the
exact states entered."""

from datetime import datetime, timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from moto.sqs.models import SQSBackend

from support import seed
from support.aws import ServerFaultError, failing_backend_call, sent_emails, table_items
from support.order_saga import (
    CHARGED,
    FAILED_AS_IT_SHIPS,
    FAILED_END,
    HAPPY_PATH,
    LARGE,
    RESERVED,
    VALIDATED,
    answers_of,
    assert_ended_after_lambda_failed,
    awaiting_approval,
    lambda_fails,
    order_of,
    order_processed_while_lambda_fails,
    path_of,
    processed_while_changed_as_it_ships,
)
from support.workflow import described_executions, execution_arn, process, settle_until, time_out_running_execution


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


@pytest.mark.parametrize("attempts", [1, 4], ids=["once", "every-attempt"])
@pytest.mark.parametrize("task", LAMBDA_TASKS)
def test_a_task_that_lambda_fails_is_retried_unnoticed_and_after_every_attempt_fails_the_order_released(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch, task, attempts
):
    """Lambda fails the task's first attempt: the customer never notices. It fails all four: the
    order fails with its stock released and nothing charged."""
    processed = order_processed_while_lambda_fails(
        back_office, storefront, stack, local_lambda, monkeypatch, LAMBDA_TASKS[task], attempts
    )

    until_task = HAPPY_PATH[: HAPPY_PATH.index(task) + 1]
    paths = (HAPPY_PATH, [*until_task, "ProcessingError", *FAILED_END])
    assert_ended_after_lambda_failed(stack, back_office, payments, backoff, processed, attempts, paths)


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
    [stored] = [item for item in table_items(stack, "OrdersTable") if item["order_id"] == order_id]
    reserved_at = datetime.fromisoformat(stored["reserved_at"])
    assert abs(reserved_at - execution["startDate"]) < timedelta(milliseconds=1)  # the execution's start


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
    assert path_of(stack, order_id) == FAILED_AS_IT_SHIPS


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
    assert path_of(stack, order_id) == FAILED_AS_IT_SHIPS
