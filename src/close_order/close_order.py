"""CloseOrderFunction (workflow task): ends an order that will not be confirmed (REJECTED, FAILED)
as the saga's last step: refund of any charge, stock released, then the terminal status. Idempotent;
an order that already ended (cancelled, decided by staff) is left as it is."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.adapters.payment_provider import payment_provider
from orders_domain.models import OrderOutcome
from orders_domain.observability import logger
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.saga import close_order
from orders_domain.settings import OrderCompensation

settings = OrderCompensation.from_environment()
orders = OrdersRepository(settings.orders_table)
inventory = InventoryRepository(settings.inventory_table)
payments = payment_provider(settings)


@logger.inject_lambda_context(correlation_id_path="order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = OrderOutcome.model_validate(event)
    order = close_order(request.order_id, request.outcome, orders, inventory, payments)
    logger.info("order closed", status=order.status, reason=order.reason, payment_status=order.payment_status)
    return {"order_id": order.order_id, "status": order.status, "reason": order.reason}
