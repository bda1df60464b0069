"""A normal day of business fires no alarm: every outcome a customer or a member of staff meets,
driven through one in-process stack, then the template's alarms evaluated on the day's clock.
Only a payment provider's outage is a fault, and it fires exactly its alarms."""

from __future__ import annotations

import json

from support import seed
from support.alarm_faults import PROVIDER_OUTAGE_ALARMS
from support.alarms import WatchedAlarms
from support.api import id_token_claims
from support.imports import rows_file, run_import
from support.order_saga import LARGE, order_of
from support.workflow import execution_arn, process, settle_until, wait_for_execution


def outcome(back_office, local_lambda, stack, order_id):
    process(local_lambda, stack, order_id)
    order = order_of(back_office, order_id)
    return order["status"], order.get("reason")


def awaiting_approval(back_office, local_lambda, order_id):
    settle_until(local_lambda, lambda: order_of(back_office, order_id)["status"] == "AWAITING_APPROVAL")


def test_a_day_of_every_outcome_fires_no_alarm_but_the_provider_outages(
    back_office, storefront, stack, local_lambda, payments, clock, function, monkeypatch, customer
):
    alarms = WatchedAlarms(stack, local_lambda, clock)
    seed.stock(back_office, "widget-1", 100, price=19.99)
    seed.stock(back_office, "gadget", 200, price=40)
    seed.stock(back_office, "scarce", 1, price=5)
    outcomes = {}

    confirmed = seed.order(storefront, {"widget-1": 2})
    outcomes["confirmed"] = outcome(back_office, local_lambda, stack, confirmed)
    for decision in (True, False):
        order_id = seed.order(storefront, LARGE)
        awaiting_approval(back_office, local_lambda, order_id)
        assert back_office.post(f"/orders/{order_id}/approval", {"approved": decision}).status == 200
        outcomes["approved" if decision else "not approved"] = outcome(back_office, local_lambda, stack, order_id)
    declined = seed.order(storefront, {"widget-1": 1}, payment_method="pm_card_declined")
    outcomes["declined"] = outcome(back_office, local_lambda, stack, declined)
    outcomes["out of stock"] = outcome(back_office, local_lambda, stack, seed.order(storefront, {"scarce": 2}))
    outcomes["invalid"] = outcome(back_office, local_lambda, stack, seed.order(storefront, {"no-such-product": 1}))

    pending = seed.order(storefront, {"widget-1": 1})
    assert storefront.post(f"/orders/{pending}/cancel").status == 200
    local_lambda.settle()
    waiting = seed.order(storefront, LARGE)
    awaiting_approval(back_office, local_lambda, waiting)
    assert storefront.post(f"/orders/{waiting}/cancel").status == 200
    wait_for_execution(stack, execution_arn(stack, waiting))
    outcomes["cancelled"] = (order_of(back_office, pending)["status"], order_of(back_office, waiting)["status"])

    validate = function("ValidateOrderFunction").module("validate_order")
    monkeypatch.setattr(validate, "settings", validate.settings.model_copy(update={"approval_timeout": 1}))
    outcomes["approval timeout"] = outcome(back_office, local_lambda, stack, seed.order(storefront, LARGE))

    rejected_rows, _ = run_import(back_office, local_lambda, stack, rows_file(["good-1,1,1.00", "bad/id,1,1.00"]))
    not_a_csv, _ = run_import(back_office, local_lambda, stack, b"\xff\xfe\x00not a csv")
    outcomes["imports"] = tuple(back_office.get(f"/imports/{i}").body["status"] for i in (rejected_rows, not_a_csv))

    assert outcomes == {
        "confirmed": ("CONFIRMED", None),
        "approved": ("CONFIRMED", None),
        "not approved": ("REJECTED", "NOT_APPROVED"),
        "declined": ("REJECTED", "PAYMENT_DECLINED"),
        "out of stock": ("REJECTED", "OUT_OF_STOCK"),
        "invalid": ("REJECTED", "VALIDATION_FAILED"),
        "cancelled": ("CANCELLED", "CANCELLED"),
        "approval timeout": ("REJECTED", "APPROVAL_TIMEOUT"),
        "imports": ("COMPLETED_WITH_ERRORS", "FAILED"),
    }
    assert every_client_error(back_office, storefront, customer, confirmed) == {
        "storefront": [400, 401, 404, 409, 415, 422],
        "back office": [400, 401, 403, 404, 409, 415, 422],
        "quotes": [400, 401, 403, 413, 415, 422],
    }

    alarms.evaluate()
    assert alarms.fired() == set()

    clock.now += 3600  # later that day
    alarms.evaluate()
    later = len(alarms.changes)
    # The provider answers 503 until the order has waited once for it (before PaymentMaxWait).
    payments.set_mode("unavailable")
    clock.on_wait = lambda: payments.set_mode("ok")
    during_outage = seed.order(storefront, {"widget-1": 1})
    assert outcome(back_office, local_lambda, stack, during_outage) == ("CONFIRMED", None)

    alarms.evaluate()
    assert (
        alarms.fired(since=later) == PROVIDER_OUTAGE_ALARMS == {"ChargePaymentErrorsAlarm", "PaymentCircuitOpenAlarm"}
    )
    assert alarms.in_alarm() == set()  # the outage is over


def every_client_error(back_office, storefront, customer, confirmed):
    """A request of each 4xx of each API (and of the quotes' direct integration): the statuses."""
    not_json = {"raw_body": "{not json", "headers": {"Content-Type": "application/json"}}
    text = {"raw_body": "items", "headers": {"Content-Type": "text/plain"}}
    staff_only = id_token_claims(customer["sub"], customer["email"], groups=())
    line = {"product_id": "widget-1", "quantity": 1}
    return {
        "storefront": [
            storefront.post("/orders", **not_json).status,
            storefront.as_caller(None).get("/orders").status,
            storefront.get("/orders/no-such-order").status,
            storefront.post(f"/orders/{confirmed}/cancel").status,
            storefront.post("/orders", **text).status,
            storefront.post("/orders", {"items": [], "payment_method": "pm_card_visa"}).status,
        ],
        "back office": [
            back_office.post("/users", **not_json).status,
            back_office.as_caller(None).get("/orders").status,
            back_office.as_caller(staff_only).get("/orders").status,
            back_office.get("/users/no-such-user").status,
            back_office.post(f"/orders/{confirmed}/approval", {"approved": True}).status,
            back_office.post("/users", **text).status,
            back_office.put("/inventory/widget-1", {"quantity": -1, "price": 1}).status,
        ],
        "quotes": [
            back_office.post("/quotes", **not_json).status,
            back_office.as_caller(None).post("/quotes", {"items": [line]}).status,
            back_office.as_caller(staff_only).post("/quotes", {"items": [line]}).status,
            back_office.post("/quotes", raw_body=json.dumps({"items": [line], "padding": "x" * 262_144})).status,
            back_office.post("/quotes", **text).status,
            back_office.post("/quotes", {"items": [{"product_id": "widget-1", "quantity": 0}]}).status,
        ],
    }
