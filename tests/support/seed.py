"""Customers, stock and orders created through the APIs, as staff and customers would; and an order
in the middle of its workflow, which no API makes."""

from __future__ import annotations

from typing import Any

from local_stack.cloudformation.deploy import Stack
from support.api import ApiClient, id_token_claims


def customer(back_office: ApiClient, name: str = "Ada") -> dict[str, Any]:
    """A customer invited by staff (account and profile); the claims of the customer's ID token."""
    email = f"{name.lower()}@example.com"
    response = back_office.post("/users", {"name": name, "email": email})
    assert response.status == 201, response
    return id_token_claims(str(response.body["user_id"]), email, name)


def stock(back_office: ApiClient, product_id: str, quantity: int, price: float = 10.0) -> None:
    response = back_office.put(f"/inventory/{product_id}", {"quantity": quantity, "price": price})
    assert response.status == 200, response


def order(storefront: ApiClient, lines: dict[str, int], payment_method: str = "pm_card_visa") -> str:
    """An order placed by the storefront client's customer."""
    body: dict[str, Any] = {
        "items": [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines.items()],
        "payment_method": payment_method,
    }
    response = storefront.post("/orders", body)
    assert response.status == 202, response
    return str(response.body["order_id"])


def quantity(back_office: ApiClient, product_id: str) -> int:
    return int(back_office.get(f"/inventory/{product_id}").body["quantity"])


def processing_order(stack: Stack, order_id: str, lines: dict[str, int], total: int) -> None:
    """An order that its workflow is processing, written to OrdersTable as the storefront and
    ProcessOrder leave it."""
    items = [{"M": {"product_id": {"S": product_id}, "quantity": {"N": str(n)}}} for product_id, n in lines.items()]
    stack.client("dynamodb").put_item(
        TableName=stack.ref("OrdersTable"),
        Item={"order_id": {"S": order_id}, "user_id": {"S": "u-1"}, "status": {"S": "PROCESSING"},
              "items": {"L": items}, "total": {"N": str(total)}, "payment_method": {"S": "pm_card_visa"},
              "created_at": {"S": "2026-11-29T10:00:00.000Z"}, "updated_at": {"S": "2026-11-29T10:00:00.000Z"}},
    )  # fmt: skip
