"""The order workflow (statemachine/order_workflow.asl.json and its steps, with the template's
substitutions, executed by moto's Step Functions interpreter; the Lambda tasks run the real handlers in
process and charge through the fake payment provider over HTTP) confirming an order: charged once,
shipped once, the customer told once, whatever is delivered or retried twice. Every test checks the
exact states entered."""

import json
from typing import Any

import pytest
from moto.dynamodb.responses import DynamoHandler
from moto.sesv2.models import SESV2Backend
from moto.sns.models import SNSBackend
from moto.sqs.models import SQSBackend

from support import seed
from support.aws import ServerFaultError, drain_queue, failing_backend_call, sent_emails, table_items
from support.order_saga import CHARGED, CONFIRMATION, HAPPY_PATH, RESERVED, SHIPPED, order_of, path_of, task_failures
from support.workflow import process


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
