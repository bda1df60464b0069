"""The back office's list of every order, oldest first, over the all-orders index's day shards.

The index is partitioned by creation day (`listing` = ORDER#<day>) rather than one constant, so that
no single partition takes every write of every order. A page walks the shards from the cursor's day
(or the table's first day) to today: the `next` of a page is the shard's own last key, or, when a
page ends between shards, the day to start from.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from orders_domain.errors import InvalidCursor
from orders_domain.models import Order, Page, utc_now
from orders_domain.persistence.orders import Cursor, OrdersRepository

# Shards one page may query: a page that meets more empty days than this ends short, with a
# cursor, so that a long gap between orders costs several cheap pages and never one unbounded one.
MAX_SHARDS_PER_PAGE = 8


@cache
def _first_day(orders: OrdersRepository) -> date:
    return orders.created_on()


def _shard_day(listing: object) -> date:
    """The day of a shard named in a cursor (InvalidCursor for anything else)."""
    prefix = OrdersRepository.shard("")
    if isinstance(listing, str) and listing.startswith(prefix):
        try:
            day = date.fromisoformat(listing.removeprefix(prefix))
        except ValueError:
            pass
        else:
            if OrdersRepository.shard(day.isoformat()) == listing:
                return day
    raise InvalidCursor("next is not a cursor of this list")


def _day_cursor(day: date) -> str | None:
    return Cursor.encode({"listing": {"S": OrdersRepository.shard(day.isoformat())}})


def _position(cursor: str) -> tuple[date, str | None]:
    """(The shard to read, the cursor within it: None to read it from its start)."""
    fields = Cursor.fields(cursor)
    if not isinstance(fields, dict):
        raise InvalidCursor("next is not a cursor of this list")
    day = _shard_day(fields.get("listing"))
    if set(fields) == {"listing"}:
        return day, None
    created_at = fields.get("created_at")
    if not isinstance(created_at, str) or created_at[:10] != day.isoformat():
        raise InvalidCursor("next is not a cursor of this list")
    return day, cursor  # the shard's own query checks the rest of its key


def every_order(orders: OrdersRepository, limit: int, cursor: str | None) -> Page[Order]:
    """One page of every order, oldest first: usually one query (a page within one day's shard)."""
    today = date.fromisoformat(utc_now()[:10])
    day, within = _position(cursor) if cursor else (min(_first_day(orders), today), None)
    items: list[Order] = []
    for _ in range(MAX_SHARDS_PER_PAGE):
        if day > today:
            return Page[Order](items=items, next=None)
        shard = ("listing", OrdersRepository.shard(day.isoformat()))
        page = orders.page("by-creation", shard, limit - len(items), within, newest_first=False)
        items += page.items
        if page.next is not None:
            return Page[Order](items=items, next=page.next)
        day, within = day + timedelta(days=1), None
        if len(items) == limit:
            break
    return Page[Order](items=items, next=_day_cursor(day) if day <= today else None)
