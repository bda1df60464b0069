"""/inventory"""

from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import Router

from orders_domain.inventory import find_stock, set_stock
from orders_domain.models import Identifier, StockUpdate
from orders_domain.repositories import InventoryRepository
from orders_domain.settings import get_settings

router = Router()
inventory = InventoryRepository(get_settings().inventory_table)


@router.put("/inventory/<product_id>")
def put_stock(product_id: Identifier, stock: StockUpdate) -> dict[str, Any]:
    return set_stock(inventory, product_id, stock).model_dump(mode="json")


@router.get("/inventory/<product_id>")
def get_stock(product_id: Identifier) -> dict[str, Any]:
    return find_stock(inventory, product_id).model_dump(mode="json")
