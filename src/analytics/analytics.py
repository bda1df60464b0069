"""AnalyticsFunction: OrderCreated events from the FIFO AnalyticsQueue → per-day order counts,
items and value, each order counted once.

Counters are commutative, so a bad message must not hold back the rest of its batch: each message
succeeds or fails alone (partial batch response) and a poison message ends in the queue's DLQ.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from orders_domain.models import Order
from orders_domain.observability import logger
from orders_domain.persistence.analytics import AnalyticsRepository
from orders_domain.persistence.inventory import InventoryRepository
from orders_domain.rules.orders import count_order
from orders_domain.settings import InventoryTable, TableName


class AnalyticsSettings(InventoryTable):
    analytics_table: TableName = Field(alias="ANALYTICS_TABLE")


settings = AnalyticsSettings.from_environment()
analytics = AnalyticsRepository(settings.analytics_table)
inventory = InventoryRepository(settings.inventory_table)
processor = BatchProcessor(event_type=EventType.SQS)


def count(record: SQSRecord) -> None:
    order = Order.model_validate(record.json_body["detail"])
    counted = count_order(analytics, inventory, order)
    logger.info("order counted" if counted else "order counted before", order_id=order.order_id)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=count, processor=processor, context=context)
