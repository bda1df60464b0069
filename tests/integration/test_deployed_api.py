"""The HTTP contract against a deployed stack (`sam deploy`), found by AWS_SAM_STACK_NAME.

Skipped when AWS_SAM_STACK_NAME is unset: nothing else in the suite ever reaches AWS.
    AWS_SAM_STACK_NAME=serverless-orders-dev .venv/bin/pytest tests/integration
"""

import os
import time
import uuid

import pytest
import requests

STACK_NAME = os.environ.get("AWS_SAM_STACK_NAME")
pytestmark = pytest.mark.skipif(not STACK_NAME, reason="AWS_SAM_STACK_NAME is not set: no deployed stack to test")


@pytest.fixture(scope="module")
def outputs():
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=STACK_NAME)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack["Outputs"]}


@pytest.fixture(scope="module")
def http(outputs):
    session = requests.Session()
    token = os.environ.get("API_ID_TOKEN")  # a Cognito ID token when the API requires one
    if token:
        session.headers["Authorization"] = token
    base = outputs["ApiUrl"].rstrip("/")

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=30, **kwargs)

    return call


def test_user_stock_and_order_round_trip(http):
    user = http("POST", "/users", json={"name": "Integration", "email": "integration@example.com"})
    assert user.status_code == 201
    user_id = user.json()["user_id"]
    assert http("GET", f"/users/{user_id}").json()["user_id"] == user_id

    product_id = f"it-{uuid.uuid4().hex[:12]}"
    stock = http("PUT", f"/inventory/{product_id}", json={"quantity": 3, "price": 2.5})
    assert stock.json() == {"product_id": product_id, "quantity": 3, "price": 2.5}

    key = str(uuid.uuid4())
    body = {"user_id": user_id, "items": [{"product_id": product_id, "quantity": 1}]}
    order = http("POST", "/orders", json=body, headers={"Idempotency-Key": key})
    assert order.status_code == 202
    again = http("POST", "/orders", json=body, headers={"Idempotency-Key": key})
    assert again.json() == order.json()

    order_id = order.json()["order_id"]
    deadline = time.monotonic() + 60
    status = "PENDING"
    while time.monotonic() < deadline and status in ("PENDING", "PROCESSING"):
        time.sleep(2)
        status = http("GET", f"/orders/{order_id}").json()["status"]
    assert status == "CONFIRMED"
    assert http("GET", f"/inventory/{product_id}").json()["quantity"] == 2


def test_client_mistakes_are_4xx_json(http):
    assert http("GET", "/users/does-not-exist").status_code == 404
    response = http("POST", "/orders", json={"user_id": "u", "items": []})
    assert response.status_code == 422
    assert "message" in response.json()
