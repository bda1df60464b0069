"""The fake payment provider of `make dev` keeps the contract the payment functions rely on: API
key, idempotency keys (one charge per key, whatever the retries), declines, outages and refunds."""

import json
import threading
import time

import pytest
from werkzeug.test import Client, EnvironBuilder
from werkzeug.wrappers import Response

from local_stack.cloudformation.deploy import deploy
from local_stack.cloudformation.template import load
from local_stack.fakes import payment_provider
from local_stack.fakes.payment_provider import PaymentProvider
from local_stack.server import PAYMENT_KEY_RESOURCE, payment_parameters, secret_value

KEY = "sk_local_0123456789"
ORDER = {"amount": "39.98", "currency": "USD", "payment_method": "pm_card_visa"}


@pytest.fixture
def provider():
    return PaymentProvider(lambda: KEY)


@pytest.fixture
def client(provider):
    return Client(provider)


def charge(client, body=ORDER, key="order-1", api_key=KEY):
    headers = {"Idempotency-Key": key} if key else {}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return client.post("/v1/charges", json=body, headers=headers)


def refund(client, charge_id, key="refund-order-1"):
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": key}
    return client.post("/v1/refunds", json={"charge": charge_id}, headers=headers)


def test_a_charge_succeeds_with_the_amount_as_a_decimal_string(client):
    response = charge(client)

    assert response.status_code == 201
    body = response.get_json()
    assert body["id"].startswith("ch_")
    assert body == {
        "id": body["id"],
        "status": "succeeded",
        "amount": "39.98",
        "currency": "USD",
        "payment_method": "pm_card_visa",
    }


def test_the_same_idempotency_key_charges_once_and_answers_the_same(client):
    first, again = charge(client), charge(client)
    other_order = charge(client, key="order-2")

    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert other_order.get_json()["id"] != first.get_json()["id"]
    charges = client.get("/__charges").get_json()["charges"]
    assert [c["id"] for c in charges] == [first.get_json()["id"], other_order.get_json()["id"]]


def test_a_key_reused_for_another_amount_is_refused(client):
    charge(client)

    response = charge(client, body={**ORDER, "amount": "1.00"})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"
    assert len(client.get("/__charges").get_json()["charges"]) == 1


def test_pm_card_declined_is_declined_again_under_the_same_key(client):
    declined = {**ORDER, "payment_method": "pm_card_declined"}

    first, again = charge(client, body=declined), charge(client, body=declined)

    assert first.status_code == again.status_code == 402
    assert (
        first.get_json()
        == again.get_json()
        == {"error": {"code": "card_declined", "message": "Your card was declined."}}
    )
    assert client.get("/__charges").get_json() == {"charges": [], "refunds": []}


@pytest.mark.parametrize("api_key", [None, "sk_wrong"])
def test_without_the_secret_api_key_the_answer_is_401(client, api_key):
    response = charge(client, api_key=api_key)

    assert response.status_code == 401
    assert response.get_json()["error"] == {"code": "unauthorized", "message": "Invalid API key."}
    assert client.get("/__charges").get_json()["charges"] == []


def test_the_key_accepted_is_read_at_each_request():
    keys = iter(["sk_first", "sk_rotated"])
    client = Client(PaymentProvider(lambda: next(keys)))

    assert charge(client, api_key="sk_first").status_code == 201
    assert charge(client, api_key="sk_first", key="order-2").status_code == 401


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (ORDER, None),
        ({**ORDER, "amount": 39.98}, "order-1"),
        ({**ORDER, "amount": "-1"}, "order-1"),
        ({**ORDER, "currency": "usd"}, "order-1"),
        ({"amount": "39.98", "currency": "USD"}, "order-1"),
    ],
    ids=["no-idempotency-key", "amount-as-number", "negative-amount", "lowercase-currency", "no-payment-method"],
)
def test_a_malformed_request_is_400_and_charges_nothing(client, body, key):
    response = charge(client, body=body, key=key)

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_request"
    assert client.get("/__charges").get_json()["charges"] == []


def test_a_body_that_is_not_json_is_400(client):
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "order-1"}

    response = client.post("/v1/charges", data="amount=39.98", headers=headers)

    assert response.status_code == 400


def test_unavailable_answers_503_until_the_provider_is_ok_again(client):
    assert client.post("/__control", json={"mode": "unavailable"}).get_json() == {"mode": "unavailable"}
    assert client.get("/__control").get_json() == {"mode": "unavailable"}

    down = charge(client)

    assert down.status_code == 503
    assert down.get_json()["error"]["code"] == "unavailable"
    assert client.get("/__charges").get_json()["charges"] == []
    client.post("/v1/__control", json={"mode": "ok"})  # also under the base URL the functions know
    assert charge(client).status_code == 201


def test_slow_hangs_a_charge_until_the_mode_changes(client, provider):
    client.post("/__control", json={"mode": "slow"})
    answers = []
    hanging = threading.Thread(target=lambda: answers.append(charge(client)))
    hanging.start()
    time.sleep(0.3)

    assert answers == []  # a client with a timeout below this would have given up
    client.post("/__control", json={"mode": "ok"})
    hanging.join(timeout=5)
    assert [answer.status_code for answer in answers] == [201]


def test_slow_gives_up_with_503_after_its_limit(client, monkeypatch):
    monkeypatch.setattr(payment_provider, "SLOW_SECONDS", 0.1)
    client.post("/__control", json={"mode": "slow"})

    assert charge(client).status_code == 503


def test_an_unknown_mode_is_400(client):
    response = client.post("/__control", json={"mode": "broken"})

    assert response.status_code == 400
    assert client.get("/__control").get_json() == {"mode": "ok"}


def test_a_refund_is_made_once_per_key(client):
    charged = charge(client).get_json()

    first, again = refund(client, charged["id"]), refund(client, charged["id"])

    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert first.get_json() == {"id": first.get_json()["id"], "status": "succeeded", "charge": charged["id"]}
    assert first.get_json()["id"].startswith("re_")
    assert client.get("/__charges").get_json() == {
        "charges": [{**charged, "idempotency_key": "order-1"}],
        "refunds": [{**first.get_json(), "idempotency_key": "refund-order-1"}],
    }


def test_a_second_refund_under_another_key_is_refused(client):
    charged = charge(client).get_json()
    refund(client, charged["id"])

    response = refund(client, charged["id"], key="another-key")

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "charge_already_refunded"
    assert len(client.get("/__charges").get_json()["refunds"]) == 1


def test_refunding_an_unknown_charge_is_404(client):
    response = refund(client, "ch_unknown")

    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "resource_missing"


def test_charges_lists_charges_and_refunds_in_order(client):
    first = charge(client, key="order-1").get_json()
    second = charge(client, body={**ORDER, "amount": "5.00"}, key="order-2").get_json()
    refunded = refund(client, first["id"]).get_json()

    listed = client.get("/v1/__charges").get_json()

    assert [(c["id"], c["amount"], c["idempotency_key"]) for c in listed["charges"]] == [
        (first["id"], "39.98", "order-1"),
        (second["id"], "5.00", "order-2"),
    ]
    assert listed["refunds"] == [
        {"id": refunded["id"], "status": "succeeded", "charge": first["id"], "idempotency_key": "refund-order-1"}
    ]


def test_an_unknown_route_is_404(client):
    assert client.post("/v1/payouts", json={}).status_code == 404
    assert client.post("/charges", json=ORDER).status_code == 404


def test_a_method_is_case_sensitive_as_in_http_so_post_is_not_post(provider):
    headers = {"Authorization": f"Bearer {KEY}", "Idempotency-Key": "order-1"}
    environ = EnvironBuilder("/v1/charges", method="POST", json=ORDER, headers=headers).get_environ()
    environ["REQUEST_METHOD"] = "post"

    refused = Response.from_app(provider, environ)

    assert refused.status_code == 405
    assert json.loads(refused.get_data())["error"]["code"] == "method_not_allowed"
    assert provider.charges == []


def test_make_dev_points_the_functions_at_the_provider_and_its_key_at_the_secret(aws):
    url = "http://127.0.0.1:4010/v1"
    stack = deploy(load(parameter_overrides=payment_parameters(url)), aws)
    client = Client(PaymentProvider(secret_value(stack, PAYMENT_KEY_RESOURCE)))
    secret = aws.client("secretsmanager").get_secret_value(SecretId=stack.ref("PaymentApiKey"))["SecretString"]

    urls = {spec.environment.get("PAYMENT_API_URL") for spec in stack.functions.values()} - {None}

    assert urls == {url}
    assert (stack.template.parameters["PaymentBreakerWait"], stack.template.parameters["PaymentMaxWait"]) == (
        "10",
        "120",
    )
    assert charge(client, api_key=secret).status_code == 201
    assert charge(client, api_key=KEY, key="order-2").status_code == 401
