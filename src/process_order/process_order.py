"""ProcessOrderFunction: OrderCreated (EventBridge, invoked asynchronously) → the order's workflow.

The execution is named after the order, so a second delivery of the same event starts nothing.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.models import Order
from orders_domain.observability import logger
from orders_domain.persistence.orders import OrdersRepository
from orders_domain.rules.orders import start_processing
from orders_domain.settings import OrdersTable, StateMachine


class ProcessOrderSettings(OrdersTable, StateMachine):
    pass


settings = ProcessOrderSettings.from_environment()
orders = OrdersRepository(settings.orders_table)


@logger.inject_lambda_context(correlation_id_path="detail.order_id")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    order = Order.model_validate(event["detail"])
    started = start_processing(orders, settings.state_machine_arn, order.order_id)
    logger.info("workflow running" if started else "order already processed: nothing started", status=started)
    return {"order_id": order.order_id, "started": started}
