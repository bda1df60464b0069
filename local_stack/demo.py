"""Demo data for a fresh `make dev`, made through the ordinary APIs as a user would make it by hand:
two accounts (Cognito sign-up and confirmation, so the post-confirmation trigger stores their
profiles), stock and prices through the back office, and three orders through the storefront, which
the workflow takes as far as it can (confirmed, rejected, awaiting approval) before the stack says it
is ready.

The ids are fixed, so the samples in events/ name things that exist: Cognito makes up each user's
`sub`, so the demo accounts' subs are pinned in moto, and an order's id follows from its customer
and its Idempotency-Key (the storefront's rule). Everything is lost when `make dev` stops; the next
start makes it again.
"""

import time
from dataclasses import dataclass
from functools import partial
from typing import Any

import requests
from moto.cognitoidp.models import cognitoidp_backends

from local_stack.cloudformation.deploy import ACCOUNT_ID
from local_stack.cloudformation.template import REGION
from local_stack.token import id_token, local_password


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    sub: str
    staff: bool

    @property
    def password(self) -> str:
        return local_password(self.email)


@dataclass(frozen=True)
class DemoOrder:
    idempotency_key: str
    items: tuple[tuple[str, int], ...]
    outcome: str  # the status the workflow gives it


CUSTOMER = DemoUser("demo.customer@example.com", "Demo Customer", "3f1c2a9e-8d4b-4c1e-9f7a-2b6d5e4c3a21", staff=False)
STAFF = DemoUser("demo.staff@example.com", "Demo Staff", "7d2b9c4e-1a3f-4e6b-8c5d-9e0f1a2b3c4d", staff=True)
PRODUCTS = {"widget-1": (100, "19.99"), "gadget-2": (40, "49.50"), "gizmo-3": (0, "5.00")}  # stock, price
CONFIRMED_ORDER = DemoOrder("demo-order-1", (("widget-1", 2),), "CONFIRMED")
REJECTED_ORDER = DemoOrder("demo-order-2", (("gizmo-3", 1),), "REJECTED")  # gizmo-3 is out of stock
# 25 x 49.50 = 1237.50, above the default ApprovalThreshold (1000): staff may approve or reject it.
AWAITING_ORDER = DemoOrder("demo-order-3", (("gadget-2", 25),), "AWAITING_APPROVAL")
ORDERS = (CONFIRMED_ORDER, REJECTED_ORDER, AWAITING_ORDER)


def seed(outputs: dict[str, Any], timeout: float = 150) -> list[str]:
    """Make the demo data through the running stack; returns the lines that describe it. The first
    order starts each function's first instance: on a busy machine (CI runs several stacks on two
    cores) that took over a minute."""
    tokens = {
        user: id_token(outputs, user.email, user.name, user.staff, partial(_pin_sub, outputs, user))
        for user in (CUSTOMER, STAFF)
    }
    for product_id, (quantity, price) in PRODUCTS.items():
        stock = {"quantity": quantity, "price": float(price)}
        _call("PUT", f"{outputs['BackOfficeApiUrl']}/inventory/{product_id}", tokens[STAFF], stock)
    placed = {}
    for order in ORDERS:
        body = {"items": [{"product_id": p, "quantity": q} for p, q in order.items], "payment_method": "pm_card_visa"}
        url = f"{outputs['StorefrontApiUrl']}/orders"
        placed[order] = _call("POST", url, tokens[CUSTOMER], body, order.idempotency_key)["order_id"]
    deadline = time.monotonic() + timeout
    for order, order_id in placed.items():
        url = f"{outputs['StorefrontApiUrl']}/orders/{order_id}"
        while (status := _call("GET", url, tokens[CUSTOMER])["status"]) != order.outcome:
            if time.monotonic() > deadline:
                raise RuntimeError(f"demo order {order_id} is {status} after {timeout}s, expected {order.outcome}")
            time.sleep(0.1)
    return [
        "Demo data (made again at every start; the samples in events/ name these ids):",
        *(f"  {'staff' if u.staff else 'customer'}: {u.email}  password {u.password}  sub {u.sub}" for u in tokens),
        "  products: " + ", ".join(f"{p} (stock {q}, price {price})" for p, (q, price) in PRODUCTS.items()),
        *(f"  order {order_id} ({order.outcome})" for order, order_id in placed.items()),
    ]


def _pin_sub(outputs: dict[str, Any], user: DemoUser) -> None:
    """Give a new (unconfirmed) demo account its fixed sub, which is also its username in a pool that
    signs in by email, so that the confirmation trigger stores the profile under it."""
    pool = cognitoidp_backends[ACCOUNT_ID][REGION].user_pools[outputs["UserPoolId"]]
    account = pool._get_user(user.email)
    del pool.users[account.username]
    account.id = account.username = user.sub
    account.update_attributes([{"Name": "sub", "Value": user.sub}])
    pool.users[user.sub] = account


def _call(
    method: str, url: str, token: str, body: dict[str, Any] | None = None, idempotency_key: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    response = requests.request(method, url, json=body, headers=headers, timeout=30)
    if not response.ok:
        raise RuntimeError(f"demo data: {method} {url} → {response.status_code} {response.text}")
    return response.json()
