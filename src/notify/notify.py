"""NotifyFunction: OrderCreated (EventBridge, invoked asynchronously) → an "order received"
notification on the customer notifications topic, once per order (Powertools idempotency)."""

from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from orders_domain.adapters import aws_clients
from orders_domain.adapters.notifications import OrderNotifications
from orders_domain.models import Order
from orders_domain.observability import logger
from orders_domain.settings import Arn, IdempotencyTable


class NotifySettings(IdempotencyTable):
    order_received_topic_arn: Arn = Field(alias="ORDER_RECEIVED_TOPIC_ARN")


settings = NotifySettings.from_environment()
notifications = OrderNotifications(settings.order_received_topic_arn)
idempotency_store = DynamoDBPersistenceLayer(table_name=settings.idempotency_table, boto3_client=aws_clients.dynamodb())


@logger.inject_lambda_context(correlation_id_path="detail.order_id")
@idempotent(
    config=IdempotencyConfig(event_key_jmespath="detail.order_id", raise_on_no_idempotency_key=True),
    persistence_store=idempotency_store,
)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    order = Order.model_validate(event["detail"])
    notifications.order_received(order)
    logger.info("order received notification sent")
    return {"order_id": order.order_id, "notified": True}
