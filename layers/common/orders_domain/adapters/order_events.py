"""OrderCreated: the integration event other parts of the system subscribe to."""

import json
from typing import TYPE_CHECKING

from orders_domain.adapters import aws_clients
from orders_domain.models import Order

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

ORDER_CREATED_SOURCE = "orders.api"
ORDER_CREATED_DETAIL_TYPE = "OrderCreated"


class EventPublishError(Exception):
    """EventBridge refused an entry; raised so that the caller's retry policy applies."""


class OrderEvents:
    def __init__(self, event_bus_name: str) -> None:
        self.event_bus_name = event_bus_name

    def order_created(self, order: Order) -> None:
        entry: PutEventsRequestEntryTypeDef = {
            "EventBusName": self.event_bus_name,
            "Source": ORDER_CREATED_SOURCE,
            "DetailType": ORDER_CREATED_DETAIL_TYPE,
            "Detail": json.dumps(order.model_dump(mode="json", exclude_none=True)),
        }
        response = aws_clients.events().put_events(Entries=[entry])
        if response.get("FailedEntryCount"):
            failure = response["Entries"][0]
            raise EventPublishError(f"{failure.get('ErrorCode')}: {failure.get('ErrorMessage')}")
