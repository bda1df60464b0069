"""Paginated lists as a client follows them, and cursors as a client could alter them."""

from __future__ import annotations

import base64
import json
from typing import Any

from support.api import ApiClient


def every_page(client: ApiClient, limit: int, **query: str) -> list[list[str]]:
    """Each page's order ids, following `next` to the end."""
    pages: list[list[str]] = []
    cursor = None
    while True:
        page_query = {**query, "limit": str(limit)} | ({"next": cursor} if cursor else {})
        response = client.get("/orders", query=page_query)
        assert response.status == 200, response.body
        pages.append([order["order_id"] for order in response.body["items"]])
        cursor = response.body["next"]
        if cursor is None:
            return pages
        assert len(pages) < 20, "the cursor never ends"


def decoded(cursor: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def encoded(fields: Any) -> str:
    plain = json.dumps(fields, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")


def reencoded(cursor: str, **changes: Any) -> str:
    """The cursor with some of its fields changed or added."""
    return encoded({**decoded(cursor), **changes})
