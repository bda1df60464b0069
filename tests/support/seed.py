"""Customers, stock and orders created through the APIs, as staff and customers would."""

from __future__ import annotations

from typing import Any

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
