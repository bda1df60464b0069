"""ExecutionWatcherFunction: the order workflow's executions that ended outside its own paths
(FAILED, TIMED_OUT, ABORTED: Step Functions status-change events on the default bus) leave no order
open: refund, release, then FAILED with the cause as reason. Idempotent: an order that already ended
(the workflow's own failure path ends it before failing) is left as it is."""

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.adapters.payment_provider import payment_provider
from orders_domain.models import FailureReason, OrderStatus, Outcome
from orders_domain.observability import logger
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.saga import close_order
from orders_domain.settings import OrderCompensation

settings = OrderCompensation.from_environment()
orders = OrdersRepository(settings.orders_table)
inventory = InventoryRepository(settings.inventory_table)
payments = payment_provider(settings)

REASONS = {
    "FAILED": FailureReason.EXECUTION_FAILED,
    "TIMED_OUT": FailureReason.EXECUTION_TIMED_OUT,
    "ABORTED": FailureReason.EXECUTION_ABORTED,
}


@logger.inject_lambda_context(correlation_id_path="detail.name")
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    order_id, status = event.detail["name"], event.detail["status"]  # executions are named after orders
    outcome = Outcome(status=OrderStatus.FAILED, reason=REASONS[status])
    order = close_order(order_id, outcome, orders, inventory, payments)
    logger.info("execution ended outside the workflow", execution_status=status, order_status=order.status)
    return {"order_id": order_id, "status": order.status, "reason": order.reason}
