"""The orders table: orders, the saga's conditional writes on them, and their lists (cursors)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.conditions import Attr, ConditionBase
from botocore.exceptions import ClientError

from orders_domain.adapters import aws_clients
from orders_domain.errors import InvalidCursor, NotFoundError, OrderNotProcessing
from orders_domain.models import (
    Approval,
    Order,
    OrderRecord,
    OrderStatus,
    Page,
    PaymentStatus,
    utc_now,
)
from orders_domain.persistence.items import Item, from_item, is_condition_failure, item_on_condition_failure, to_item
from orders_domain.persistence.update_expressions import set_values

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef


class Cursor:
    """The opaque `next` of a list: the last key of a page (base64url JSON), accepted back only with
    exactly the key names and partition value of the query it came from."""

    @staticmethod
    def encode(last_key: Item | None) -> str | None:
        if not last_key:
            return None
        plain = json.dumps(from_item(last_key), separators=(",", ":"), sort_keys=True)
        return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")

    @staticmethod
    def fields(cursor: str) -> Any:
        """What the cursor carries, unchecked (InvalidCursor if it is not base64url JSON)."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        except (ValueError, UnicodeError) as error:
            raise InvalidCursor("next is not a cursor of this list") from error

    @staticmethod
    def decode(cursor: str, partition: tuple[str, str], sort_key: str) -> dict[str, AttributeValueTypeDef]:
        key = Cursor.fields(cursor)
        names = {"order_id", partition[0], sort_key}
        if (
            not isinstance(key, dict)
            or set(key) != names
            or not all(isinstance(value, str) and 0 < len(value) <= 256 for value in key.values())
            or key[partition[0]] != partition[1]
        ):
            raise InvalidCursor("next is not a cursor of this list")
        return {name: {"S": value} for name, value in key.items()}


class OrdersRepository:
    """Orders, and three indexes for lists: by customer, by status, and all (`listing`: one shard
    per creation day, see orders_domain.rules.listing)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    @staticmethod
    def shard(day: str) -> str:
        """The all-orders index's partition of the orders created on `day` (YYYY-MM-DD, UTC)."""
        return f"ORDER#{day}"

    def created_on(self) -> date:
        """The day the table was made: no order is older (a control-plane read; cache it)."""
        created = aws_clients.dynamodb().describe_table(TableName=self.table_name)["Table"]["CreationDateTime"]
        return created.astimezone(UTC).date()

    def add(self, order: Order, payment_method: str | None = None) -> Order:
        """Store a new order; if one with the same id exists already, return that one unchanged.
        The payment method is kept for the workflow, never returned."""
        extra = {"listing": self.shard(order.created_at[:10])} | (
            {"payment_method": payment_method} if payment_method else {}
        )
        try:
            aws_clients.dynamodb().put_item(
                TableName=self.table_name,
                Item=to_item(order) | to_item(extra),
                ConditionExpression="attribute_not_exists(order_id)",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            return Order.model_validate(from_item(item_on_condition_failure(error) or {}))
        return order

    def get(self, order_id: str) -> Order | None:
        item = aws_clients.dynamodb().get_item(TableName=self.table_name, Key={"order_id": {"S": order_id}}).get("Item")
        return Order.model_validate(from_item(item)) if item else None

    def page(
        self, index: str, partition: tuple[str, str], limit: int, cursor: str | None, newest_first: bool
    ) -> Page[Order]:
        """One page of the index's partition, by creation time; raises InvalidCursor for a `next`
        that this query did not issue."""
        name, value = partition
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#partition = :value",
            "ExpressionAttributeNames": {"#partition": name},
            "ExpressionAttributeValues": {":value": {"S": value}},
            "ScanIndexForward": not newest_first,
            "Limit": limit,
        }
        if cursor is not None:
            arguments["ExclusiveStartKey"] = Cursor.decode(cursor, partition, "created_at")
        response = aws_clients.dynamodb().query(**arguments)
        orders = [Order.model_validate(from_item(item)) for item in response.get("Items", [])]
        return Page[Order](items=orders, next=Cursor.encode(response.get("LastEvaluatedKey")))

    def start_processing(self, order_id: str) -> Order:
        """Move a PENDING order to PROCESSING; an order past PENDING is returned as it is."""
        try:
            response = aws_clients.dynamodb().update_item(
                TableName=self.table_name,
                Key={"order_id": {"S": order_id}},
                **set_values(
                    {"status": OrderStatus.PROCESSING, "updated_at": utc_now()},
                    Attr("status").eq(OrderStatus.PENDING),
                ),
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            current = item_on_condition_failure(error)
            if not current:
                raise NotFoundError(f"order {order_id} not found") from error
            return Order.model_validate(from_item(current))
        return Order.model_validate(from_item(response["Attributes"]))

    # -- The saga's writes. Each is conditional, so that the workflow, staff, the customer and the
    # execution watcher can race on one order and exactly one of them wins each step.

    _NOT_CANCELLED = Attr("cancel_requested_at").not_exists()
    _IN_WORKFLOW = Attr("status").eq(OrderStatus.PROCESSING) & _NOT_CANCELLED
    _OPEN = Attr("status").is_in([OrderStatus.PENDING, OrderStatus.PROCESSING, OrderStatus.AWAITING_APPROVAL])

    def record(self, order_id: str) -> OrderRecord | None:
        """The order with what only the saga reads (payment method, charge, approval token)."""
        item = (
            aws_clients.dynamodb()
            .get_item(TableName=self.table_name, Key={"order_id": {"S": order_id}}, ConsistentRead=True)
            .get("Item")
        )
        return OrderRecord.model_validate(from_item(item)) if item else None

    def price(self, order_id: str, total: Decimal) -> OrderRecord:
        """Store the workflow's total; OrderNotProcessing once the order left the workflow."""
        return self._in_workflow(order_id, {"total": total}, self._IN_WORKFLOW)

    def reservation_guard(self, order_id: str, reserved_at: str) -> TransactWriteItemTypeDef:
        """The reservation transaction's hold on the order: it reserves only for an order that is
        still the workflow's, and a cancellation after it sees `reserved_at`."""
        update: Any = {"TableName": self.table_name, "Key": {"order_id": {"S": order_id}}}
        return {"Update": update | set_values({"reserved_at": reserved_at}, self._IN_WORKFLOW)}

    def await_approval(self, order_id: str, token: str) -> OrderRecord:
        """AWAITING_APPROVAL, with the token that resumes the workflow: in one write, so the order
        shows AWAITING_APPROVAL only once it can be approved."""
        values = {"status": OrderStatus.AWAITING_APPROVAL, "approval_token": token}
        return self._in_workflow(order_id, values, self._IN_WORKFLOW & Attr("approval").not_exists())

    def decide(self, order_id: str, approval: Approval) -> OrderRecord | None:
        """Record staff's decision on an order AWAITING_APPROVAL (approved: back to PROCESSING);
        None when it is not awaiting approval (decided, cancelled, timed out)."""
        values: dict[str, Any] = {"approval": approval.model_dump(exclude_none=True)}
        if approval.approved:
            values["status"] = OrderStatus.PROCESSING
        condition = (
            Attr("status").eq(OrderStatus.AWAITING_APPROVAL) & self._NOT_CANCELLED & Attr("approval").not_exists()
        )
        applied, item = self._update(order_id, values, condition)
        return OrderRecord.model_validate(item) if applied and item else None

    def request_cancel(self, order_id: str, owner: str) -> tuple[bool, OrderRecord | None]:
        """Mark the owner's unpaid open order as being cancelled: (True, order), or (False, the
        order as it is, None if it is not the owner's)."""
        condition = (
            Attr("user_id").eq(owner) & self._OPEN & Attr("charge_started_at").not_exists() & self._NOT_CANCELLED
        )
        applied, item = self._update(order_id, {"cancel_requested_at": utc_now()}, condition)
        record = OrderRecord.model_validate(item) if item else None
        return applied, record if record and record.user_id == owner else None

    def claim_charge(self, order_id: str) -> OrderRecord:
        """Claim the order for a charge (from then on it cannot be cancelled); OrderNotProcessing
        when it was cancelled first. Repeated claims (retries) keep the first time."""
        applied, item = self._update(order_id, {}, self._IN_WORKFLOW, keep_first="charge_started_at")
        if not applied or item is None:
            raise OrderNotProcessing(f"order {order_id} is no longer processed by the workflow")
        return OrderRecord.model_validate(item)

    def charged(self, order_id: str, charge_id: str) -> None:
        self._update(order_id, {"payment_status": PaymentStatus.CHARGED, "charge_id": charge_id})

    def refunded(self, order_id: str, refund_id: str) -> None:
        condition = Attr("payment_status").eq(PaymentStatus.CHARGED)
        self._update(order_id, {"payment_status": PaymentStatus.REFUNDED, "refund_id": refund_id}, condition)

    def close(self, order_id: str, status: OrderStatus, reason: str | None) -> tuple[bool, OrderRecord | None]:
        """The saga's last write: a terminal status, only on an open order (a terminal status never
        changes). (True, the order) when this call ended it, (False, the order as it is) otherwise."""
        values: dict[str, Any] = {"status": status} | ({"reason": reason} if reason else {})
        applied, item = self._update(order_id, values, self._OPEN)
        return applied, OrderRecord.model_validate(item) if item else None

    def _in_workflow(self, order_id: str, values: dict[str, Any], condition: ConditionBase) -> OrderRecord:
        applied, item = self._update(order_id, values, condition)
        if not applied or item is None:
            raise OrderNotProcessing(f"order {order_id} is no longer processed by the workflow")
        return OrderRecord.model_validate(item)

    def _update(
        self,
        order_id: str,
        values: dict[str, Any],
        condition: ConditionBase | None = None,
        keep_first: str | None = None,
    ) -> tuple[bool, dict[str, Any] | None]:
        """SET `values` and updated_at (and `keep_first` to the same time, unless it is set) if the
        order exists and `condition` holds: (True, the item after), or (False, the item as it was;
        None if there is none)."""
        now = utc_now()
        exists = Attr("order_id").exists()
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"order_id": {"S": order_id}},
            **set_values(
                values | {"updated_at": now} | ({keep_first: now} if keep_first else {}),
                exists if condition is None else exists & condition,
                keep_first=[keep_first] if keep_first else [],
            ),
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        try:
            response = aws_clients.dynamodb().update_item(**arguments)
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            old = item_on_condition_failure(error)
            return False, from_item(old) if old else None
        return True, from_item(response["Attributes"])
