"""POST /orders and GET /orders/{order_id}: validation, idempotency, and no order left unannounced."""

import time

import pytest
from moto.dynamodb.models import DynamoDBBackend

from support.aws import BusCapture, ServerFaultError, failing_backend_call, stream_event, stream_reader, table_items


@pytest.fixture
def user_id(api):
    return api.post("/users", {"name": "Ada", "email": "ada@example.com"}).body["user_id"]


@pytest.fixture
def order_body(user_id):
    return {"user_id": user_id, "items": [{"product_id": "widget-1", "quantity": 2}]}


def test_create_order_is_202_pending_and_stores_the_order(api, stack, order_body):
    response = api.post("/orders", order_body)

    assert response.status == 202
    assert response.body == {"order_id": response.body["order_id"], "status": "PENDING"}
    [stored] = table_items(stack, "OrdersTable")
    assert stored["order_id"] == response.body["order_id"]
    assert stored["status"] == "PENDING"
    assert stored["user_id"] == order_body["user_id"]
    assert stored["items"] == [{"product_id": "widget-1", "quantity": 2}]


def test_get_order_returns_the_contract_fields(api, order_body):
    order_id = api.post("/orders", order_body).body["order_id"]

    response = api.get(f"/orders/{order_id}")

    assert response.status == 200
    body = response.body
    assert body == {
        "order_id": order_id,
        "user_id": order_body["user_id"],
        "items": order_body["items"],
        "status": "PENDING",
        "created_at": body["created_at"],
        "updated_at": body["created_at"],
    }
    assert body["created_at"].endswith("Z")


def test_unknown_order_is_404(api):
    response = api.get("/orders/3f1c2a9e-0000-4c1e-9f7a-2b6d5e4c3a21")

    assert response.status == 404
    assert "not found" in response.body["message"]


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
def test_invalid_items_are_422_and_store_nothing(api, stack, user_id, items):
    response = api.post("/orders", {"user_id": user_id, "items": items})

    assert response.status == 422
    assert any(detail["location"].startswith("body.items") for detail in response.body["details"])
    assert table_items(stack, "OrdersTable") == []


@pytest.mark.parametrize("body", [{"items": [{"product_id": "a", "quantity": 1}]}, {"user_id": 7, "items": []}])
def test_missing_or_wrong_user_id_is_422(api, stack, body):
    response = api.post("/orders", body)

    assert response.status == 422
    assert table_items(stack, "OrdersTable") == []


def test_malformed_json_order_is_400_and_stores_nothing(api, stack):
    response = api.post("/orders", raw_body='{"user_id": "u", "items": [')

    assert response.status == 400
    assert table_items(stack, "OrdersTable") == []


class TestIdempotencyKey:
    def test_same_key_and_body_returns_the_same_response_and_creates_one_order(self, api, stack, order_body):
        first = api.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        again = api.post("/orders", order_body, headers={"idempotency-key": "attempt-1"})

        assert first.status == again.status == 202
        assert again.body == first.body
        assert [item["order_id"] for item in table_items(stack, "OrdersTable")] == [first.body["order_id"]]

    def test_same_key_with_another_body_is_422_and_creates_nothing(self, api, stack, order_body):
        api.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        changed = {**order_body, "items": [{"product_id": "widget-1", "quantity": 3}]}

        response = api.post("/orders", changed, headers={"Idempotency-Key": "attempt-1"})

        assert response.status == 422
        assert "Idempotency-Key" in response.body["message"]
        [stored] = table_items(stack, "OrdersTable")
        assert stored["items"] == [{"product_id": "widget-1", "quantity": 2}]

    def test_different_keys_create_different_orders(self, api, stack, order_body):
        first = api.post("/orders", order_body, headers={"Idempotency-Key": "attempt-1"})
        second = api.post("/orders", order_body, headers={"Idempotency-Key": "attempt-2"})

        assert first.body["order_id"] != second.body["order_id"]
        assert len(table_items(stack, "OrdersTable")) == 2

    def test_without_a_key_every_request_is_a_new_order(self, api, stack, order_body):
        api.post("/orders", order_body)
        api.post("/orders", order_body)

        assert len(table_items(stack, "OrdersTable")) == 2

    def test_two_users_may_pick_the_same_key(self, api, stack, order_body):
        other_user = api.post("/users", {"name": "Bob", "email": "bob@example.com"}).body["user_id"]

        first = api.post("/orders", order_body, headers={"Idempotency-Key": "k"})
        second = api.post("/orders", {**order_body, "user_id": other_user}, headers={"Idempotency-Key": "k"})

        assert first.status == second.status == 202
        assert first.body["order_id"] != second.body["order_id"]

    @pytest.mark.parametrize("key", ["", "k" * 256])
    def test_empty_or_oversized_key_is_422(self, api, stack, order_body, key):
        response = api.post("/orders", order_body, headers={"Idempotency-Key": key})

        assert response.status == 422
        assert table_items(stack, "OrdersTable") == []


def _orders_table_write(stack):
    return lambda backend, table_name, *args, **kwargs: table_name == stack.ref("OrdersTable")


def _idempotency_table_write(stack):
    return lambda backend, table_name, *args, **kwargs: table_name == stack.ref("IdempotencyTable")


def test_a_lost_response_to_the_order_write_still_yields_one_order(api, stack, order_body, monkeypatch):
    # DynamoDB stores the order but its answer never arrives: the SDK retries the same put, which
    # finds the order (same id from the key) instead of adding a second one.
    error = ServerFaultError("InternalServerError", 500)
    with failing_backend_call(monkeypatch, DynamoDBBackend, "put_item", _orders_table_write(stack), error, after=True):
        response = api.post("/orders", order_body, headers={"Idempotency-Key": "lost-response"})

    assert response.status == 202
    [stored] = table_items(stack, "OrdersTable")
    assert stored["order_id"] == response.body["order_id"]


def test_an_order_stored_by_a_request_that_then_failed_is_still_announced_and_retry_finds_it(
    api, stack, function, order_body, monkeypatch
):
    bus = BusCapture(stack, stack.ref("OrdersBus"), {"source": ["orders.api"]})
    orders_stream = stream_reader(stack, "OrdersTable", "PublishOrderEventsFunction")
    # The order is written, then recording the idempotent result fails: the client gets a 5xx
    # and, from its point of view, no order. The request had 0.2 s left (its in-progress lock's life).
    error = ServerFaultError("ServiceUnavailable", 503)
    with failing_backend_call(monkeypatch, DynamoDBBackend, "update_item", _idempotency_table_write(stack), error):
        failed = api.post("/orders", order_body, headers={"Idempotency-Key": "crash-1"}, timeout=0.2)
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
    retried = api.post("/orders", order_body, headers={"Idempotency-Key": "crash-1"})
    assert retried.status == 202
    assert retried.body == {"order_id": stranded["order_id"], "status": "PENDING"}
    assert len(table_items(stack, "OrdersTable")) == 1
    assert orders_stream.read() == []  # nothing new to announce


def test_a_failed_order_write_frees_the_idempotency_key_for_the_retry(api, stack, order_body, monkeypatch):
    always = _orders_table_write(stack)
    with failing_backend_call(monkeypatch, DynamoDBBackend, "put_item", always, ServerFaultError()):
        failed = api.post("/orders", order_body, headers={"Idempotency-Key": "write-fails"})
    assert failed.status == 500
    assert table_items(stack, "OrdersTable") == []

    retried = api.post("/orders", order_body, headers={"Idempotency-Key": "write-fails"})

    assert retried.status == 202  # not 409: the failed attempt released its in-progress record
    assert [item["order_id"] for item in table_items(stack, "OrdersTable")] == [retried.body["order_id"]]
