"""The analytics table: orders counted per day, each order once."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orders_domain.adapters import aws_clients

if TYPE_CHECKING:
    pass


class AnalyticsRepository:
    """Per-day counters (`day#<date>`) and one marker per counted order (`order#<id>`)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def count_order(self, order_id: str, day: str, items: int, revenue: Decimal) -> bool:
        """Add an order to its day's counters, once: False when it was counted before."""
        try:
            aws_clients.dynamodb().transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {"pk": {"S": f"order#{order_id}"}, "day": {"S": day}},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": {"pk": {"S": f"day#{day}"}},
                            "UpdateExpression": "ADD orders :one, #items :items, revenue :revenue",
                            "ExpressionAttributeNames": {"#items": "items"},
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":items": {"N": str(items)},
                                ":revenue": {"N": str(revenue)},
                            },
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True
