"""Products and stock: customers read a product, staff set and read stock and prices."""

from typing import Annotated, Any

from api_docs import request_example
from api_settings import api_tables
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from http_api import NOT_AN_ID, documented

from orders_domain.models import Identifier, StockItem, StockUpdate
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.rules.inventory import find_stock, set_stock

storefront = Router()
back_office = Router()
inventory = InventoryRepository(api_tables().inventory_table)


@storefront.get(
    "/products/<product_id>",
    **documented(
        200,
        StockItem,
        404,
        public=True,
        tag="products",
        summary="Read a product",
        description="The product's price and the quantity in stock. Public: no token needed.",
        missing="product widget-9",
        invalid=("path.product_id", NOT_AN_ID),
    ),
)
def get_product(product_id: Identifier) -> dict[str, Any]:
    return find_stock(inventory, product_id).model_dump(mode="json")


@back_office.put(
    "/inventory/<product_id>",
    **documented(
        200,
        StockItem,
        400,
        401,
        403,
        404,
        415,
        tag="inventory",
        summary="Set a product's stock and price",
        description="Creates the product, or replaces its quantity in stock and its price (at most two decimals).",
        missing="product widget-9",
        invalid=("body.quantity", "Input should be greater than or equal to 0"),
    ),
)
def put_stock(
    product_id: Identifier,
    stock: Annotated[
        StockUpdate, Body(openapi_examples=request_example("100 in stock at 25.00", {"quantity": 100, "price": 25}))
    ],
) -> dict[str, Any]:
    return set_stock(inventory, product_id, stock).model_dump(mode="json")


@back_office.get(
    "/inventory/<product_id>",
    **documented(
        200,
        StockItem,
        401,
        403,
        404,
        tag="inventory",
        summary="Read a product's stock and price",
        description="The quantity in stock and the price, as customers see them.",
        missing="product widget-9",
        invalid=("path.product_id", NOT_AN_ID),
    ),
)
def get_stock(product_id: Identifier) -> dict[str, Any]:
    return find_stock(inventory, product_id).model_dump(mode="json")
