"""The back office's list of every order over the all-orders index's day shards: oldest first
across days (gaps, midnight), every order exactly once whatever the page size, each page's queries
bounded, and cursors that name a shard checked like any other."""

import sys
from datetime import UTC, date, timedelta

import pytest

from support import seed
from support.aws import table_items
from support.pages import decoded, encoded, every_page, reencoded

NOT_A_CURSOR = {"message": "next is not a cursor of this list"}
TODAY = date.min  # the day the test's table was made: the list's first day (set by `table_day`)


@pytest.fixture(autouse=True)
def table_day(stack, monkeypatch):
    """Read from the table as the product reads it, not from the clock: a run that crosses midnight
    (or imported this module the day before) must agree with it on which day is the first."""
    created = stack.client("dynamodb").describe_table(TableName=stack.ref("OrdersTable"))["Table"]["CreationDateTime"]
    monkeypatch.setattr(sys.modules[__name__], "TODAY", created.astimezone(UTC).date())


def day(offset: int) -> date:
    return TODAY + timedelta(days=offset)


def at(offset: int, time_of_day: str) -> str:
    return f"{day(offset).isoformat()}T{time_of_day}Z"


@pytest.fixture
def clocks(storefront, back_office, monkeypatch):
    """Set when the storefront stores an order, and which day the back office's list takes for today."""

    def placed_at(created_at: str) -> None:
        monkeypatch.setattr(storefront.function.module("orders_domain.rules.orders"), "utc_now", lambda: created_at)

    def today_is(offset: int) -> None:
        monkeypatch.setattr(
            back_office.function.module("orders_domain.rules.listing"), "utc_now", lambda: at(offset, "12:00:00.000")
        )

    return placed_at, today_is


@pytest.fixture
def orders_over_two_weeks(storefront, back_office, clocks):
    """Orders on the table's first day, on the next two (one made at 23:59:59.999, one at midnight
    exactly), none for the ten days after, two on the 13th day; the list is read on the 14th."""
    placed_at, today_is = clocks
    seed.stock(back_office, "widget-1", 100)
    times = [
        at(0, "12:00:00.000"),
        at(1, "08:00:00.000"),
        at(1, "23:59:59.999"),
        at(2, "00:00:00.000"),
        at(13, "10:00:00.000"),
        at(13, "10:00:00.001"),
    ]
    placed = []
    for created_at in times:
        placed_at(created_at)
        placed.append(seed.order(storefront, {"widget-1": 1}))
    today_is(14)
    return placed


@pytest.fixture
def back_office_requests(back_office):
    """The names of the DynamoDB requests the back office sends, from when the test asks for them."""
    sent: list[str] = []

    def record(model, **_):
        sent.append(model.name)

    def start() -> list[str]:
        back_office.function.module("orders_domain.adapters.aws_clients").dynamodb().meta.events.register(
            "before-call.dynamodb", record
        )
        return sent

    yield start
    back_office.function.module("orders_domain.adapters.aws_clients").dynamodb().meta.events.unregister(
        "before-call.dynamodb", record
    )


def test_every_order_is_listed_once_oldest_first_across_days_gaps_and_midnight(back_office, orders_over_two_weeks):
    for limit in (1, 2, 3, 5, 6, 20, 100):
        pages = every_page(back_office, limit)

        assert [order_id for page in pages for order_id in page] == orders_over_two_weeks, limit
        assert all(len(page) <= limit for page in pages)
    # Limit 2: the day-0 order and the first of day 1 share a page; the 8 shards a page may query
    # end the third page inside the gap (empty, with a `next`); the last query finds day 13's end.
    assert every_page(back_office, 2) == [
        orders_over_two_weeks[0:2],
        orders_over_two_weeks[2:4],
        [],
        orders_over_two_weeks[4:6],
        [],
    ]


def test_a_page_queries_at_most_8_shards_and_one_within_a_day(back_office, back_office_requests, orders_over_two_weeks):
    first = back_office.get("/orders", query={"limit": "100"}).body  # the table's first day is read once
    sent = back_office_requests()

    again = back_office.get("/orders", query={"limit": "100"}).body
    assert again == first
    assert sent == ["Query"] * 8  # days 0 to 7
    assert [order["order_id"] for order in first["items"]] == orders_over_two_weeks[:4]
    assert decoded(first["next"]) == {"listing": f"ORDER#{day(8).isoformat()}"}

    sent.clear()
    rest = back_office.get("/orders", query={"limit": "100", "next": first["next"]}).body
    assert [order["order_id"] for order in rest["items"]] == orders_over_two_weeks[4:]
    assert rest["next"] is None
    assert sent == ["Query"] * 7  # days 8 to 14

    sent.clear()
    within_day_1 = back_office.get(
        "/orders", query={"limit": "1", "next": reencoded(first["next"], listing=f"ORDER#{day(1).isoformat()}")}
    )
    assert [order["order_id"] for order in within_day_1.body["items"]] == orders_over_two_weeks[1:2]
    assert sent == ["Query"]


def test_the_all_orders_index_is_keyed_by_the_creation_day_never_a_constant(sam_template, stack, orders_over_two_weeks):
    index = next(
        index
        for index in sam_template.properties("OrdersTable")["GlobalSecondaryIndexes"]
        if index["IndexName"] == "by-creation"
    )
    partition_key = next(key["AttributeName"] for key in index["KeySchema"] if key["KeyType"] == "HASH")
    items = table_items(stack, "OrdersTable")

    assert {item[partition_key] for item in items} == {f"ORDER#{day(n).isoformat()}" for n in (0, 1, 2, 13)}
    assert all(item[partition_key] == f"ORDER#{item['created_at'][:10]}" for item in items)


def test_a_cursor_that_names_no_shard_or_another_days_key_is_400(back_office, orders_over_two_weeks):
    within_day_1 = back_office.get("/orders", query={"limit": "2"}).body["next"]
    shard = decoded(within_day_1)["listing"]
    tampered = [
        reencoded(within_day_1, listing="ORDER"),  # the constant of the unsharded index
        reencoded(within_day_1, listing=f"ORDER#{day(2).isoformat()}"),  # a key of day 1 in day 2's shard
        reencoded(within_day_1, created_at=at(2, "00:00:00.000")),
        reencoded(within_day_1, listing=7),
        encoded({"listing": "ORDER#2026-02-30"}),
        encoded({"listing": "ORDER#2026-1-5"}),
        encoded({"listing": shard + "x"}),
        encoded({"listing": "ORDER#" + "2026-12-05"[::-1]}),
        encoded({"listing": shard, "extra": "field"}),
        encoded({"day": day(1).isoformat()}),
    ]
    for bad in tampered:
        response = back_office.get("/orders", query={"next": bad})

        assert (response.status, response.body) == (400, NOT_A_CURSOR), decoded(bad)
    # A cursor that names a day lists from that day (and its 8 shards end in the gap).
    from_day_2 = back_office.get("/orders", query={"next": encoded({"listing": f"ORDER#{day(2).isoformat()}"})})
    assert [order["order_id"] for order in from_day_2.body["items"]] == orders_over_two_weeks[3:4]
    assert decoded(from_day_2.body["next"]) == {"listing": f"ORDER#{day(10).isoformat()}"}
