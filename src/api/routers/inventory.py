"""Products and stock: customers read a product, staff set and read stock and prices."""

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from http_api import documented

from orders_domain.inventory import find_stock, set_stock
from orders_domain.models import Identifier, StockItem, StockUpdate
from orders_domain.repositories import InventoryRepository
from orders_domain.settings import get_settings

storefront = Router()
back_office = Router()
inventory = InventoryRepository(get_settings().inventory_table)


@storefront.get("/products/<product_id>", **documented(200, StockItem, 404, public=True))
def get_product(product_id: Identifier) -> dict[str, Any]:
    return find_stock(inventory, product_id).model_dump(mode="json")


@back_office.put("/inventory/<product_id>", **documented(200, StockItem, 400, 401, 403, 404, 415))
def put_stock(product_id: Identifier, stock: StockUpdate) -> dict[str, Any]:
    return set_stock(inventory, product_id, stock).model_dump(mode="json")


@back_office.get("/inventory/<product_id>", **documented(200, StockItem, 401, 403, 404))
def get_stock(product_id: Identifier) -> dict[str, Any]:
    return find_stock(inventory, product_id).model_dump(mode="json")
