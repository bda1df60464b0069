"""The HTTP contract against a deployed stack (`sam deploy`), found by AWS_SAM_STACK_NAME.

Skipped when AWS_SAM_STACK_NAME is unset: nothing else in the suite ever reaches AWS. It needs an ID
token of a customer (API_ID_TOKEN) and of a member of staff (API_STAFF_TOKEN) of the stack's pool:
    AWS_SAM_STACK_NAME=serverless-orders-dev API_ID_TOKEN=... API_STAFF_TOKEN=... .venv/bin/pytest tests/integration
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


def client(base_url, token):
    session = requests.Session()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"

    def call(method, path, **kwargs):
        return session.request(method, base_url.rstrip("/") + path, timeout=30, **kwargs)

    return call


@pytest.fixture(scope="module")
def storefront(outputs):
    return client(outputs["StorefrontApiUrl"], os.environ["API_ID_TOKEN"])


@pytest.fixture(scope="module")
def back_office(outputs):
    return client(outputs["BackOfficeApiUrl"], os.environ["API_STAFF_TOKEN"])


def test_stock_and_order_round_trip(storefront, back_office):
    product_id = f"it-{uuid.uuid4().hex[:12]}"
    stock = back_office("PUT", f"/inventory/{product_id}", json={"quantity": 3, "price": 2.5})
    assert stock.json() == {"product_id": product_id, "quantity": 3, "price": 2.5}

    key = str(uuid.uuid4())
    body = {"items": [{"product_id": product_id, "quantity": 1}], "payment_method": "pm_card_visa"}
    order = storefront("POST", "/orders", json=body, headers={"Idempotency-Key": key})
    assert order.status_code == 202
    again = storefront("POST", "/orders", json=body, headers={"Idempotency-Key": key})
    assert again.json() == order.json()

    order_id = order.json()["order_id"]
    deadline = time.monotonic() + 60
    status = "PENDING"
    while time.monotonic() < deadline and status in ("PENDING", "PROCESSING"):
        time.sleep(2)
        status = storefront("GET", f"/orders/{order_id}").json()["status"]
    assert status == "CONFIRMED"
    assert back_office("GET", f"/inventory/{product_id}").json()["quantity"] == 2


def test_auth_and_client_mistakes_are_4xx_json(outputs, storefront, back_office):
    assert client(outputs["StorefrontApiUrl"], None)("GET", "/me").status_code == 401
    assert client(outputs["BackOfficeApiUrl"], os.environ["API_ID_TOKEN"])("GET", "/orders").status_code == 403
    assert back_office("GET", "/users/does-not-exist").status_code == 404
    response = storefront("POST", "/orders", json={"items": [], "payment_method": "pm"})
    assert response.status_code == 422
    assert "message" in response.json()
