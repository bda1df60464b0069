"""UpdateInventoryFunction and ReleaseInventoryFunction: the workflow's stock reservation and its
compensation, conditional and idempotent, whatever the order of calls."""

import json
from pathlib import Path

import pytest

from local_stack.functions import FunctionError
from support import seed

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name):
    """A sample event of events/ (the ones `sam local invoke -e` uses)."""
    return json.loads((EVENTS / name).read_text())


@pytest.fixture
def stocked(back_office):
    seed.stock(back_office, "widget-1", 5)
    seed.stock(back_office, "widget-2", 1)


def reservation(order_id, **lines):
    event = load_event("update_inventory_task.json")
    event["order_id"] = order_id
    event["items"] = [{"product_id": product_id.replace("_", "-"), "quantity": n} for product_id, n in lines.items()]
    return event


def levels(back_office):
    return seed.quantity(back_office, "widget-1"), seed.quantity(back_office, "widget-2")


def test_reserving_takes_every_line_and_a_repeat_takes_nothing_more(back_office, function, stocked):
    update = function("UpdateInventoryFunction")

    assert update.invoke(reservation("order-1", widget_1=2, widget_2=1)) == {"order_id": "order-1", "reserved": True}
    assert update.invoke(reservation("order-1", widget_1=2, widget_2=1)) == {"order_id": "order-1", "reserved": False}

    assert levels(back_office) == (3, 0)


def test_one_short_line_reserves_nothing_and_raises_out_of_stock(back_office, function, stocked):
    with pytest.raises(FunctionError) as raised:
        function("UpdateInventoryFunction").invoke(reservation("order-1", widget_1=2, widget_2=2))

    assert raised.value.error_type == "OutOfStock"
    assert "widget-2" in raised.value.message
    assert levels(back_office) == (5, 1)


def test_stock_never_goes_below_zero_across_orders(back_office, function, stocked):
    update = function("UpdateInventoryFunction")
    outcomes = []
    for n in range(4):
        try:
            update.invoke(reservation(f"order-{n}", widget_1=2))
            outcomes.append("reserved")
        except FunctionError as error:
            outcomes.append(error.error_type)

    assert outcomes == ["reserved", "reserved", "OutOfStock", "OutOfStock"]
    assert levels(back_office) == (1, 1)


def test_release_gives_back_what_was_reserved_once(back_office, function, stocked):
    function("UpdateInventoryFunction").invoke(reservation("order-1", widget_1=2, widget_2=1))
    release = function("ReleaseInventoryFunction")

    assert release.invoke({"order_id": "order-1"}) == {"order_id": "order-1", "released": True}
    assert release.invoke({"order_id": "order-1"}) == {"order_id": "order-1", "released": False}
    assert levels(back_office) == (5, 1)


def test_releasing_an_order_that_reserved_nothing_changes_nothing(back_office, function, stocked):
    assert function("ReleaseInventoryFunction").invoke({"order_id": "never-reserved"})["released"] is False
    assert levels(back_office) == (5, 1)


@pytest.mark.parametrize("event", [{}, {"order_id": "o"}, {"order_id": "o", "items": "x"}])
def test_a_malformed_task_input_is_an_error_not_a_reservation(back_office, function, stocked, event):
    with pytest.raises(FunctionError) as raised:
        function("UpdateInventoryFunction").invoke(event)

    assert raised.value.error_type == "ValidationError"
    assert levels(back_office) == (5, 1)
