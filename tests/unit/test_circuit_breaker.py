"""The payment circuit breaker's one item: failures counted in a window of `wait` seconds, `threshold`
of them open it. Executions write it at once: a failure whose write loses the race (another
execution wrote since it read) reads the item again and retries, three times at most, so that no
execution spins on a contended item while its payment waits."""

from collections.abc import Callable

import pytest
from moto.dynamodb.responses import DynamoHandler

from support.aws import embedded_metrics, table_items
from support.instances import log_records


@pytest.fixture
def clock():
    """The breakers' time, which a test moves on."""
    return [1_764_000_000.0]


@pytest.fixture
def breakers(function, stack, clock):
    """Two executions' breakers on the one item, as the payment functions build them."""
    module = function("CheckPaymentCircuitFunction").module("orders_domain.rules.circuit_breaker")
    table = stack.ref("CircuitBreakerTable")
    return [module.CircuitBreaker(table, wait=60, threshold=5, clock=lambda: clock[0]) for _ in range(2)]


@pytest.fixture
def lose_races(monkeypatch) -> Callable[[int, Callable[[], None]], None]:
    """`lose_races(n, other)`: just before each of the next n writes reaches DynamoDB, `other` writes
    first (another execution between this one's read and its write)."""
    armed: dict[str, object] = {"left": 0, "other": None, "writing": False}
    original = DynamoHandler.update_item

    def update_item(handler):
        if armed["left"] and not armed["writing"]:
            armed["left"] -= 1
            armed["writing"] = True
            try:
                armed["other"]()
            finally:
                armed["writing"] = False
        return original(handler)

    monkeypatch.setattr(DynamoHandler, "update_item", update_item)
    return lambda count, other: armed.update(left=count, other=other)


def breaker_item(stack):
    [item] = table_items(stack, "CircuitBreakerTable")
    return {"state": item.get("state", "CLOSED"), "failures": int(item["failures"]), "version": int(item["version"])}


def window(stack):
    [item] = table_items(stack, "CircuitBreakerTable")
    return int(item["failures"]), float(item["window_started"])


def test_the_thresholds_failure_within_the_window_opens_the_breaker_and_not_one_before(
    breakers, stack, clock, function, capsys
):
    breaker, _ = breakers
    metrics = function("CheckPaymentCircuitFunction").module("orders_domain.observability").metrics
    start = clock[0]
    for _ in range(4):
        breaker.record_failure("error")
        clock[0] += 14  # the fourth at 42 s, the fifth at 56 s: all within the 60 s window

    assert window(stack) == (4, start)
    assert breaker_item(stack)["state"] == "CLOSED"
    breaker.record_failure("timeout")
    [item] = table_items(stack, "CircuitBreakerTable")
    assert (item["state"], int(item["failures"]), float(item["opened_at"])) == ("OPEN", 0, start + 56)
    # Counted once on the dashboard's "Payment circuit breaker" widget (the handler flushes it).
    metrics.flush_metrics()
    opened = embedded_metrics(capsys.readouterr().out)["PaymentCircuitOpened"]
    assert opened == ("ServerlessOrders", "Count", [1.0])


def test_a_failure_once_the_window_is_over_starts_a_new_one(breakers, stack, clock):
    breaker, _ = breakers
    start = clock[0]
    for _ in range(3):
        breaker.record_failure("error")
    clock[0] = start + 59.5
    breaker.record_failure("error")
    assert window(stack) == (4, start)

    clock[0] = start + 60  # the window lasts `wait` seconds: this one is the first of the next
    breaker.record_failure("error")

    assert window(stack) == (1, start + 60)
    assert breaker_item(stack)["state"] == "CLOSED"


def test_a_failure_whose_write_loses_the_race_twice_is_counted_on_its_third_try(breakers, lose_races, stack):
    mine, other = breakers
    lose_races(2, lambda: other.record_failure("timeout"))

    mine.record_failure("error")

    assert breaker_item(stack) == {"state": "CLOSED", "failures": 3, "version": 3}


def test_a_failure_that_loses_the_race_three_times_is_given_up_and_the_others_stand(breakers, lose_races, stack):
    mine, other = breakers
    lose_races(3, lambda: other.record_failure("timeout"))

    mine.record_failure("error")

    assert breaker_item(stack) == {"state": "CLOSED", "failures": 3, "version": 3}


def open_breaker(breaker, clock) -> float:
    """Open the breaker with `threshold` failures at the current time; the time it opened."""
    for _ in range(breaker.threshold):
        breaker.record_failure("error")
    return clock[0]


def test_the_first_check_after_wait_takes_the_one_probe_and_the_others_wait_out_its_lease(breakers, stack, clock):
    mine, other = breakers
    assert mine.check() == ("CALL", 0)  # closed: call the provider at once
    opened_at = open_breaker(mine, clock)
    clock[0] = opened_at + 20
    assert other.check() == ("WAIT", 40)  # the workflow waits until the breaker lets a probe through

    clock[0] = opened_at + 60
    assert mine.check() == ("CALL", 0)
    [item] = table_items(stack, "CircuitBreakerTable")
    assert (item["state"], float(item["probe_until"])) == ("HALF_OPEN", opened_at + 120)

    clock[0] = opened_at + 75  # the probe's lease is `wait` seconds: nobody else calls meanwhile
    assert other.check() == ("WAIT", 45)
    clock[0] = opened_at + 120  # a probe that never reported back: its lease ran out, the next one probes
    assert other.check() == ("CALL", 0)


def test_a_check_that_loses_the_probe_race_three_times_waits_a_whole_wait(breakers, lose_races, clock):
    mine, other = breakers
    clock[0] = open_breaker(mine, clock) + 60

    def another_probe_whose_lease_runs_out() -> None:
        assert other.check() == ("CALL", 0)
        clock[0] += 60

    lose_races(3, another_probe_whose_lease_runs_out)

    assert mine.check() == ("WAIT", 60)


def test_the_probes_success_closes_the_breaker_with_no_failure_counted_and_says_why(breakers, stack, clock, function):
    mine, _ = breakers
    clock[0] = open_breaker(mine, clock) + 60
    assert mine.check() == ("CALL", 0)  # the probe

    with log_records(function("CheckPaymentCircuitFunction")) as logged:
        mine.record_success()

    assert {key: breaker_item(stack)[key] for key in ("state", "failures")} == {"state": "CLOSED", "failures": 0}
    assert [(record.getMessage(), record.state) for record in logged] == [
        ("payment circuit breaker HALF_OPEN -> CLOSED (the provider answered again)", "CLOSED")
    ]
    for _ in range(mine.threshold - 1):  # a new count: one failure short of the threshold keeps it closed
        mine.record_failure("error")
    assert breaker_item(stack)["state"] == "CLOSED"


def test_every_read_of_the_breaker_is_strongly_consistent(breakers, clock, monkeypatch):
    """moto answers every read with the latest write; DynamoDB's default read may not, and a breaker
    read that missed the write opening it would send payments to a provider that is down. So the
    requests DynamoDB receives are checked."""
    original = DynamoHandler.get_item
    consistent = []

    def get_item(handler):
        consistent.append(handler.body.get("ConsistentRead", False))
        return original(handler)

    monkeypatch.setattr(DynamoHandler, "get_item", get_item)
    mine, _ = breakers
    mine.check()
    clock[0] = open_breaker(mine, clock) + 60
    mine.check()
    mine.record_success()
    mine.closed()

    assert len(consistent) >= 9
    assert set(consistent) == {True}
