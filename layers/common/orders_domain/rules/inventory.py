"""Stock levels and prices."""

from orders_domain.errors import NotFoundError
from orders_domain.models import StockItem, StockUpdate
from orders_domain.persistence.inventory import InventoryRepository


def set_stock(inventory: InventoryRepository, product_id: str, stock: StockUpdate) -> StockItem:
    return inventory.put(product_id, stock)


def find_stock(inventory: InventoryRepository, product_id: str) -> StockItem:
    item = inventory.get(product_id)
    if item is None:
        raise NotFoundError(f"product {product_id} not found")
    return item
