"""The application served by the local stack, over HTTP, as a client and an operator see it."""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from e2e.conftest import eventually

TERMINAL = {"CONFIRMED", "REJECTED", "FAILED"}


def new_user(local):
    response = local.request("POST", "/users", json={"name": "Ada", "email": "ada@example.com"})
    assert response.status_code == 201
    return response.json()["user_id"]


def new_product(local, quantity, price=10.0):
    product_id = f"p-{uuid.uuid4().hex[:10]}"
    response = local.request("PUT", f"/inventory/{product_id}", json={"quantity": quantity, "price": price})
    assert response.status_code == 200
    return product_id


def place(local, user_id, lines, key=None):
    body = {"user_id": user_id, "items": [{"product_id": p, "quantity": q} for p, q in lines.items()]}
    return local.request("POST", "/orders", json=body, headers={"Idempotency-Key": key} if key else {})


def final(local, order_id, timeout=30.0):
    def terminal():
        order = local.request("GET", f"/orders/{order_id}").json()
        return order if order["status"] in TERMINAL else None

    order = eventually(terminal, timeout)
    assert order, f"order {order_id} did not reach a terminal status"
    return order


def stock_of(local, product_id):
    return local.request("GET", f"/inventory/{product_id}").json()["quantity"]


def messages_about(local, queue_url, order_id):
    sqs = local.client("sqs")
    found = []
    for _ in range(5):
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            if order_id in message["Body"]:
                found.append(message)
    return found


@pytest.fixture(scope="module")
def confirmations(local):
    """A queue of the test's own, subscribed to the order-confirmed topic."""
    sqs = local.client("sqs")
    url = sqs.create_queue(QueueName="e2e-confirmations")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    local.client("sns").subscribe(TopicArn=local.outputs["OrderConfirmedTopicArn"], Protocol="sqs", Endpoint=arn)
    return url


def test_every_route_follows_the_contract(local):
    user = local.request("POST", "/users", json={"name": "Grace", "email": "grace@example.com"})
    assert user.status_code == 201
    assert user.headers["Content-Type"].startswith("application/json")
    user_id = user.json()["user_id"]
    assert local.request("GET", f"/users/{user_id}").json() == user.json()
    assert local.request("GET", "/users/nobody").status_code == 404

    product = local.request("PUT", "/inventory/e2e-widget", json={"quantity": 3, "price": 2.5})
    assert product.json() == {"product_id": "e2e-widget", "quantity": 3, "price": 2.5}
    assert local.request("GET", "/inventory/e2e-widget").json() == product.json()
    assert local.request("GET", "/inventory/nothing").status_code == 404

    order = place(local, user_id, {"e2e-widget": 1})
    assert order.status_code == 202
    assert order.json() == {"order_id": order.json()["order_id"], "status": "PENDING"}
    fetched = local.request("GET", f"/orders/{order.json()['order_id']}").json()
    assert set(fetched) >= {"order_id", "user_id", "items", "status", "created_at", "updated_at"}
    assert local.request("GET", f"/orders/{uuid.uuid4()}").status_code == 404


def test_an_order_is_confirmed_with_stock_taken_one_shipment_and_one_notification(local, confirmations):
    user_id = new_user(local)
    product_id = new_product(local, 5, price=19.99)

    order_id = place(local, user_id, {product_id: 2}).json()["order_id"]
    order = final(local, order_id)

    assert order["status"] == "CONFIRMED"
    assert order["total"] == 39.98
    assert stock_of(local, product_id) == 3
    [shipment] = messages_about(local, local.outputs["ShippingQueueUrl"], order_id)
    assert json.loads(shipment["Body"])["order"]["items"][0]["product_id"] == product_id
    [notification] = messages_about(local, confirmations, order_id)
    assert json.loads(json.loads(notification["Body"])["Message"])["order_id"] == order_id


def test_an_order_beyond_the_stock_is_rejected_and_takes_nothing(local):
    user_id = new_user(local)
    product_id = new_product(local, 1)

    order = final(local, place(local, user_id, {product_id: 2}).json()["order_id"])

    assert (order["status"], order["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert stock_of(local, product_id) == 1
    assert messages_about(local, local.outputs["ShippingQueueUrl"], order["order_id"]) == []


def test_an_order_for_an_unknown_product_is_rejected_as_invalid(local):
    order = final(local, place(local, new_user(local), {"never-stocked": 1}).json()["order_id"])

    assert (order["status"], order["reason"]) == ("REJECTED", "VALIDATION_FAILED")


def test_retries_with_the_same_idempotency_key_create_one_order(local):
    user_id = new_user(local)
    product_id = new_product(local, 5)

    responses = [place(local, user_id, {product_id: 1}, key="e2e-key-1") for _ in range(3)]
    conflicting = place(local, user_id, {product_id: 2}, key="e2e-key-1")

    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["order_id"] for r in responses}) == 1
    assert conflicting.status_code == 422
    final(local, responses[0].json()["order_id"])
    assert stock_of(local, product_id) == 4


def test_twenty_concurrent_orders_on_a_stock_of_five_confirm_exactly_five(local):
    user_id = new_user(local)
    product_id = new_product(local, 5)

    with ThreadPoolExecutor(max_workers=20) as pool:
        placed = list(pool.map(lambda _: place(local, user_id, {product_id: 1}), range(20)))
    assert {response.status_code for response in placed} == {202}
    outcomes = [final(local, response.json()["order_id"], timeout=90)["status"] for response in placed]

    assert outcomes.count("CONFIRMED") == 5
    assert outcomes.count("REJECTED") == 15
    assert stock_of(local, product_id) == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/users", '{"name": "x"'),
        ("POST", "/users", '{"name": "x", "email": "nope"}'),
        ("POST", "/orders", '{"user_id": "u", "items": []}'),
        ("POST", "/orders", '{"user_id": "u", "items": [{"product_id": "p", "quantity": "1"}]}'),
        ("PUT", "/inventory/p1", '{"quantity": -1, "price": 1}'),
        ("PUT", "/inventory/p1", "[]"),
        ("GET", "/orders/" + "x" * 200, None),
    ],
)
def test_bad_input_is_a_4xx_json_error_and_the_server_stays_healthy(local, method, path, body):
    response = local.request(method, path, data=body, headers={"Content-Type": "application/json"})

    assert 400 <= response.status_code < 500
    assert isinstance(response.json()["message"], str)
    assert local.request("GET", "/users/still-alive").status_code == 404


def test_a_path_outside_the_template_is_refused_by_the_gateway(local):
    response = local.request("DELETE", "/users")

    assert response.status_code in (403, 404, 405)
