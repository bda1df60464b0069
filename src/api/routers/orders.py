"""Orders: customers place, read and cancel their own; staff read every order, by status, and
decide on those that wait for their approval."""

from collections.abc import Callable
from functools import cache
from typing import Annotated, Any

from api_docs import CART, request_example
from api_settings import api_tables, storefront_settings
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from http_api import DocumentedRoutes
from identity import caller_of
from pydantic import BaseModel

from orders_domain.adapters import aws_clients
from orders_domain.models import ApprovalDecision, Identifier, NewOrder, Order, OrderStatus, Page
from orders_domain.observability import metrics
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.orders import customer_orders, find_order, new_order_id, orders_in, place_order
from orders_domain.rules.saga import cancel_order, decide_approval

storefront = Router()
back_office = Router()
own_orders = DocumentedRoutes(storefront, tag="orders", audience="customers")
all_orders = DocumentedRoutes(back_office, tag="orders", audience="staff")
orders = OrdersRepository(api_tables().orders_table)
inventory = InventoryRepository(api_tables().inventory_table)
SOME_ORDER = "order demo-order-9"  # what a 404's example did not find
IDEMPOTENCY_HOURS = 1  # how long a retry with the same Idempotency-Key is answered as the first request

Limit = Annotated[int, Query(ge=1, le=100, description="Orders per page")]
Cursor = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=1024,
        description="The `next` of the previous page: an opaque cursor. One that this list did not issue is a 400.",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Retries with the same key return the first answer; the same key with another body is a 422.",
    ),
]


NEW_ORDER = Body(openapi_examples=request_example("Two products", {"items": CART, "payment_method": "pm_card_visa"}))
DECISION = Body(openapi_examples=request_example("Approved", {"approved": True, "comment": "a known customer"}))


class Accepted(BaseModel):
    order_id: str
    status: OrderStatus


def _shown(order: Order) -> dict[str, Any]:
    return order.model_dump(mode="json", exclude_none=True)


def _page(page: Page[Order]) -> dict[str, Any]:
    return {"items": [_shown(order) for order in page.items], "next": page.next}


# Idempotency is keyed per customer, so two customers who pick the same key never meet; the body is
# checked so that a reused key with another order is refused instead of answered with the first order.
idempotency_config = IdempotencyConfig(
    event_key_jmespath="[user_id, idempotency_key]",
    payload_validation_jmespath="order",
    expires_after_seconds=IDEMPOTENCY_HOURS * 3600,
)


@cache
def _accept_order_once() -> Callable[..., dict[str, str]]:
    """POST /orders with an Idempotency-Key, through Powertools idempotency (only the storefront
    has the idempotency table, so its store is made on first use)."""
    store = DynamoDBPersistenceLayer(
        table_name=storefront_settings().idempotency_table, boto3_client=aws_clients.dynamodb()
    )

    @idempotent_function(data_keyword_argument="submission", config=idempotency_config, persistence_store=store)
    def accept_once(submission: dict[str, Any]) -> dict[str, str]:
        order = NewOrder.model_validate(submission["order"])
        return accept_order(submission["user_id"], order, submission["idempotency_key"])

    return accept_once  # type: ignore[no-any-return]  # Powertools' decorator is untyped


def accept_order(user_id: str, new_order: NewOrder, idempotency_key: str | None) -> dict[str, str]:
    order = place_order(orders, user_id, new_order, new_order_id(user_id, idempotency_key))
    metrics.add_metric(name="OrderCreated", unit=MetricUnit.Count, value=1)
    return {"order_id": order.order_id, "status": order.status}


@own_orders.post(
    "/orders",
    Accepted,
    400,
    409,
    415,
    status=202,
    success="Accepted",
    invalid=("body.items.0.quantity", "Input should be less than or equal to 1000"),
)
def create_order(
    new_order: Annotated[NewOrder, NEW_ORDER], idempotency_key: IdempotencyKey = None
) -> tuple[dict[str, str], int]:
    """Place an order

    Accepted as PENDING; its workflow then reserves the stock, waits for staff approval when the
    total is large, charges the payment method and ships it (CONFIRMED), or ends it REJECTED with a
    reason (stock released). Follow it with `GET /orders/{order_id}`. With an `Idempotency-Key`, a
    retry is answered as the first request and places nothing again."""
    user_id = caller_of(storefront.current_event).user_id
    if idempotency_key is None:
        return accept_order(user_id, new_order, None), 202
    submission = {"user_id": user_id, "idempotency_key": idempotency_key, "order": new_order.model_dump(mode="json")}
    return _accept_order_once()(submission=submission), 202


@own_orders.get("/orders", Page[Order], 400, invalid=("query.limit", "Input should be less than or equal to 100"))
def list_own_orders(limit: Limit = 20, next: Cursor = None) -> dict[str, Any]:
    """List my orders

    The caller's orders, newest first, a page at a time: the `next` of a page asks for the next one."""
    return _page(customer_orders(orders, caller_of(storefront.current_event).user_id, limit, next))


@own_orders.get("/orders/<order_id>", Order, 404, missing=SOME_ORDER)
def get_own_order(order_id: Identifier) -> dict[str, Any]:
    """Read one of my orders

    Its status (with the reason of a REJECTED or FAILED order), items and total; another
    customer's order is a 404."""
    return _shown(find_order(orders, order_id, owner=caller_of(storefront.current_event).user_id))


@own_orders.post(
    "/orders/<order_id>/cancel",
    Order,
    404,
    409,
    missing=SOME_ORDER,
    conflict="order demo-order-1 is CONFIRMED: it can no longer be cancelled",
)
def cancel_own_order(order_id: Identifier) -> dict[str, Any]:
    """Cancel one of my orders

    An order not paid yet (PENDING, PROCESSING before the charge, AWAITING_APPROVAL) becomes
    CANCELLED and its stock is released; 409 once it is being paid or has ended."""
    return _shown(cancel_order(order_id, caller_of(storefront.current_event).user_id, orders, inventory))


@all_orders.get(
    "/orders",
    Page[Order],
    400,
    invalid=(
        "query.status",
        "Input should be 'PENDING', 'PROCESSING', 'AWAITING_APPROVAL', 'CONFIRMED', "
        "'REJECTED', 'CANCELLED' or 'FAILED'",
    ),
)
def list_orders(status: OrderStatus | None = None, limit: Limit = 20, next: Cursor = None) -> dict[str, Any]:
    """List orders, by status

    Orders in the given status (every order without `status`), oldest first, a page at a time: the
    `next` of a page asks for the next one."""
    return _page(orders_in(orders, status, limit, next))


@all_orders.get("/orders/<order_id>", Order, 404, missing=SOME_ORDER)
def get_order(order_id: Identifier) -> dict[str, Any]:
    """Read any order

    Any customer's order, with its status, reason, total, payment status and approval."""
    return _shown(find_order(orders, order_id))


@all_orders.post(
    "/orders/<order_id>/approval",
    Order,
    400,
    404,
    409,
    415,
    missing=SOME_ORDER,
    conflict="order demo-order-1 is CONFIRMED, not awaiting approval",
    invalid=("body.approved", "Field required"),
)
def decide_on_order(order_id: Identifier, decision: Annotated[ApprovalDecision, DECISION]) -> dict[str, Any]:
    """Approve or reject a large order

    For an order AWAITING_APPROVAL: approved, it goes on to payment (PROCESSING); rejected, it ends
    REJECTED (NOT_APPROVED) and its stock is released. The decision, who made it and when are kept
    on the order."""
    staff_id = caller_of(back_office.current_event).user_id
    return _shown(decide_approval(order_id, decision, staff_id, orders, inventory))
