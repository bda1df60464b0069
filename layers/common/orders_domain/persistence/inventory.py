"""The inventory table: stock and price per product, and the reservations of orders."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid5

from botocore.exceptions import ClientError

from orders_domain.adapters import aws_clients
from orders_domain.errors import OrderNotProcessing, OutOfStock
from orders_domain.models import (
    Line,
    StockItem,
    StockUpdate,
)
from orders_domain.persistence.items import Item, from_item, to_item

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

BATCH_WRITE_SIZE = 25  # BatchWriteItem's limit
UNPROCESSED_ATTEMPTS = 8
UNPROCESSED_PAUSE = 0.05  # seconds, doubled on each try


class UnprocessedWrites(Exception):  # noqa: N818 - a workflow retries the step by this name
    """DynamoDB kept refusing part of a batch (throttling): the caller's retry takes over."""


_TRANSACTION_TOKENS = UUID("2f0c8a53-7d1e-4b6a-9c2e-5a4f1d3b7e90")


def _transaction_token(purpose: str, order_id: str) -> str:
    """An idempotency token for a transaction (at most 36 characters): a retried call within ten
    minutes is answered as the first one, without being applied twice, if its parameters are the
    same; with others DynamoDB refuses it (IdempotentParameterMismatchException). So a transaction
    with a token holds no fresh timestamp: its times come from the caller, the same on every retry."""
    return str(uuid5(_TRANSACTION_TOKENS, f"{purpose}\n{order_id}"))


class InventoryRepository:
    """Stock levels, plus one reservation marker per order (`reservation#<order_id>`, a key that no
    product id can take) so that reserving twice for the same order changes stock once."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def put(self, product_id: str, stock: StockUpdate) -> StockItem:
        item = StockItem(product_id=product_id, quantity=stock.quantity, price=stock.price)
        aws_clients.dynamodb().put_item(TableName=self.table_name, Item=to_item(item))
        return item

    def get(self, product_id: str) -> StockItem | None:
        item = (
            aws_clients.dynamodb()
            .get_item(TableName=self.table_name, Key={"product_id": {"S": product_id}})
            .get("Item")
        )
        return self.stock_item(item) if item else None

    @staticmethod
    def stock_item(item: Item) -> StockItem:
        """A product's stored item (DynamoDB JSON, as GetItem returns it, e.g. to a workflow)."""
        return StockItem.model_validate(from_item(item))

    def get_many(self, product_ids: Iterable[str]) -> dict[str, StockItem]:
        """The stock items that exist among `product_ids` (at most 100 ids: one BatchGetItem)."""
        keys: list[Mapping[str, Any]] = [{"product_id": {"S": product_id}} for product_id in product_ids]
        found: dict[str, StockItem] = {}
        while keys:
            response = aws_clients.dynamodb().batch_get_item(
                RequestItems={self.table_name: {"Keys": keys, "ConsistentRead": True}}
            )
            for item in response["Responses"].get(self.table_name) or ():
                stock = self.stock_item(item)
                found[stock.product_id] = stock
            unprocessed = response.get("UnprocessedKeys") or {}
            keys = list(unprocessed[self.table_name]["Keys"]) if self.table_name in unprocessed else []
        return found

    def put_many(self, stock: Mapping[str, StockUpdate]) -> None:
        """Set the stock and price of each product (absolute values: writing twice is harmless), 25
        per BatchWriteItem; what DynamoDB leaves unprocessed is sent again after a growing pause."""
        requests: list[Any] = [
            {"PutRequest": {"Item": to_item(StockItem(product_id=product_id, **update.model_dump()))}}
            for product_id, update in stock.items()
        ]
        for start in range(0, len(requests), BATCH_WRITE_SIZE):
            batch = requests[start : start + BATCH_WRITE_SIZE]
            for attempt in range(UNPROCESSED_ATTEMPTS):
                if attempt:
                    time.sleep(min(UNPROCESSED_PAUSE * 2**attempt, 1.0))
                response = aws_clients.dynamodb().batch_write_item(RequestItems={self.table_name: batch})
                batch = list((response.get("UnprocessedItems") or {}).get(self.table_name) or [])
                if not batch:
                    break
            else:
                raise UnprocessedWrites(
                    f"{len(batch)} stock writes still unprocessed after {UNPROCESSED_ATTEMPTS} tries"
                )

    @staticmethod
    def _marker_key(order_id: str) -> dict[str, AttributeValueTypeDef]:
        return {"product_id": {"S": f"reservation#{order_id}"}}

    def reserve(self, order_id: str, lines: list[Line], guard: TransactWriteItemTypeDef, reserved_at: str) -> bool:
        """Take every line's quantity from stock in one transaction with `guard` (the order's own
        condition), or nothing; `reserved_at` is the workflow's, the same on every retry.

        Returns False when this order's stock was already reserved (a repeated call); raises
        OutOfStock, changing nothing, when any line has too little stock, and OrderNotProcessing
        when the guard fails (the order was cancelled).
        """
        marker: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self.table_name,
                "Item": to_item(
                    {
                        "product_id": f"reservation#{order_id}",
                        "order_id": order_id,
                        "items": [line.model_dump() for line in lines],
                        "reserved_at": reserved_at,
                    }
                ),
                "ConditionExpression": "attribute_not_exists(product_id)",
            }
        }
        decrements: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"product_id": {"S": line.product_id}},
                    "UpdateExpression": "SET quantity = quantity - :wanted",
                    "ConditionExpression": "attribute_exists(product_id) AND quantity >= :wanted",
                    "ExpressionAttributeValues": {":wanted": {"N": str(line.quantity)}},
                }
            }
            for line in lines
        ]
        try:
            aws_clients.dynamodb().transact_write_items(
                TransactItems=[marker, *decrements, guard], ClientRequestToken=_transaction_token("reserve", order_id)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False
            if reasons[-1:] == ["ConditionalCheckFailed"]:
                raise OrderNotProcessing(f"order {order_id} is no longer processed by the workflow") from error
            short = [
                line.product_id
                for line, code in zip(lines, reasons[1:-1], strict=False)
                if code == "ConditionalCheckFailed"
            ]
            if short:
                raise OutOfStock(f"not enough stock for {', '.join(short)}") from error
            raise
        return True

    def release(self, order_id: str) -> bool:
        """Give back what `reserve` took for this order; False when it holds no reservation (never
        made, or already released)."""
        item = (
            aws_clients.dynamodb()
            .get_item(TableName=self.table_name, Key=self._marker_key(order_id), ConsistentRead=True)
            .get("Item")
        )
        if not item:
            return False
        lines = [Line.model_validate(line) for line in from_item(item)["items"]]
        increments: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": {"product_id": {"S": line.product_id}},
                    "UpdateExpression": "SET quantity = quantity + :given_back",
                    "ExpressionAttributeValues": {":given_back": {"N": str(line.quantity)}},
                }
            }
            for line in lines
        ]
        unmark: TransactWriteItemTypeDef = {
            "Delete": {
                "TableName": self.table_name,
                "Key": self._marker_key(order_id),
                "ConditionExpression": "attribute_exists(product_id)",
            }
        }
        try:
            aws_clients.dynamodb().transact_write_items(
                TransactItems=[unmark, *increments], ClientRequestToken=_transaction_token("release", order_id)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False  # released concurrently by another attempt
            raise
        return True
