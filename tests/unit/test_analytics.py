"""AnalyticsFunction: per-day counters from the FIFO AnalyticsQueue, each order counted once,
a poison message failing alone and ending in the queue's DLQ."""

import copy
import json
from decimal import Decimal

import pytest

from support import seed
from support.aws import drain_queue, table_items
from support.samples import load_event


@pytest.fixture
def priced(back_office):
    seed.stock(back_office, "widget-1", 100, price=19.99)
    seed.stock(back_office, "widget-2", 100, price=5)


def sample_batch():
    return load_event("sqs_analytics_batch.json")


def day_counters(stack, day="2026-11-22"):
    [counters] = [item for item in table_items(stack, "AnalyticsTable") if item["pk"] == f"day#{day}"]
    return {name: counters[name] for name in ("orders", "items", "revenue")}


def test_a_batch_is_counted_per_day_with_items_and_value(stack, function, priced):
    result = function("AnalyticsFunction").invoke(sample_batch())

    assert result == {"batchItemFailures": []}
    # widget-1 x2 at 19.99 and widget-2 x1 at 5
    assert day_counters(stack) == {"orders": 2, "items": 3, "revenue": Decimal("44.98")}


def test_a_message_delivered_twice_counts_once(stack, function, priced):
    batch = sample_batch()
    duplicate = copy.deepcopy(batch["Records"][0])
    duplicate["messageId"] = "a-second-delivery"
    batch["Records"].append(duplicate)

    function("AnalyticsFunction").invoke(batch)
    function("AnalyticsFunction").invoke(sample_batch())

    assert day_counters(stack)["orders"] == 2


@pytest.mark.parametrize("poison", ["not json", json.dumps({"detail": {"order_id": "x"}}), json.dumps([1, 2])])
def test_a_poison_message_alone_is_reported_failed(stack, function, priced, poison):
    batch = sample_batch()
    bad = copy.deepcopy(batch["Records"][0])
    bad["messageId"] = "poison"
    bad["body"] = poison
    batch["Records"].insert(1, bad)

    result = function("AnalyticsFunction").invoke(batch)

    assert result == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert day_counters(stack)["orders"] == 2


def test_order_created_reaches_analytics_through_the_fifo_queue_and_poison_ends_in_its_dlq(
    storefront, stack, local_lambda, priced
):
    seed.order(storefront, {"widget-1": 1})
    queue_url = stack.ref("AnalyticsQueue")
    stack.client("sqs").send_message(QueueUrl=queue_url, MessageBody="poison", MessageGroupId="order-created")

    local_lambda.settle()
    for _ in range(6):  # each poll receives the poison again, until maxReceiveCount moves it
        local_lambda.poll_sources()

    counters = [item for item in table_items(stack, "AnalyticsTable") if item["pk"].startswith("day#")]
    assert [counter["orders"] for counter in counters] == [1]
    assert [message["Body"] for message in drain_queue(stack, stack.ref("AnalyticsDLQ"))] == ["poison"]
    assert drain_queue(stack, queue_url) == []
