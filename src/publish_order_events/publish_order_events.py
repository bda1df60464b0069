"""PublishOrderEventsFunction: publishes OrderCreated for every order inserted in the orders table.

Reading the table's stream, rather than publishing from the API, means a stored order is always
announced: a crash between the API's write and its response cannot strand it as PENDING.
"""

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field

from orders_domain.adapters.order_events import EventPublishError, OrderEvents
from orders_domain.models import Order
from orders_domain.observability import logger
from orders_domain.settings import FunctionSettings

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


class PublishOrderEventsSettings(FunctionSettings):
    event_bus_name: str = Field(alias="EVENT_BUS_NAME", min_length=1)


settings = PublishOrderEventsSettings.from_environment()
order_events = OrderEvents(settings.event_bus_name)


def publish(record: DynamoDBRecord) -> None:
    if record.event_name is not DynamoDBRecordEventName.INSERT or record.dynamodb is None:
        return  # the event source mapping already filters on INSERT: an update is not a new order
    order = Order.model_validate(record.dynamodb.new_image)
    try:
        order_events.order_created(order)
    except EventPublishError as error:  # the batch reports the record for a retry, without a word
        logger.warning("OrderCreated not published: the record is retried", order_id=order.order_id, error=str(error))
        raise
    logger.info("OrderCreated published", order_id=order.order_id)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=publish, processor=processor, context=context)
