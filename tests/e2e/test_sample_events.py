"""The samples of events/ work against a fresh `make dev` (its demo data): each function's sample,
invoked through the local stack's Lambda API, gets the answer that tests/support/samples.py names."""

import json

from conftest import eventually

from local_stack.template import load
from support.samples import CONFIRMED_ORDER, NEW_ORDER, REJECTED_ORDER, SAMPLES


def test_every_function_of_the_template_has_a_sample():
    functions = set(load().of_type("AWS::Lambda::Function"))

    assert {sample.function for sample in SAMPLES} == functions


def test_the_demo_accounts_log_in_and_see_their_data(local):
    customer = local.token("demo.customer@example.com")
    staff = local.token("demo.staff@example.com", staff=True)

    me = local.storefront("GET", "/me", customer).json()
    assert (me["user_id"], me["email"], me["name"]) == (
        "3f1c2a9e-8d4b-4c1e-9f7a-2b6d5e4c3a21",
        "demo.customer@example.com",
        "Demo Customer",
    )
    statuses = {
        order["order_id"]: order["status"] for order in local.storefront("GET", "/orders", customer).json()["items"]
    }
    assert statuses[CONFIRMED_ORDER] == "CONFIRMED"
    assert statuses[REJECTED_ORDER] == "REJECTED"
    assert local.back_office("GET", "/inventory/gizmo-3", staff).json()["quantity"] == 0


def test_each_sample_gets_its_answer_from_a_fresh_local_stack(local):
    functions = local.client("lambda")
    mismatches = []
    for sample in SAMPLES:
        response = functions.invoke(FunctionName=f"orders-local-{sample.function}", Payload=sample.payload())
        answer = json.loads(response["Payload"].read())
        if problem := (response.get("FunctionError") and str(answer)) or sample.mismatch(answer):
            mismatches.append(f"{sample.function}: {problem}")

    assert mismatches == []
    customer = local.token("demo.customer@example.com")
    placed = eventually(
        lambda: local.storefront("GET", f"/orders/{NEW_ORDER}", customer).json()["status"] == "CONFIRMED"
    )
    assert placed, "the order of storefront_create_order.json did not reach CONFIRMED"
