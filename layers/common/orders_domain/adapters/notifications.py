"""Customer notifications, published to an SNS topic that email, SMS or app endpoints subscribe to."""

import json

from orders_domain.adapters import aws_clients
from orders_domain.models import Order


class OrderNotifications:
    def __init__(self, topic_arn: str) -> None:
        self.topic_arn = topic_arn

    def order_received(self, order: Order) -> None:
        aws_clients.sns().publish(
            TopicArn=self.topic_arn,
            Subject="Order received",
            Message=json.dumps(
                {"order_id": order.order_id, "user_id": order.user_id, "items": order.model_dump(mode="json")["items"]}
            ),
            MessageAttributes={
                "event_type": {"DataType": "String", "StringValue": "ORDER_RECEIVED"},
                "order_id": {"DataType": "String", "StringValue": order.order_id},
            },
        )
