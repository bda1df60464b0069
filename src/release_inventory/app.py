"""ReleaseInventoryFunction (workflow compensation): gives back the stock that an order reserved
when the workflow fails after the reservation. Idempotent: a second call finds nothing to release."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.models import OrderRef
from orders_domain.observability import logger
from orders_domain.repositories import InventoryRepository
from orders_domain.settings import get_settings

inventory = InventoryRepository(get_settings().inventory_table)


@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = OrderRef.model_validate(event)
    released = inventory.release(request.order_id)
    logger.info("stock released" if released else "no reservation to release")
    return {"order_id": request.order_id, "released": released}
