"""Back office PUT /inventory/{product_id} and GET /inventory/{product_id} (staff), and the
storefront's public GET /products/{product_id}."""

from decimal import Decimal

import pytest

from support.aws import table_items


def test_put_stock_returns_the_item_and_stores_it(back_office, stack):
    response = back_office.put("/inventory/widget-1", {"quantity": 5, "price": 19.99})

    assert response.status == 200
    assert response.body == {"product_id": "widget-1", "quantity": 5, "price": 19.99}
    assert table_items(stack, "InventoryTable") == [
        {"product_id": "widget-1", "quantity": 5, "price": Decimal("19.99")}
    ]


def test_get_stock_returns_what_was_put_and_put_replaces_it(back_office):
    back_office.put("/inventory/widget-1", {"quantity": 5, "price": 19.99})
    back_office.put("/inventory/widget-1", {"quantity": 0, "price": 7})

    response = back_office.get("/inventory/widget-1")

    assert response.status == 200
    assert response.body == {"product_id": "widget-1", "quantity": 0, "price": 7}


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
def test_invalid_stock_is_422_and_changes_nothing(back_office, stack, body):
    back_office.put("/inventory/widget-1", {"quantity": 5, "price": 2.5})

    response = back_office.put("/inventory/widget-1", body)

    assert response.status == 422
    assert response.body["details"]
    assert table_items(stack, "InventoryTable") == [{"product_id": "widget-1", "quantity": 5, "price": Decimal("2.5")}]


# '#' separates reservation markers, kept in the same table: no product id may contain it.
@pytest.mark.parametrize("product_id", ["p" * 129, "with space", "reservation%23x", "reservation#x"])
def test_malformed_product_id_is_422_and_stores_nothing(back_office, stack, product_id):
    response = back_office.put(f"/inventory/{product_id}", {"quantity": 1, "price": 1})

    assert response.status == 422
    assert response.body["details"][0]["location"] == "path.product_id"
    assert table_items(stack, "InventoryTable") == []


def test_a_customer_reads_a_product_without_signing_in(back_office, storefront):
    back_office.put("/inventory/widget-1", {"quantity": 5, "price": 19.99})

    response = storefront.as_caller(None).get("/products/widget-1")

    assert response.status == 200
    assert response.body == {"product_id": "widget-1", "quantity": 5, "price": 19.99}
