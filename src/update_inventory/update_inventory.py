"""UpdateInventoryFunction (workflow task): reserves the order's stock in one conditional
transaction with the order itself (DONE); OUT_OF_STOCK, changing nothing, when a line cannot be
served, and ENDED when the order was cancelled. Idempotent."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.models import Reservation
from orders_domain.observability import logger
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.saga import reserve_stock
from orders_domain.settings import StockReservation

settings = StockReservation.from_environment()
inventory = InventoryRepository(settings.inventory_table)
orders = OrdersRepository(settings.orders_table)


@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = Reservation.model_validate(event)
    result = reserve_stock(request.order_id, request.items, request.reserved_at, orders, inventory)
    logger.info("reservation", outcome=result.outcome, detail=result.message)
    return result.model_dump(mode="json")
