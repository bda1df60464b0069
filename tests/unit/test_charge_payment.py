"""ChargePaymentFunction reads the payment circuit breaker itself before it calls the provider: a
closed circuit charges the order (one read of the breaker before the call, as the separate check it
replaces on the common path made); a circuit that is not closed is answered CIRCUIT_NOT_CLOSED with
nothing called, nothing claimed and the breaker untouched (its half-open probe is handed out by
CheckPaymentCircuit alone), unless the breaker has just said CALL for this order."""

import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from boto3.dynamodb.types import TypeSerializer
from moto.dynamodb.responses import DynamoHandler
from moto.secretsmanager.models import SecretsManagerBackend

from local_stack.lambda_runtime.functions import running
from support.aws import table_items


@pytest.fixture
def order(stack):
    """An order that its workflow has validated and reserved: PROCESSING, priced, not yet charged."""
    fields = {
        "order_id": "o-1", "user_id": "u-1", "status": "PROCESSING", "total": Decimal(25),
        "items": [{"product_id": "widget-1", "quantity": 2}], "payment_method": "pm_card_visa",
        "created_at": "2026-11-29T10:00:00.000Z", "updated_at": "2026-11-29T10:00:00.000Z",
    }  # fmt: skip
    item = {name: TypeSerializer().serialize(value) for name, value in fields.items()}
    stack.client("dynamodb").put_item(TableName=stack.ref("OrdersTable"), Item=item)
    return "o-1"


def set_breaker(stack, state, **times):
    item = {"name": {"S": "payment-provider"}, "state": {"S": state}, "failures": {"N": "0"}, "version": {"N": "3"}}
    item |= {name: {"N": str(value)} for name, value in times.items()}
    stack.client("dynamodb").put_item(TableName=stack.ref("CircuitBreakerTable"), Item=item)


@pytest.fixture
def dynamodb_requests(monkeypatch, stack):
    """Each DynamoDB request the test's functions send: (operation, the table's logical id)."""
    tables = {stack.ref(logical_id): logical_id for logical_id in ("OrdersTable", "CircuitBreakerTable")}
    sent = []
    for operation in ("get_item", "update_item"):
        original = getattr(DynamoHandler, operation)

        def recorded(handler, original=original, operation=operation):
            sent.append((operation, tables.get(handler.body["TableName"], handler.body["TableName"])))
            return original(handler)

        monkeypatch.setattr(DynamoHandler, operation, recorded)
    return sent


def charge(function, order_id, **payment):
    return function("ChargePaymentFunction").invoke({"order_id": order_id, "payment": payment})


def test_a_closed_circuit_charges_the_order_with_one_read_of_the_breaker_before_the_call(
    function, stack, payments, order, dynamodb_requests
):
    set_breaker(stack, "CLOSED")

    answer = charge(function, order)

    [charged] = payments.charges
    assert answer == {"outcome": "DONE", "message": None, "charge_id": charged["id"]}
    assert (charged["amount"], charged["payment_method"]) == ("25.00", "pm_card_visa")
    [item] = table_items(stack, "OrdersTable")
    assert (item["payment_status"], item["charge_id"]) == ("CHARGED", charged["id"])
    # The order's state, the breaker (instead of CheckPaymentCircuit's read), the claim, the call,
    # the breaker hears of the success, the charge recorded.
    assert dynamodb_requests == [
        ("get_item", "OrdersTable"),
        ("get_item", "CircuitBreakerTable"),
        ("update_item", "OrdersTable"),
        ("get_item", "CircuitBreakerTable"),
        ("update_item", "OrdersTable"),
    ]


@pytest.mark.parametrize(
    ("state", "times"),
    [
        ("OPEN", {"opened_at": 0}),  # open a moment ago
        ("OPEN", {"opened_at": -3600}),  # its wait is over: the probe is the breaker's to hand out
        ("HALF_OPEN", {"opened_at": -120, "probe_until": 30}),  # another execution holds the probe
    ],
    ids=["open", "open-probe-due", "half-open"],
)
def test_a_circuit_that_is_not_closed_is_answered_without_calling_the_provider_or_claiming_the_order(
    function, stack, payments, order, state, times
):
    now = time.time()
    set_breaker(stack, state, **{name: now + offset for name, offset in times.items()})
    [breaker_before] = table_items(stack, "CircuitBreakerTable")

    answer = charge(function, order)

    assert answer == {
        "outcome": "CIRCUIT_NOT_CLOSED",
        "message": "the payment circuit is not closed",
        "charge_id": None,
    }
    assert payments.charges == []
    [item] = table_items(stack, "OrdersTable")
    assert (item["status"], "charge_started_at" in item, "payment_status" in item) == ("PROCESSING", False, False)
    assert table_items(stack, "CircuitBreakerTable") == [breaker_before]


@pytest.mark.parametrize("state", ["OPEN", "HALF_OPEN"])
def test_an_order_the_breaker_let_through_is_charged_whatever_the_circuit(function, stack, payments, order, state):
    """CheckPaymentCircuit said CALL (the half-open probe, say): the charge does not ask again."""
    now = time.time()
    set_breaker(stack, state, opened_at=now - 120, probe_until=now + 30)

    answer = charge(function, order, decision="CALL", wait_seconds=0, waiting_since=now)

    [charged] = payments.charges
    assert answer == {"outcome": "DONE", "message": None, "charge_id": charged["id"]}
    assert table_items(stack, "CircuitBreakerTable")[0]["state"] == "CLOSED"  # the probe's success closes it


def test_the_providers_api_key_is_read_once_in_five_minutes_then_again(function, stack, payments, order, monkeypatch):
    """Powertools' cache of the secret (max_age): a warm instance reads the key once in five minutes,
    so that a rotated key is in use five minutes later at most."""
    start = datetime(2026, 12, 6, 12, 0)
    now = [start]

    class Clock(datetime):
        @classmethod
        def now(cls, tz=None):
            return now[0]

    monkeypatch.setattr(parameters_base, "datetime", Clock)
    original = SecretsManagerBackend.get_secret_value
    reads = []

    def read(backend, *args, **kwargs):
        if getattr(running, "function", None) == "ChargePaymentFunction":  # not the provider checking it
            reads.append(now[0] - start)
        return original(backend, *args, **kwargs)

    monkeypatch.setattr(SecretsManagerBackend, "get_secret_value", read)
    set_breaker(stack, "CLOSED")
    dynamodb, orders = stack.client("dynamodb"), stack.ref("OrdersTable")
    item = dynamodb.get_item(TableName=orders, Key={"order_id": {"S": order}})["Item"]
    for other in ("o-2", "o-3"):
        dynamodb.put_item(TableName=orders, Item={**item, "order_id": {"S": other}})

    for order_id, seconds in ((order, 0), ("o-2", 299), ("o-3", 301)):
        now[0] = start + timedelta(seconds=seconds)
        assert charge(function, order_id)["outcome"] == "DONE"

    assert reads == [timedelta(0), timedelta(seconds=301)]
    assert len(payments.charges) == 3
