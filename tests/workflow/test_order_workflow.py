"""The real statemachine/order_workflow.asl.json, with the template's substitutions, executed by
moto's Step Functions interpreter; its Lambda tasks run the real handlers in process."""

import json

import pytest
from moto.dynamodb.responses import DynamoHandler
from moto.sqs.models import SQSBackend

from support import seed
from support.api import id_token_claims
from support.aws import ServerFaultError, TopicCapture, drain_queue, failing_backend_call, table_items
from support.workflow import execution_arn, history, process, states_entered

HAPPY_PATH = [
    "ValidateOrder",
    "CheckStock",
    "CheckInventory",
    "IsInStock",
    "InStock",
    "UpdateInventory",
    "ProcessOrder",
    "PublishConfirmation",
    "ShipOrder",
    "MarkConfirmed",
]


def path_of(stack, order_id):
    """The states entered, with the two Parallel branches (which run in either order) sorted."""
    entered = states_entered(stack, execution_arn(stack, order_id))
    if "ProcessOrder" in entered:
        start = entered.index("ProcessOrder") + 1
        entered[start : start + 2] = sorted(entered[start : start + 2])
    return entered


@pytest.fixture
def confirmations(stack):
    return TopicCapture(stack, stack.ref("OrderConfirmedTopic"))


@pytest.fixture
def shipping(stack):
    return lambda: drain_queue(stack, stack.ref("ShippingQueue"))


def order_of(back_office, order_id):
    """The order as staff see it (any customer's)."""
    response = back_office.get(f"/orders/{order_id}")
    assert response.status == 200
    return response.body


def test_happy_path_confirms_reserves_ships_and_notifies_once(
    back_office, storefront, stack, local_lambda, confirmations, shipping
):
    seed.stock(back_office, "widget-1", 5, price=19.99)
    order_id = seed.order(storefront, {"widget-1": 2})

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    order = order_of(back_office, order_id)
    assert order["status"] == "CONFIRMED"
    assert order["total"] == 39.98
    assert "reason" not in order
    assert seed.quantity(back_office, "widget-1") == 3
    [shipment] = shipping()
    shipped = shipment["Body"]
    assert shipped["order_id"] == order_id
    assert shipped["order"]["items"] == [{"product_id": "widget-1", "quantity": 2, "price": 19.99}]
    [confirmation] = confirmations.notifications()
    assert json.loads(confirmation["Message"])["order_id"] == order_id
    assert path_of(stack, order_id) == HAPPY_PATH


def test_out_of_stock_is_rejected_without_touching_stock_shipping_or_notifications(
    back_office, storefront, stack, local_lambda, confirmations, shipping
):
    seed.stock(back_office, "widget-1", 1)
    order_id = seed.order(storefront, {"widget-1": 2})

    execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"  # a rejection is an outcome, not a failure
    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "OUT_OF_STOCK")
    assert seed.quantity(back_office, "widget-1") == 1
    assert shipping() == []
    assert confirmations.notifications() == []
    assert states_entered(stack, execution_arn(stack, order_id)) == [
        "ValidateOrder",
        "CheckStock",
        "CheckInventory",
        "IsInStock",
        "NotInStock",
        "OutOfStock",
        "MarkRejected",
        "Rejected",
    ]


def test_multi_item_order_with_one_line_short_reserves_nothing(back_office, storefront, stack, local_lambda, shipping):
    seed.stock(back_office, "widget-1", 5)
    seed.stock(back_office, "widget-2", 1)
    order_id = seed.order(storefront, {"widget-1": 2, "widget-2": 3})

    process(local_lambda, stack, order_id)

    assert order_of(back_office, order_id)["status"] == "REJECTED"
    assert (seed.quantity(back_office, "widget-1"), seed.quantity(back_office, "widget-2")) == (5, 1)
    assert shipping() == []
    markers = [item for item in table_items(stack, "InventoryTable") if item["product_id"].startswith("reservation#")]
    assert markers == []


def test_multi_item_order_in_stock_reserves_every_line(back_office, storefront, stack, local_lambda):
    seed.stock(back_office, "widget-1", 5, price=2)
    seed.stock(back_office, "widget-2", 4, price=3.5)
    order_id = seed.order(storefront, {"widget-1": 2, "widget-2": 4})

    process(local_lambda, stack, order_id)

    order = order_of(back_office, order_id)
    assert (order["status"], order["total"]) == ("CONFIRMED", 18)
    assert (seed.quantity(back_office, "widget-1"), seed.quantity(back_office, "widget-2")) == (3, 0)
    entered = states_entered(stack, execution_arn(stack, order_id))
    assert entered.count("CheckInventory") == 2
    assert entered.count("InStock") == 2


@pytest.mark.parametrize("unknown", ["product", "user"])
def test_unknown_product_or_user_is_rejected_as_validation_failed(
    back_office, storefront, stack, local_lambda, unknown
):
    seed.stock(back_office, "widget-1", 5)
    # A token whose user has no profile (e.g. deleted since): the order is placed, then refused.
    ghost = id_token_claims("no-such-user", "ghost@example.com", "Ghost")
    buyer = storefront.as_caller(ghost) if unknown == "user" else storefront
    product = "no-such-product" if unknown == "product" else "widget-1"
    order_id = seed.order(buyer, {product: 1})

    process(local_lambda, stack, order_id)

    order = order_of(back_office, order_id)
    assert (order["status"], order["reason"]) == ("REJECTED", "VALIDATION_FAILED")
    assert seed.quantity(back_office, "widget-1") == 5
    assert states_entered(stack, execution_arn(stack, order_id)) == [
        "ValidateOrder",
        "InvalidOrder",
        "MarkRejected",
        "Rejected",
    ]


def _orders_get_item(stack):
    """A GetItem request on the orders table (requests, not moto's internal reads)."""
    return lambda handler, *args, **kwargs: handler.body.get("TableName") == stack.ref("OrdersTable")


class FirstCalls:
    """True for the first `count` calls, then False: a fault that clears up."""

    def __init__(self, count, when):
        self.remaining = count
        self.when = when

    def __call__(self, *args, **kwargs):
        if self.when(*args, **kwargs) and self.remaining > 0:
            self.remaining -= 1
            return True
        return False


def test_a_transient_error_in_a_lambda_task_is_retried_with_backoff_then_succeeds(
    back_office, storefront, stack, local_lambda, backoff, monkeypatch
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    # DynamoDB throttles ValidateOrder's first read through all of the SDK's own attempts (one
    # and three retries): the Lambda task fails once, and Step Functions retries it.
    throttled = FirstCalls(4, _orders_get_item(stack))
    fault = ServerFaultError("ProvisionedThroughputExceededException", 400)
    with failing_backend_call(monkeypatch, DynamoHandler, "get_item", throttled, fault):
        execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "SUCCEEDED"
    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
    failures = [e for e in history(stack, execution_arn(stack, order_id)) if e["type"] == "TaskFailed"]
    assert [json.loads(e["taskFailedEventDetails"]["cause"])["errorType"] for e in failures] == [
        "ProvisionedThroughputExceededException"
    ]
    # One retry: IntervalSeconds 1 with full jitter, so a delay drawn from [0, 1].
    assert len(backoff) == 1
    assert 0 <= backoff[0] <= 1
    assert path_of(stack, order_id) == HAPPY_PATH


def test_a_persistent_error_ends_failed_after_exponential_backoff(
    back_office, storefront, stack, local_lambda, backoff, monkeypatch
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 1})
    throttled = FirstCalls(10**6, _orders_get_item(stack))
    fault = ServerFaultError("ProvisionedThroughputExceededException", 400)
    with failing_backend_call(monkeypatch, DynamoHandler, "get_item", throttled, fault):
        execution = process(local_lambda, stack, order_id)

    assert execution["status"] == "FAILED"
    order = order_of(back_office, order_id)
    assert order["status"] == "FAILED"
    assert order["reason"] == "ProvisionedThroughputExceededException"
    assert seed.quantity(back_office, "widget-1") == 5
    # MaxAttempts 3, BackoffRate 2, full jitter: delays drawn from [0, 1], [0, 2], [0, 4].
    assert len(backoff) == 3
    assert all(0 <= delay <= cap for delay, cap in zip(backoff, [1, 2, 4], strict=True))
    assert states_entered(stack, execution_arn(stack, order_id)) == ["ValidateOrder", "MarkFailed", "OrderFailed"]


def test_shipping_that_keeps_failing_gives_the_reserved_stock_back_and_fails_the_order(
    back_office, storefront, stack, local_lambda, shipping, monkeypatch
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    shipping_queue = stack.get_att("ShippingQueue", "QueueName")
    refuse = lambda backend, queue_name, *args, **kwargs: queue_name == shipping_queue  # noqa: E731
    with failing_backend_call(
        monkeypatch, SQSBackend, "send_message", refuse, ServerFaultError("ServiceUnavailable", 503)
    ):
        process(local_lambda, stack, order_id)

    order = order_of(back_office, order_id)
    assert order["status"] == "FAILED"
    assert seed.quantity(back_office, "widget-1") == 5  # reserved, then released by the compensation
    assert shipping() == []
    entered = states_entered(stack, execution_arn(stack, order_id))
    assert entered[-3:] == ["ReleaseInventory", "MarkFailed", "OrderFailed"]
    assert "MarkConfirmed" not in entered


def test_a_repeated_order_created_starts_one_execution_and_reserves_once(
    back_office, storefront, stack, local_lambda, function
):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    process(local_lambda, stack, order_id)
    order = order_of(back_office, order_id)
    event = {"source": "orders.api", "detail-type": "OrderCreated", "detail": {**order, "status": "PENDING"}}

    again = function("ProcessOrderFunction").invoke(event)

    assert again == {"order_id": order_id, "started": False}
    executions = stack.client("stepfunctions").list_executions(stateMachineArn=stack.ref("OrderWorkflow"))["executions"]
    assert [e["name"] for e in executions] == [order_id]
    assert seed.quantity(back_office, "widget-1") == 3
    assert order_of(back_office, order_id)["status"] == "CONFIRMED"
