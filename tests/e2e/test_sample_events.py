"""The samples of events/ work against a fresh `make dev` (its demo data): each function's sample,
invoked through the local stack's Lambda API, gets the answer that tests/support/samples.py names."""

import json

import pytest

from local_stack.cloudformation.template import load
from support.local_process import LocalStackProcess
from support.polling import eventually
from support.samples import AWAITING_ORDER, CONFIRMED_ORDER, NEW_ORDER, REJECTED_ORDER, SAMPLES


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A stack of its own: the other e2e tests change what they please in the shared one (the fuzzer
    decides on the demo order awaiting approval, for one)."""
    stack = LocalStackProcess(tmp_path_factory.mktemp("fresh")).wait_until_ready()
    yield stack
    assert stack.stop() == 0, stack.log()


def test_every_function_of_the_template_has_a_sample():
    functions = set(load().of_type("AWS::Lambda::Function"))

    assert {sample.function for sample in SAMPLES} == functions


def test_the_demo_accounts_log_in_and_see_their_data(fresh):
    customer = fresh.token("demo.customer@example.com")
    staff = fresh.token("demo.staff@example.com", staff=True)

    me = fresh.storefront("GET", "/me", customer).json()
    assert (me["user_id"], me["email"], me["name"]) == (
        "3f1c2a9e-8d4b-4c1e-9f7a-2b6d5e4c3a21",
        "demo.customer@example.com",
        "Demo Customer",
    )
    statuses = {
        order["order_id"]: order["status"] for order in fresh.storefront("GET", "/orders", customer).json()["items"]
    }
    assert statuses[CONFIRMED_ORDER] == "CONFIRMED"
    assert statuses[REJECTED_ORDER] == "REJECTED"
    assert statuses[AWAITING_ORDER] == "AWAITING_APPROVAL"
    assert fresh.back_office("GET", "/inventory/gizmo-3", staff).json()["quantity"] == 0


def test_each_sample_gets_its_answer_from_a_fresh_local_stack(fresh):
    functions = fresh.client("lambda")
    mismatches = []
    for sample in SAMPLES:
        response = functions.invoke(FunctionName=f"orders-local-{sample.function}", Payload=sample.payload())
        answer = json.loads(response["Payload"].read())
        unexpected_error = bool(response.get("FunctionError")) != sample.fails and str(answer)
        if problem := unexpected_error or sample.mismatch(answer):
            mismatches.append(f"{sample.function}: {problem}")

    assert mismatches == []
    customer = fresh.token("demo.customer@example.com")
    placed = eventually(
        lambda: fresh.storefront("GET", f"/orders/{NEW_ORDER}", customer).json()["status"] == "CONFIRMED"
    )
    assert placed, "the order of storefront_create_order.json did not reach CONFIRMED"
