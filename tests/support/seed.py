"""Users, stock and orders created through the API, as a client would."""

from __future__ import annotations

from typing import Any

from support.api import ApiClient


def user(api: ApiClient, name: str = "Ada") -> str:
    response = api.post("/users", {"name": name, "email": f"{name.lower()}@example.com"})
    assert response.status == 201, response
    return str(response.body["user_id"])


def stock(api: ApiClient, product_id: str, quantity: int, price: float = 10.0) -> None:
    response = api.put(f"/inventory/{product_id}", {"quantity": quantity, "price": price})
    assert response.status == 200, response


def order(api: ApiClient, user_id: str, lines: dict[str, int]) -> str:
    body: dict[str, Any] = {
        "user_id": user_id,
        "items": [{"product_id": product_id, "quantity": quantity} for product_id, quantity in lines.items()],
    }
    response = api.post("/orders", body)
    assert response.status == 202, response
    return str(response.body["order_id"])


def quantity(api: ApiClient, product_id: str) -> int:
    return int(api.get(f"/inventory/{product_id}").body["quantity"])
