"""The order workflow while the payment provider fails: retries, the circuit breaker opening, the order
waiting in PROCESSING for the provider, the half-open probe, and the order failed only after
PaymentMaxWait; a charge retried after a timeout charges once. Every test checks the exact states entered."""

import pytest

from support import seed
from support.order_saga import (
    BREAKER,
    CHARGED,
    CONFIRMATION,
    FAILED_END,
    HAPPY_PATH,
    RESERVED,
    WAITED,
    answers_of,
    assert_ended_after_lambda_failed,
    breaker_state,
    failed_tasks,
    open_breaker,
    order_of,
    order_processed_while_lambda_fails,
    path_of,
)
from support.workflow import process


def test_an_outage_is_retried_then_opens_the_breaker_and_the_order_waits_for_the_provider(
    back_office, storefront, stack, local_lambda, payments, clock, backoff
):
    """Provider down → retries → breaker opens → the order waits → provider back → half-open
    probe → breaker closed → confirmed, charged once."""
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    payments.set_mode("unavailable")
    clock.on_wait = lambda: payments.set_mode("ok")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
    assert len(payments.charges) == 1
    # PaymentBreakerThreshold 5: 3 attempts (1 + 2 retries), back to the breaker (closed: 3 of 5),
    # 3 more (the 5th failure opens it), back to the breaker (open: wait 60 s), then the probe.
    assert clock.waits == [60]
    assert len(backoff) == 4  # 2 retries of each ChargePayment entry that failed
    outage = ("PaymentProviderError", "/charges: HTTP 503 The payment service is unavailable.")
    assert failed_tasks(stack, order_id) == [outage] * 6
    assert all(0 <= delay <= cap for delay, cap in zip(backoff, [2, 4, 2, 4], strict=True))
    assert path_of(stack, order_id) == [
        *RESERVED,
        "ChargePayment", *BREAKER,
        "ChargePayment", *BREAKER, *WAITED,
        *BREAKER, *CHARGED, *CONFIRMATION,
    ]  # fmt: skip
    assert breaker_state(stack) == "CLOSED"


def test_while_the_breaker_is_open_an_order_waits_instead_of_calling_the_provider(
    back_office, storefront, stack, local_lambda, payments, clock
):
    seed.stock(back_office, "widget-1", 5)
    open_breaker(stack, opened_at=clock.now - 15)
    calls_when_waiting = []
    clock.on_wait = lambda: calls_when_waiting.append(len(payments.charges))
    order_id = seed.order(storefront, {"widget-1": 1})

    process(local_lambda, stack, order_id)

    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
    assert clock.waits == [45]  # until the breaker's 60 s are up, then the probe
    assert calls_when_waiting == [0]
    assert len(payments.charges) == 1
    # The charge read the open circuit and left the provider alone; the breaker decided to wait.
    assert [answer["outcome"] for answer in answers_of(stack, order_id, "ChargePayment")] == [
        "CIRCUIT_NOT_CLOSED", "DONE",
    ]  # fmt: skip
    assert path_of(stack, order_id) == [
        *RESERVED, *CHARGED, *BREAKER, *WAITED, *BREAKER, *CHARGED, *CONFIRMATION,
    ]  # fmt: skip


@pytest.mark.parametrize("attempts", [1, 4])
def test_a_breaker_check_that_lambda_fails_is_retried_and_one_that_fails_every_attempt_fails_the_order(
    back_office, storefront, stack, local_lambda, payments, backoff, monkeypatch, clock, attempts
):
    """With the circuit open the charge leaves the decision to CheckPaymentCircuit: Lambda failing its
    first attempt goes unnoticed; failing all four fails the order, stock released, nothing charged."""
    open_breaker(stack, opened_at=clock.now - 15)
    processed = order_processed_while_lambda_fails(
        back_office, storefront, stack, local_lambda, monkeypatch, "CheckPaymentCircuitFunction", attempts
    )

    paths = (
        [*RESERVED, *CHARGED, *BREAKER, *WAITED, *BREAKER, *CHARGED, *CONFIRMATION],
        [*RESERVED, *CHARGED, "CheckPaymentCircuit", "ProcessingError", *FAILED_END],
    )
    assert_ended_after_lambda_failed(stack, back_office, payments, backoff, processed, attempts, paths)


def test_an_outage_longer_than_the_maximum_wait_fails_the_order_and_releases_its_stock(
    back_office, storefront, stack, local_lambda, payments, clock, function, monkeypatch
):
    gate = function("CheckPaymentCircuitFunction").module("circuit")
    monkeypatch.setattr(gate, "settings", gate.settings.model_copy(update={"payment_max_wait": 150}))
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    payments.set_mode("unavailable")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "FAILED"
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("FAILED", "PAYMENT_UNAVAILABLE")
    assert seed.quantity(back_office, "widget-1") == 5
    assert payments.charges == []
    assert sum(clock.waits) == 150  # 60, 60 and the last 30 that reach PaymentMaxWait
    assert path_of(stack, order_id)[-13:] == [
        *WAITED,
        *BREAKER,
        "ReturnGiveUp",
        "StepsOutcome",
        "PaymentUnavailable",
        *FAILED_END,
    ]


def test_a_charge_that_timed_out_and_is_retried_charges_once(
    back_office, storefront, stack, local_lambda, payments, function, monkeypatch, backoff
):
    monkeypatch.setattr(function("ChargePaymentFunction").module("charge").payments, "timeout", 0.3)
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    payments.set_mode("slow")  # the first charge hangs; the provider charges it once it recovers
    backoff.on_append = lambda: payments.set_mode("ok")

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["payment_status"] == "CHARGED"
    assert len(payments.charges) == 1  # the hung request's charge, answered again to the retry
    [delay] = backoff  # PaymentTimeout: one retry, after at most 5 s
    assert 0 <= delay <= 5
    assert failed_tasks(stack, order_id) == [("PaymentTimeout", "/charges: no answer within 0.3 s")]
    assert path_of(stack, order_id) == HAPPY_PATH
