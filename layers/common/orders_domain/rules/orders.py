"""Order rules: placing an order, finding and listing orders, starting its workflow, counting it."""

from uuid import UUID, uuid4, uuid5

from orders_domain.adapters.workflows import start_once
from orders_domain.errors import ConflictError, NotFoundError
from orders_domain.models import (
    Line,
    NewOrder,
    Order,
    OrderStatus,
    Page,
    utc_now,
)
from orders_domain.persistence.analytics import AnalyticsRepository
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.listing import every_order
from orders_domain.rules.pricing import priced_lines, total_of

_ORDER_IDS_FROM_KEYS = UUID("6f1d3c5e-2b0a-4c8e-9a57-0e4b8f3d2a61")


def new_order_id(user_id: str, idempotency_key: str | None) -> str:
    """A fresh id, or, for a request with an Idempotency-Key, the same id on every retry: a retry
    after a crash that followed the write then finds the stored order instead of adding another."""
    if idempotency_key is None:
        return str(uuid4())
    return str(uuid5(_ORDER_IDS_FROM_KEYS, f"{user_id}\n{idempotency_key}"))


def place_order(orders: OrdersRepository, user_id: str, request: NewOrder, order_id: str) -> Order:
    """Store the customer's order as PENDING. OrderCreated is published from the table's stream, so
    an order that is stored is always announced, whatever happens to this request afterwards."""
    now = utc_now()
    order = Order(
        order_id=order_id,
        user_id=user_id,
        items=[Line(product_id=line.product_id, quantity=line.quantity) for line in request.items],
        status=OrderStatus.PENDING,
        created_at=now,
        updated_at=now,
    )
    stored = orders.add(order, payment_method=request.payment_method)
    if (stored.user_id, stored.items) != (order.user_id, order.items):
        raise ConflictError(f"order {order_id} already exists with other content")
    return stored


def find_order(orders: OrdersRepository, order_id: str, owner: str | None = None) -> Order:
    """The order; with `owner`, only that customer's: another customer's order is not found, so
    that nobody learns which order ids exist."""
    order = orders.get(order_id)
    if order is None or (owner is not None and order.user_id != owner):
        raise NotFoundError(f"order {order_id} not found")
    return order


def customer_orders(orders: OrdersRepository, user_id: str, limit: int, cursor: str | None) -> Page[Order]:
    """The customer's orders, newest first."""
    return orders.page("by-customer", ("user_id", user_id), limit, cursor, newest_first=True)


def orders_in(orders: OrdersRepository, status: OrderStatus | None, limit: int, cursor: str | None) -> Page[Order]:
    """Orders in one status, or all of them, oldest first (the back office's queue)."""
    if status is None:
        return every_order(orders, limit, cursor)
    return orders.page("by-status", ("status", str(status)), limit, cursor, newest_first=False)


def start_processing(orders: OrdersRepository, state_machine_arn: str, order_id: str) -> bool:
    """Mark the order PROCESSING and start its workflow; True when this call started it. A repeated
    OrderCreated, or one for an order already past PENDING, starts nothing. The execution is named
    after the order: it starts at most once."""
    order = orders.start_processing(order_id)
    if order.status is not OrderStatus.PROCESSING:
        return False
    return start_once(state_machine_arn, order_id, {"order_id": order_id})


def count_order(analytics: AnalyticsRepository, inventory: InventoryRepository, order: Order) -> bool:
    """Add the order to its day's analytics (value at current list prices), once per order."""
    prices = inventory.get_many(line.product_id for line in order.items)
    revenue = total_of(priced_lines((line for line in order.items if line.product_id in prices), prices))
    items = sum(line.quantity for line in order.items)
    return analytics.count_order(order.order_id, order.created_at[:10], items, revenue)
