"""PUT /inventory/{product_id} and GET /inventory/{product_id}."""

from decimal import Decimal

import pytest

from support.aws import table_items


def test_put_stock_returns_the_item_and_stores_it(api, stack):
    response = api.put("/inventory/widget-1", {"quantity": 5, "price": 19.99})

    assert response.status == 200
    assert response.body == {"product_id": "widget-1", "quantity": 5, "price": 19.99}
    assert table_items(stack, "InventoryTable") == [
        {"product_id": "widget-1", "quantity": 5, "price": Decimal("19.99")}
    ]


def test_get_stock_returns_what_was_put_and_put_replaces_it(api):
    api.put("/inventory/widget-1", {"quantity": 5, "price": 19.99})
    api.put("/inventory/widget-1", {"quantity": 0, "price": 7})

    response = api.get("/inventory/widget-1")

    assert response.status == 200
    assert response.body == {"product_id": "widget-1", "quantity": 0, "price": 7}


def test_unknown_product_is_404(api):
    response = api.get("/inventory/nothing-here")

    assert response.status == 404
    assert response.body == {"message": "product nothing-here not found"}


@pytest.mark.parametrize(
    "body",
    [
        {"quantity": -1, "price": 1},
        {"quantity": 1, "price": -0.01},
        {"quantity": 1.5, "price": 1},
        {"quantity": "5", "price": 1},
        {"quantity": True, "price": 1},
        {"quantity": 5, "price": "1.00"},
        {"quantity": 5, "price": 1.001},
        {"quantity": 10**12, "price": 1},
        {"quantity": 5, "price": 10**9},
        {"quantity": 5},
        {"price": 5},
        {"quantity": 5, "price": 1, "name": "extra"},
    ],
)
def test_invalid_stock_is_422_and_changes_nothing(api, stack, body):
    api.put("/inventory/widget-1", {"quantity": 5, "price": 2.5})

    response = api.put("/inventory/widget-1", body)

    assert response.status == 422
    assert response.body["details"]
    assert table_items(stack, "InventoryTable") == [{"product_id": "widget-1", "quantity": 5, "price": Decimal("2.5")}]


# '#' separates reservation markers, kept in the same table: no product id may contain it.
@pytest.mark.parametrize("product_id", ["p" * 129, "with space", "reservation%23x", "reservation#x"])
def test_malformed_product_id_is_4xx_and_stores_nothing(api, stack, product_id):
    response = api.put(f"/inventory/{product_id}", {"quantity": 1, "price": 1})

    assert response.status in (404, 422)
    assert table_items(stack, "InventoryTable") == []
