"""Storefront POST /orders and GET /orders/{order_id}, called by a customer: validation,
idempotency, and no order left unannounced."""

import time

import pytest
from moto.dynamodb.models import DynamoDBBackend

from support import seed
from support.aws import (
    BusCapture,
    ServerFaultError,
    embedded_metrics,
    failing_backend_call,
    stream_event,
    stream_reader,
    table_items,
)
from support.workflow import process


@pytest.fixture
def order_body():
    return {"items": [{"product_id": "widget-1", "quantity": 2}], "payment_method": "pm_card_visa"}


def test_create_order_is_202_pending_and_stores_the_order_for_the_caller(
    storefront, customer, stack, order_body, capsys
):
    response = storefront.post("/orders", order_body)

    assert response.status == 202
    assert response.body == {"order_id": response.body["order_id"], "status": "PENDING"}
    [stored] = table_items(stack, "OrdersTable")
    assert stored["order_id"] == response.body["order_id"]
    assert stored["status"] == "PENDING"
    assert stored["user_id"] == customer["sub"]
    assert stored["items"] == [{"product_id": "widget-1", "quantity": 2}]
    assert stored["payment_method"] == "pm_card_visa"
    # The count that the dashboard plots, in CloudWatch's embedded metric format.
    assert embedded_metrics(capsys.readouterr().out)["OrderCreated"] == ("ServerlessOrders", "Count", [1.0])


def test_get_order_returns_the_contract_fields(storefront, customer, order_body):
    order_id = storefront.post("/orders", order_body).body["order_id"]

    response = storefront.get(f"/orders/{order_id}")

    assert response.status == 200
    body = response.body
    assert body == {  # the payment method is kept for the workflow, never shown
        "order_id": order_id,
        "user_id": customer["sub"],
        "items": order_body["items"],
        "status": "PENDING",
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert body["created_at"].endswith("Z")


@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"product_id": "widget-1", "quantity": 0}],
        [{"product_id": "widget-1", "quantity": -3}],
        [{"product_id": "widget-1", "quantity": 1001}],
        [{"product_id": "widget-1", "quantity": 1.5}],
        [{"product_id": "widget-1", "quantity": "2"}],
        [{"product_id": "", "quantity": 1}],
        [{"product_id": "x" * 129, "quantity": 1}],
        [{"product_id": "widget-1"}],
        [{"quantity": 1}],
        [{"product_id": "widget-1", "quantity": 1}, {"product_id": "widget-1", "quantity": 2}],
        [{"product_id": f"p{n}", "quantity": 1} for n in range(26)],
        "widget-1",
        None,
    ],
)
def test_invalid_items_are_422_and_store_nothing(storefront, stack, items):
    response = storefront.post("/orders", {"items": items, "payment_method": "pm_card_visa"})

    assert response.status == 422
    assert any(detail["location"].startswith("body.items") for detail in response.body["details"])
    assert table_items(stack, "OrdersTable") == []


def test_a_cart_that_names_a_product_twice_is_422_saying_so(storefront, stack):
    twice = [{"product_id": "widget-1", "quantity": 1}, {"product_id": "widget-1", "quantity": 2}]
    response = storefront.post("/orders", {"items": twice, "payment_method": "pm_card_visa"})

    assert (response.status, response.body["details"]) == (
        422,
        [{"location": "body.items", "message": "Value error, each product_id may appear only once"}],
    )
    assert table_items(stack, "OrdersTable") == []


LINES = [{"product_id": "a", "quantity": 1}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": LINES}, "body.payment_method"),
        ({"items": LINES, "payment_method": ""}, "body.payment_method"),
        ({"items": LINES, "payment_method": "p" * 129}, "body.payment_method"),
        ({"items": LINES, "payment_method": 7}, "body.payment_method"),
        ({"items": LINES, "payment_method": None}, "body.payment_method"),
        # The customer is the caller: nobody orders in another customer's name.
        ({"items": LINES, "payment_method": "pm_card_visa", "user_id": "someone-else"}, "body.user_id"),
    ],
)
def test_missing_or_wrong_payment_method_or_a_user_id_is_422(storefront, stack, body, field):
    response = storefront.post("/orders", body)

    assert response.status == 422
    assert field in [detail["location"] for detail in response.body["details"]]
    assert table_items(stack, "OrdersTable") == []


def test_malformed_json_order_is_400_and_stores_nothing(storefront, stack):
    response = storefront.post("/orders", raw_body='{"payment_method": "pm", "items": [')

    assert response.status == 400
    assert table_items(stack, "OrdersTable") == []


class TestIdempotencyKey:
    def test_same_key_and_body_returns_the_same_response_and_creates_one_order(self, storefront, stack, order_body):
        first = storefront.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        again = storefront.post("/orders", order_body, headers={"idempotency-key": "attempt-1"})

        assert first.status == again.status == 202
        assert again.body == first.body
        assert [item["order_id"] for item in table_items(stack, "OrdersTable")] == [first.body["order_id"]]

    def test_same_key_with_another_body_is_422_and_creates_nothing(self, storefront, stack, order_body):
        storefront.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        changed = {**order_body, "items": [{"product_id": "widget-1", "quantity": 3}]}

        response = storefront.post("/orders", changed, headers={"Idempotency-Key": "attempt-1"})

        assert response.status == 422
        assert response.body["details"] == [
            {
                "location": "header.Idempotency-Key",
                "message": "this Idempotency-Key was already used with a different request",
            }
        ]
        [stored] = table_items(stack, "OrdersTable")
        assert stored["items"] == [{"product_id": "widget-1", "quantity": 2}]

    def test_different_keys_create_different_orders(self, storefront, stack, order_body):
        first = storefront.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        second = storefront.post("/orders", order_body, headers={"Idempotency-Key": "attempt-2"})

        assert first.body["order_id"] != second.body["order_id"]
        assert len(table_items(stack, "OrdersTable")) == 2

    def test_without_a_key_every_request_is_a_new_order(self, storefront, stack, order_body):
        storefront.post("/orders", order_body)
        storefront.post("/orders", order_body)

        assert len(table_items(stack, "OrdersTable")) == 2

    def test_two_customers_may_pick_the_same_key(self, storefront, back_office, stack, order_body):
        bob = storefront.as_caller(seed.customer(back_office, "Bob"))

        first = storefront.post("/orders", order_body, headers={"Idempotency-Key": "k"})
        second = bob.post("/orders", order_body, headers={"Idempotency-Key": "k"})

        assert first.status == second.status == 202
        assert first.body["order_id"] != second.body["order_id"]
        owners = {item["order_id"]: item["user_id"] for item in table_items(stack, "OrdersTable")}
        assert owners == {first.body["order_id"]: storefront.claims["sub"], second.body["order_id"]: bob.claims["sub"]}

    def test_a_key_is_answered_as_its_first_request_for_an_hour(self, storefront, stack, order_body):
        before = int(time.time())
        storefront.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        after = int(time.time())

        [record] = [r for r in table_items(stack, "IdempotencyTable") if "StorefrontFunction" in r["id"]]
        assert (record["status"], before + 3600 <= record["expiration"] <= after + 3600) == ("COMPLETED", True)

    def test_a_key_reused_with_other_lines_once_its_record_expired_is_409_and_changes_nothing(
        self, storefront, back_office, stack, local_lambda, order_body
    ):
        seed.stock(back_office, "widget-1", 5)
        first = storefront.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        process(local_lambda, stack, first.body["order_id"])
        [confirmed] = table_items(stack, "OrdersTable")
        # The hour is up: the record's expiry (epoch seconds, what Powertools compares) has passed,
        # before DynamoDB's TTL deletes it. The key still names the same order id.
        [record] = [r for r in table_items(stack, "IdempotencyTable") if "StorefrontFunction" in r["id"]]
        stack.client("dynamodb").update_item(
            TableName=stack.ref("IdempotencyTable"),
            Key={"id": {"S": record["id"]}},
            UpdateExpression="SET expiration = :past",
            ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
        )
        other_lines = {**order_body, "items": [{"product_id": "widget-1", "quantity": 3}]}

        response = storefront.post("/orders", other_lines, headers={"Idempotency-Key": "attempt-1"})

        order_id = first.body["order_id"]
        assert (response.status, response.body) == (
            409,
            {"message": f"order {order_id} already exists with other content"},
        )
        assert table_items(stack, "OrdersTable") == [confirmed]
        assert (confirmed["status"], confirmed["total"], confirmed["items"]) == (
            "CONFIRMED",
            20,
            [{"product_id": "widget-1", "quantity": 2}],
        )
        assert seed.quantity(back_office, "widget-1") == 3

    @pytest.mark.parametrize("key", ["", "k" * 256])
    def test_empty_or_oversized_key_is_422(self, storefront, stack, order_body, key):
        response = storefront.post("/orders", order_body, headers={"Idempotency-Key": key})

        assert response.status == 422
        assert table_items(stack, "OrdersTable") == []


def _orders_table_write(stack):
    return lambda backend, table_name, *args, **kwargs: table_name == stack.ref("OrdersTable")


def _idempotency_table_write(stack):
    return lambda backend, table_name, *args, **kwargs: table_name == stack.ref("IdempotencyTable")


def test_a_lost_response_to_the_order_write_still_yields_one_order(storefront, stack, order_body, monkeypatch):
    # DynamoDB stores the order but its answer never arrives: the SDK retries the same put, which
    # finds the order (same id from the key) instead of adding a second one.
    error = ServerFaultError("InternalServerError", 500)
    with failing_backend_call(monkeypatch, DynamoDBBackend, "put_item", _orders_table_write(stack), error, after=True):
        response = storefront.post("/orders", order_body, headers={"Idempotency-Key": "lost-response"})

    assert response.status == 202
    [stored] = table_items(stack, "OrdersTable")
    assert stored["order_id"] == response.body["order_id"]


def test_an_order_stored_by_a_request_that_then_failed_is_still_announced_and_retry_finds_it(
    storefront, stack, function, order_body, monkeypatch
):
    bus = BusCapture(stack, stack.ref("OrdersBus"), {"source": ["orders.api"]})
    orders_stream = stream_reader(stack, "OrdersTable", "PublishOrderEventsFunction")
    # The order is written, then recording the idempotent result fails: the client gets a 5xx
    # and, from its point of view, no order. The request had 0.2 s left (its in-progress lock's life).
    error = ServerFaultError("ServiceUnavailable", 503)
    with failing_backend_call(monkeypatch, DynamoDBBackend, "update_item", _idempotency_table_write(stack), error):
        failed = storefront.post("/orders", order_body, headers={"Idempotency-Key": "crash-1"}, timeout=0.2)
    assert failed.status == 500
    assert failed.body == {"message": "internal error"}
    [stranded] = table_items(stack, "OrdersTable")
    assert stranded["status"] == "PENDING"

    # The table's stream announces it anyway.
    function("PublishOrderEventsFunction").invoke(stream_event(orders_stream))
    [announced] = bus.events()
    assert announced["detail"]["order_id"] == stranded["order_id"]

    # Once the failed request's lock has expired, the client's retry returns that same order.
    time.sleep(0.3)
    retried = storefront.post("/orders", order_body, headers={"Idempotency-Key": "crash-1"})
    assert retried.status == 202
    assert retried.body == {"order_id": stranded["order_id"], "status": "PENDING"}
    assert len(table_items(stack, "OrdersTable")) == 1
    assert orders_stream.read() == []  # nothing new to announce


def test_a_failed_order_write_frees_the_idempotency_key_for_the_retry(storefront, stack, order_body, monkeypatch):
    always = _orders_table_write(stack)
    with failing_backend_call(monkeypatch, DynamoDBBackend, "put_item", always, ServerFaultError()):
        failed = storefront.post("/orders", order_body, headers={"Idempotency-Key": "write-fails"})
    assert failed.status == 500
    assert table_items(stack, "OrdersTable") == []

    retried = storefront.post("/orders", order_body, headers={"Idempotency-Key": "write-fails"})

    assert retried.status == 202  # not 409: the failed attempt released its in-progress record
    assert [item["order_id"] for item in table_items(stack, "OrdersTable")] == [retried.body["order_id"]]
