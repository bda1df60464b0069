"""POST /quotes end to end in process: the back office's mapping templates rendered by the local
gateway from the transformed template, StartSyncExecution of the real
statemachine/quote_workflow.asl.json (moto, through the local adapter), its Lambda tasks run as the
real handlers. Each test checks the answer, what changed (nothing) and the exact states entered, read
from the workflow's log group as on AWS (Express workflows have no execution history)."""

import json

import pytest
from moto.dynamodb.models import DynamoDBBackend

from support import seed
from support.api import id_token_claims
from support.aws import ServerFaultError, failing_backend_call, table_items
from support.workflow import logged_executions, process

VALID_START = ["CheckCaller", "IsStaff", "ValidateRequest", "IsValid"]
REFUSED = [*VALID_START, "Refused"]
FORBIDDEN = ["CheckCaller", "IsStaff", "Forbidden"]
CORS = {"Access-Control-Allow-Origin": "*", "Content-Type": "application/json"}


def priced_path(products):
    return [*VALID_START, "ReadProducts", *["ReadProduct"] * products, "PriceQuote"]


def executions(stack):
    return logged_executions(stack, "QuoteWorkflowLogGroup")


def states_entered(events):
    return [event["details"]["name"] for event in events if event["type"].endswith("StateEntered")]


def last_path(stack):
    return states_entered(executions(stack)[-1])


def test_a_cart_is_priced_line_by_line_and_nothing_changes(back_office, stack):
    seed.stock(back_office, "widget-1", 10, price=2.5)
    seed.stock(back_office, "gadget-2", 1, price=19.99)
    seed.stock(back_office, "bolt-3", 4, price=1.25)
    before = table_items(stack, "InventoryTable")

    response = back_office.post(
        "/quotes",
        {
            "items": [
                {"product_id": "widget-1", "quantity": 3},
                {"product_id": "unknown-9", "quantity": 1},
                {"product_id": "gadget-2", "quantity": 2},
                {"product_id": "bolt-3", "quantity": 4},
            ]
        },
    )

    assert (response.status, response.headers) == (200, CORS)
    assert response.body == {
        "items": [
            {"product_id": "widget-1", "quantity": 3, "unit_price": 2.5, "line_total": 7.5, "available": True},
            # Unknown: unavailable, unpriced, and the lines after it are priced all the same.
            {"product_id": "unknown-9", "quantity": 1, "available": False},
            # Known but short of stock: unavailable, and still priced and counted.
            {"product_id": "gadget-2", "quantity": 2, "unit_price": 19.99, "line_total": 39.98, "available": False},
            # Exactly the stock: available.
            {"product_id": "bolt-3", "quantity": 4, "unit_price": 1.25, "line_total": 5.0, "available": True},
        ],
        "total": 52.48,
        "approval_required": False,
    }
    assert last_path(stack) == priced_path(4)
    assert table_items(stack, "InventoryTable") == before
    assert table_items(stack, "OrdersTable") == []


@pytest.mark.parametrize(
    ("lines", "approval_required"),
    [({"ten": 100}, False), ({"ten": 100, "cent": 1}, True)],
    ids=["exactly-the-threshold", "one-cent-above"],
)
def test_approval_is_required_only_above_the_threshold(back_office, stack, lines, approval_required):
    seed.stock(back_office, "ten", 1000, price=10)
    seed.stock(back_office, "cent", 1000, price=0.01)

    items = [{"product_id": product, "quantity": quantity} for product, quantity in lines.items()]
    response = back_office.post("/quotes", {"items": items})

    assert response.status == 200
    assert response.body["total"] == (1000 if not approval_required else 1000.01)
    assert response.body["approval_required"] is approval_required


def test_the_largest_line_is_accepted_and_priced_beyond_the_price_bound(back_office):
    seed.stock(back_office, "dear", 1000, price=1_000_000)

    response = back_office.post("/quotes", {"items": [{"product_id": "dear", "quantity": 1000}]})

    assert response.status == 200
    assert response.body["items"][0]["line_total"] == 1_000_000_000
    assert response.body["approval_required"] is True


GOOD_LINE = {"product_id": "widget-1", "quantity": 1}
BAD_BODIES = {
    "not-json": "{items: [",
    "nan": '{"items": [{"product_id": "widget-1", "quantity": NaN}]}',
    "array": "[]",
    "null": "null",
    "empty-object": "{}",
    "no-items": '{"items": []}',
    "quantity-0": json.dumps({"items": [{"product_id": "widget-1", "quantity": 0}]}),
    "quantity-1001": json.dumps({"items": [{"product_id": "widget-1", "quantity": 1001}]}),
    "quantity-text": json.dumps({"items": [{"product_id": "widget-1", "quantity": "2"}]}),
    "quantity-fraction": json.dumps({"items": [{"product_id": "widget-1", "quantity": 2.5}]}),
    "repeated-product": json.dumps({"items": [GOOD_LINE, GOOD_LINE]}),
    "too-many-lines": json.dumps({"items": [{"product_id": f"p-{n}", "quantity": 1} for n in range(26)]}),
    "bad-product-id": json.dumps({"items": [{"product_id": "a/b", "quantity": 1}]}),
    "unknown-field": json.dumps({"items": [GOOD_LINE], "coupon": "FREE"}),
    "unknown-line-field": json.dumps({"items": [{**GOOD_LINE, "price": 0}]}),
    "eleven-problems": json.dumps({"items": [{"product_id": "", "quantity": 0} for _ in range(6)]}),
}


@pytest.mark.parametrize("body", list(BAD_BODIES.values()), ids=list(BAD_BODIES))
def test_a_bad_body_is_refused_exactly_as_post_orders_refuses_its_items(back_office, storefront, stack, body):
    """The same status and the same error body as the storefront's POST /orders for the same items
    (with the payment method an order needs), and the workflow reads nothing."""
    order_body = body
    parsed = _json_or_none(body)
    if isinstance(parsed, dict):
        order_body = json.dumps({**parsed, "payment_method": "pm_card_visa"})

    quote = back_office.post("/quotes", raw_body=body, headers={"Content-Type": "application/json"})
    order = storefront.post("/orders", raw_body=order_body, headers={"Content-Type": "application/json"})

    assert quote.status in (400, 422)
    assert (quote.status, quote.body) == (order.status, order.body)
    assert quote.headers == CORS
    assert last_path(stack) == REFUSED
    assert table_items(stack, "OrdersTable") == []


def _json_or_none(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def test_no_body_is_refused_like_post_orders_without_one(back_office, storefront):
    quote = back_office.post("/quotes", raw_body="", headers={"Content-Type": "application/json"})
    order = storefront.post("/orders", raw_body="", headers={"Content-Type": "application/json"})

    assert (quote.status, quote.body) == (order.status, order.body) == (422, quote.body)


def test_a_body_that_is_not_json_by_content_type_is_the_gateways_415(back_office, stack):
    response = back_office.post("/quotes", raw_body="items=widget-1", headers={"Content-Type": "text/plain"})

    assert response.status == 415
    assert response.body == {"message": "Unsupported Media Type"}
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert executions(stack) == []


def test_json_with_a_charset_and_no_content_type_are_both_json(back_office):
    seed.stock(back_office, "widget-1", 5, price=1)
    body = json.dumps({"items": [GOOD_LINE]})

    with_charset = back_office.post(
        "/quotes", raw_body=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )
    without = back_office.post("/quotes", raw_body=body, headers={})

    assert (with_charset.status, without.status) == (200, 200)


def test_quotes_and_non_ascii_text_reach_the_validation_unchanged(back_office, stack):
    """The body crosses two mapping-template escapes (JSON in a JSON string): what the validation task
    receives is exactly what the client sent."""
    body = json.dumps(
        {"items": [{"product_id": "widget-1", "quantity": 1}], "note": 'l\'été "chaud" \\ / ✓ 🚚\n\t</x>'},
        ensure_ascii=False,
    )

    response = back_office.post("/quotes", raw_body=body, headers={"Content-Type": "application/json"})

    assert response.status == 422
    assert response.body["details"] == [{"location": "body.note", "message": "Extra inputs are not permitted"}]
    [events] = executions(stack)
    [started] = [event for event in events if event["type"] == "ExecutionStarted"]
    assert json.loads(started["details"]["input"])["body"] == body


@pytest.mark.parametrize(
    "groups",
    [(), ("customers",), ("staffing", "nonstaff", "Staff")],
    ids=["no-group", "another-group", "names-that-contain-staff"],
)
def test_only_members_of_the_staff_group_get_a_quote(back_office, stack, groups):
    caller = id_token_claims("cust-0001", "ada@example.com", groups=groups)

    response = back_office.as_caller(caller).post("/quotes", {"items": [GOOD_LINE]})

    assert response.status == 403
    assert response.body == {"message": "only members of the staff group may use the back office"}
    assert response.headers == CORS
    assert last_path(stack) == FORBIDDEN


def test_staff_in_several_groups_get_a_quote(back_office, stack):
    seed.stock(back_office, "widget-1", 5, price=1)
    caller = id_token_claims("staff-0002", "lin@example.com", groups=("admins", "staff"))

    response = back_office.as_caller(caller).post("/quotes", {"items": [GOOD_LINE]})

    assert response.status == 200
    assert last_path(stack) == priced_path(1)


def test_no_token_is_the_gateways_401_and_starts_nothing(back_office, stack):
    response = back_office.as_caller(None).post("/quotes", {"items": [GOOD_LINE]})

    assert (response.status, response.body) == (401, {"message": "Unauthorized"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert executions(stack) == []


def test_a_body_over_the_step_functions_input_limit_is_413_and_starts_nothing(back_office, stack):
    body = json.dumps({"items": [GOOD_LINE], "padding": "x" * 262_144})

    response = back_office.post("/quotes", raw_body=body, headers={"Content-Type": "application/json"})

    assert (response.status, response.body) == (413, {"message": "request body too large"})
    assert response.headers == CORS
    assert executions(stack) == []


def test_a_throttled_read_is_retried_once_and_the_quote_is_answered(back_office, stack, backoff, monkeypatch):
    seed.stock(back_office, "widget-1", 5, price=3)
    throttled = ServerFaultError("ProvisionedThroughputExceededException", status=400)

    with failing_backend_call(monkeypatch, DynamoDBBackend, "get_item", lambda *_: not failed, throttled) as failed:
        response = back_office.post("/quotes", {"items": [GOOD_LINE]})

    assert (response.status, response.body["total"]) == (200, 3)
    assert len(failed) == 1
    assert backoff == [pytest.approx(backoff[0])]  # one retry, after its (jittered) interval
    assert 0 <= backoff[0] <= 1
    [events] = executions(stack)
    scheduled = [event for event in events if event["type"] == "TaskScheduled"]
    assert len(scheduled) == 4  # validation, the read and its retry, pricing
    assert states_entered(events) == priced_path(1)


def test_a_task_that_fails_is_a_fixed_500_that_reveals_nothing(back_office, stack):
    """A product whose stored price is not money makes the pricing task fail (not retried: it would
    fail again); the execution fails and the API says only that it failed."""
    stack.client("dynamodb").put_item(
        TableName=stack.ref("InventoryTable"),
        Item={"product_id": {"S": "corrupt-1"}, "quantity": {"N": "1"}, "price": {"S": "secret-cause"}},
    )

    response = back_office.post("/quotes", {"items": [{"product_id": "corrupt-1", "quantity": 1}]})

    assert (response.status, response.body) == (500, {"message": "internal error"})
    assert response.headers == CORS
    assert "secret-cause" not in response.text
    [events] = executions(stack)
    assert events[-1]["type"] == "ExecutionFailed"
    assert len([event for event in events if event["type"] == "TaskScheduled"]) == 3


def test_the_quote_and_the_confirmed_order_for_the_same_cart_agree(
    back_office, storefront, stack, local_lambda, payments
):
    seed.stock(back_office, "widget-1", 50, price=19.99)
    seed.stock(back_office, "gadget-2", 50, price=0.07)
    cart = {"widget-1": 3, "gadget-2": 11}

    quote = back_office.post("/quotes", {"items": [{"product_id": p, "quantity": q} for p, q in cart.items()]})
    order_id = seed.order(storefront, cart)
    process(local_lambda, stack, order_id)

    order = back_office.get(f"/orders/{order_id}").body
    assert order["status"] == "CONFIRMED"
    assert quote.body["total"] == order["total"] == 60.74
    assert quote.body["approval_required"] is False
    [charge] = payments.charges
    assert charge["amount"] == "60.74"
