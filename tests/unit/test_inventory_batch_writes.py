"""The import's stock writes: 25 products per BatchWriteItem, and what DynamoDB leaves unprocessed
(throttling; moto never does it by itself) sent again after a growing pause, never dropped."""

import json
from decimal import Decimal

import pytest
from moto.dynamodb.responses import DynamoHandler

from support.aws import table_items
from support.instances import domain_as_loaded_by

domain = domain_as_loaded_by("ImportChunkFunction")


@pytest.fixture
def inventory(domain, stack):
    return domain("persistence.inventory").InventoryRepository(stack.ref("InventoryTable"))


@pytest.fixture
def pauses(domain, monkeypatch):
    recorded: list[float] = []
    monkeypatch.setattr(domain("persistence.inventory").time, "sleep", recorded.append)
    return recorded


@pytest.fixture
def requests_sent(monkeypatch):
    """Each BatchWriteItem request's product ids; `leave[n]` says how many of request n DynamoDB
    leaves unprocessed (the last ones, as its answer lists them)."""
    sent: list[list[str]] = []
    leave: dict[int, int] = {}
    original = DynamoHandler.batch_write_item

    def batch_write_item(handler):
        [(table, writes)] = handler.body["RequestItems"].items()
        sent.append([write["PutRequest"]["Item"]["product_id"]["S"] for write in writes])
        kept = leave.get(len(sent) - 1, 0)
        if not kept:
            return original(handler)
        handler.body = {"RequestItems": {table: writes[:-kept]}}
        original(handler)
        return json.dumps({"UnprocessedItems": {table: writes[-kept:]}})

    monkeypatch.setattr(DynamoHandler, "batch_write_item", batch_write_item)
    return sent, leave


@pytest.fixture
def stock(domain):
    def products(count):
        update = domain("models").StockUpdate
        return {f"p-{n:03d}": update(quantity=n, price=Decimal("1.25")) for n in range(count)}

    return products


def test_products_are_written_25_at_a_time(inventory, stack, stock, requests_sent, pauses):
    sent, _ = requests_sent

    inventory.put_many(stock(60))

    assert [len(request) for request in sent] == [25, 25, 10]
    assert len(table_items(stack, "InventoryTable")) == 60
    assert table_items(stack, "InventoryTable")[0]["price"] == Decimal("1.25")
    assert pauses == []


def test_unprocessed_items_are_sent_again_after_a_growing_pause_until_written(
    inventory, stack, stock, requests_sent, pauses
):
    sent, leave = requests_sent
    leave.update({0: 5, 1: 2, 3: 3})  # the first batch comes back twice, the second batch once

    inventory.put_many(stock(30))

    assert sent == [
        [f"p-{n:03d}" for n in range(25)],
        [f"p-{n:03d}" for n in range(20, 25)],
        [f"p-{n:03d}" for n in range(23, 25)],
        [f"p-{n:03d}" for n in range(25, 30)],
        [f"p-{n:03d}" for n in range(27, 30)],
    ]
    assert pauses == [0.1, 0.2, 0.1]
    assert sorted(item["product_id"] for item in table_items(stack, "InventoryTable")) == sorted(stock(30))


def test_items_still_unprocessed_after_eight_tries_fail_the_call_for_the_caller_to_retry(
    inventory, domain, stock, requests_sent, pauses
):
    sent, leave = requests_sent
    leave.update(dict.fromkeys(range(8), 1))

    with pytest.raises(
        domain("persistence.inventory").UnprocessedWrites, match="1 stock writes still unprocessed after 8 tries"
    ):
        inventory.put_many(stock(3))

    assert len(sent) == 8
    assert pauses == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0, 1.0]
