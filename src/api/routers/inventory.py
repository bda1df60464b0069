"""Products and stock: customers read a product, staff set and read stock and prices."""

from typing import Annotated, Any

from api_docs import request_example
from api_settings import api_tables
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from http_api import DocumentedRoutes

from orders_domain.models import Identifier, StockItem, StockUpdate
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.rules.inventory import find_stock, set_stock

storefront = Router()
back_office = Router()
products = DocumentedRoutes(storefront, tag="products", audience="anyone")
stock_levels = DocumentedRoutes(back_office, tag="inventory", audience="staff")
inventory = InventoryRepository(api_tables().inventory_table)


@products.get("/products/<product_id>", StockItem, 404, missing="product widget-9")
def get_product(product_id: Identifier) -> dict[str, Any]:
    """Read a product

    The product's price and the quantity in stock. Public: no token needed."""
    return find_stock(inventory, product_id).model_dump(mode="json")


@stock_levels.put(
    "/inventory/<product_id>",
    StockItem,
    400,
    404,
    415,
    missing="product widget-9",
    invalid=("body.quantity", "Input should be greater than or equal to 0"),
)
def put_stock(
    product_id: Identifier,
    stock: Annotated[
        StockUpdate, Body(openapi_examples=request_example("100 in stock at 25.00", {"quantity": 100, "price": 25}))
    ],
) -> dict[str, Any]:
    """Set a product's stock and price

    Creates the product, or replaces its quantity in stock and its price (at most two decimals)."""
    return set_stock(inventory, product_id, stock).model_dump(mode="json")


@stock_levels.get("/inventory/<product_id>", StockItem, 404, missing="product widget-9")
def get_stock(product_id: Identifier) -> dict[str, Any]:
    """Read a product's stock and price

    The quantity in stock and the price, as customers see them."""
    return find_stock(inventory, product_id).model_dump(mode="json")
