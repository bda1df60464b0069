"""The order workflow rejecting an order (out of stock, unknown product or customer, a declined card):
a business outcome, the function's result and not an error, with the stock released and nothing charged.
Every test checks the exact states entered."""

import pytest

from support import seed
from support.api import id_token_claims
from support.aws import sent_emails, table_items
from support.order_saga import (
    DECLINED,
    REJECTED_END,
    RESERVED,
    VALIDATED,
    answers_of,
    failed_tasks,
    lambda_fails,
    order_of,
    path_of,
    task_failures,
)
from support.workflow import process


def test_out_of_stock_is_rejected_with_nothing_reserved_or_charged(
    back_office, storefront, stack, local_lambda, payments, shipping
):
    seed.stock(back_office, "widget-1", 1)
    seed.stock(back_office, "widget-2", 5)
    order_id = seed.order(storefront, {"widget-2": 2, "widget-1": 2})

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"  # a rejection is an outcome, not a failure
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert (seed.quantity(back_office, "widget-1"), seed.quantity(back_office, "widget-2")) == (1, 5)
    assert payments.charges == []
    assert shipping() == []
    assert sent_emails() == []
    markers = [item for item in table_items(stack, "InventoryTable") if item["product_id"].startswith("reservation#")]
    assert markers == []
    assert path_of(stack, order_id) == [*RESERVED, "ReturnOutOfStock", "StepsOutcome", "OutOfStock", *REJECTED_END]
    # The function's result, not an error (which Lambda would count in its alarmed Errors).
    answer = {"outcome": "OUT_OF_STOCK", "message": "not enough stock for widget-1"}
    assert answers_of(stack, order_id, "ReserveStock") == [answer]
    assert failed_tasks(stack, order_id) == []


NOTHING_VALIDATED = dict.fromkeys(["user_id", "items", "total", "approval_required", "approval_timeout", "customer"])


@pytest.mark.parametrize("unknown", ["product", "user"])
def test_unknown_product_or_user_is_rejected_as_validation_failed(
    back_office, storefront, stack, local_lambda, payments, unknown
):
    seed.stock(back_office, "widget-1", 5)
    ghost = id_token_claims("no-such-user", "ghost@example.com", "Ghost")  # a user without a profile
    buyer = storefront.as_caller(ghost) if unknown == "user" else storefront
    order_id = seed.order(buyer, {"no-such-product" if unknown == "product" else "widget-1": 1})

    process(local_lambda, stack, order_id)

    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "VALIDATION_FAILED")
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []
    assert path_of(stack, order_id) == [*VALIDATED, "ReturnInvalid", "StepsOutcome", "InvalidOrder", *REJECTED_END]
    why = "unknown products: no-such-product" if unknown == "product" else "user no-such-user not found"
    assert answers_of(stack, order_id, "ValidateOrder") == [{"outcome": "INVALID", "message": why, **NOTHING_VALIDATED}]
    assert failed_tasks(stack, order_id) == []


def test_a_declined_payment_is_rejected_and_its_stock_released(
    back_office, storefront, stack, local_lambda, payments, shipping, backoff
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2}, payment_method="pm_card_declined")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_DECLINED")
    assert "payment_status" not in order
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []
    assert backoff == []  # a decline is never retried
    assert shipping() == []
    assert sent_emails() == []
    assert path_of(stack, order_id) == [*DECLINED, *REJECTED_END]
    # Why, in the provider's words, for whoever reads the execution: the function's result, not an
    # error (which Lambda would count in its alarmed Errors).
    answer = {"outcome": "DECLINED", "charge_id": None, "message": "Your card was declined."}
    assert answers_of(stack, order_id, "ChargePayment") == [answer]
    assert failed_tasks(stack, order_id) == []


def test_a_close_that_lambda_fails_once_is_retried_and_the_order_rejected_with_its_stock_released(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch
):
    """CloseOrder is the saga's last step: an order it fails to close would hold its stock forever."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2}, payment_method="pm_card_declined")
    with lambda_fails(monkeypatch, "CloseOrderFunction", attempts=1):
        execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "PAYMENT_DECLINED")
    assert seed.quantity(back_office, "widget-1") == 5
    errors = [failure["error"] for failure in task_failures(stack, order_id)]
    assert errors == ["Lambda.ServiceException"]  # CloseOrder's; the decline is ChargePayment's result
    assert len(backoff) == 1
    assert 0 <= backoff[0] <= 2  # CloseOrder's first retry: 2 s at most (full jitter)
    assert path_of(stack, order_id) == [*DECLINED, *REJECTED_END]
