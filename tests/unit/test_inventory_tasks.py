"""UpdateInventoryFunction and CloseOrderFunction: the workflow's stock reservation (only for an
order the workflow still owns) and the compensation that ends an order, conditional and idempotent,
whatever the order of calls."""

import copy

import pytest
from moto.dynamodb.models import DynamoDBBackend

from local_stack.lambda_runtime.functions import FunctionError
from local_stack.moto_patches.dynamodb import CLIENT_REQUEST_TOKENS
from support import seed
from support.aws import table_items
from support.samples import load_event
from support.workflow import FakeClock


@pytest.fixture
def stocked(back_office, stack):
    seed.stock(back_office, "widget-1", 5)
    seed.stock(back_office, "widget-2", 1)
    for n in range(4):
        processing(stack, f"order-{n}")


def processing(stack, order_id, **attributes):
    """An order that the workflow is processing (as ProcessOrder leaves it)."""
    item = {
        "order_id": {"S": order_id},
        "user_id": {"S": "user-1"},
        "items": {"L": []},
        "status": {"S": "PROCESSING"},
        "created_at": {"S": "2026-11-29T10:00:00.000Z"},
        "updated_at": {"S": "2026-11-29T10:00:00.000Z"},
        **{name: {"S": value} for name, value in attributes.items()},
    }
    stack.client("dynamodb").put_item(TableName=stack.ref("OrdersTable"), Item=item)


def status_of(back_office, order_id):
    order = back_office.get(f"/orders/{order_id}").body
    return order["status"], order.get("reason")


def reservation(order_id, **lines):
    event = load_event("update_inventory_task.json")
    event["order_id"] = order_id
    event["items"] = [{"product_id": product_id.replace("_", "-"), "quantity": n} for product_id, n in lines.items()]
    return event


def levels(back_office):
    return seed.quantity(back_office, "widget-1"), seed.quantity(back_office, "widget-2")


def test_reserving_takes_every_line_and_a_repeat_takes_nothing_more(back_office, function, stack, stocked, monkeypatch):
    update = function("UpdateInventoryFunction")
    clock = FakeClock()
    monkeypatch.setattr(CLIENT_REQUEST_TOKENS, "clock", clock)
    done = {"outcome": "DONE", "message": None}

    assert update.invoke(reservation("order-1", widget_1=2, widget_2=1)) == done
    # Within ten minutes DynamoDB answers the same transaction (its token) as it answered the first.
    assert update.invoke(reservation("order-1", widget_1=2, widget_2=1)) == done
    clock.advance(600)  # then the order's reservation marker refuses it
    again = update.invoke(reservation("order-1", widget_1=2, widget_2=1))
    assert again == {"outcome": "DONE", "message": "reserved by an earlier attempt"}

    assert levels(back_office) == (3, 0)
    # What the order holds, for its release: one marker beside the stock, as the first attempt wrote it.
    [marker] = [item for item in table_items(stack, "InventoryTable") if item["product_id"].startswith("reservation#")]
    assert marker == {
        "product_id": "reservation#order-1",
        "order_id": "order-1",
        "items": [{"product_id": "widget-1", "quantity": 2}, {"product_id": "widget-2", "quantity": 1}],
        "reserved_at": "2026-11-29T10:00:00.000Z",
    }


def test_one_short_line_reserves_nothing_and_answers_out_of_stock_without_an_error(back_office, function, stocked):
    """Out of stock is a business outcome: the function's result, never an error (Lambda would
    count it in the function's alarmed Errors)."""
    answer = function("UpdateInventoryFunction").invoke(reservation("order-1", widget_1=2, widget_2=2))

    assert answer == {"outcome": "OUT_OF_STOCK", "message": "not enough stock for widget-2"}
    assert levels(back_office) == (5, 1)


def test_stock_never_goes_below_zero_across_orders(back_office, function, stocked):
    update = function("UpdateInventoryFunction")
    outcomes = [update.invoke(reservation(f"order-{n}", widget_1=2))["outcome"] for n in range(4)]

    assert outcomes == ["DONE", "DONE", "OUT_OF_STOCK", "OUT_OF_STOCK"]
    assert levels(back_office) == (1, 1)


def test_an_order_cancelled_meanwhile_reserves_nothing(back_office, function, stack, stocked):
    processing(stack, "order-1", cancel_requested_at="2026-11-29T10:00:01.000Z")

    answer = function("UpdateInventoryFunction").invoke(reservation("order-1", widget_1=2))

    assert answer == {"outcome": "ENDED", "message": "order order-1 is no longer processed by the workflow"}
    assert levels(back_office) == (5, 1)


def closing(order_id, status="REJECTED", reason="OUT_OF_STOCK"):
    return {"order_id": order_id, "outcome": {"status": status, "reason": reason}}


def test_closing_gives_back_what_was_reserved_once_then_writes_the_terminal_status(back_office, function, stocked):
    function("UpdateInventoryFunction").invoke(reservation("order-1", widget_1=2, widget_2=1))
    close = function("CloseOrderFunction")

    first = close.invoke(closing("order-1", "FAILED", "PROCESSING_ERROR"))
    again = close.invoke(closing("order-1", "REJECTED", "PAYMENT_DECLINED"))

    assert first == {"order_id": "order-1", "status": "FAILED", "reason": "PROCESSING_ERROR"}
    assert again == first  # a terminal status never changes
    assert levels(back_office) == (5, 1)
    assert status_of(back_office, "order-1") == ("FAILED", "PROCESSING_ERROR")


def test_a_reservation_given_back_by_another_attempt_meanwhile_is_not_given_back_twice(
    back_office, function, stocked, monkeypatch
):
    """Between this attempt's read of the reservation and its write, another one gave it back: the
    write is cancelled (its condition: the reservation still there), and the order still ends."""
    function("UpdateInventoryFunction").invoke(reservation("order-1", widget_1=2, widget_2=1))
    transact = DynamoDBBackend.transact_write_items
    raced = []

    def released_meanwhile(backend, transact_items):
        if not raced and any("Delete" in item for item in transact_items):
            raced.append(transact_items)
            transact(backend, copy.deepcopy(transact_items))  # the other attempt's release
        return transact(backend, transact_items)

    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", released_meanwhile)
    closed = function("CloseOrderFunction").invoke(closing("order-1", "FAILED", "PROCESSING_ERROR"))

    assert len(raced) == 1
    assert closed == {"order_id": "order-1", "status": "FAILED", "reason": "PROCESSING_ERROR"}
    assert levels(back_office) == (5, 1)
    assert status_of(back_office, "order-1") == ("FAILED", "PROCESSING_ERROR")


def test_closing_an_order_that_reserved_nothing_changes_no_stock(back_office, function, stocked):
    assert function("CloseOrderFunction").invoke(closing("order-2"))["status"] == "REJECTED"
    assert levels(back_office) == (5, 1)
    assert status_of(back_office, "order-2") == ("REJECTED", "OUT_OF_STOCK")


@pytest.mark.parametrize("event", [{}, {"order_id": "o"}, {"order_id": "o", "items": "x"}])
def test_a_malformed_task_input_is_an_error_not_a_reservation(back_office, function, stocked, event):
    with pytest.raises(FunctionError) as raised:
        function("UpdateInventoryFunction").invoke(event)

    assert raised.value.error_type == "ValidationError"
    assert levels(back_office) == (5, 1)
