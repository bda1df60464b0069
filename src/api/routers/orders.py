"""/orders"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)

from orders_domain import aws
from orders_domain.models import Identifier, NewOrder
from orders_domain.observability import metrics
from orders_domain.orders import find_order, new_order_id, place_order
from orders_domain.repositories import OrdersRepository
from orders_domain.settings import get_settings

router = Router()
settings = get_settings()
orders = OrdersRepository(settings.orders_table)

# Keyed per user, so two clients that pick the same key never meet; the body is checked so that
# a reused key with another order is refused instead of answered with the first order.
idempotency_config = IdempotencyConfig(
    event_key_jmespath="[user_id, idempotency_key]",
    payload_validation_jmespath="order",
    expires_after_seconds=settings.idempotency_ttl_seconds,
)
idempotency_store = DynamoDBPersistenceLayer(
    table_name=settings.require("idempotency_table"), boto3_client=aws.dynamodb()
)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)]


def accept_order(new_order: NewOrder, idempotency_key: str | None) -> dict[str, str]:
    order = place_order(orders, new_order, new_order_id(new_order.user_id, idempotency_key))
    metrics.add_metric(name="OrderCreated", unit=MetricUnit.Count, value=1)
    return {"order_id": order.order_id, "status": order.status}


@idempotent_function(data_keyword_argument="submission", config=idempotency_config, persistence_store=idempotency_store)
def accept_order_once(submission: dict[str, Any]) -> dict[str, str]:
    return accept_order(NewOrder.model_validate(submission["order"]), submission["idempotency_key"])


@router.post("/orders")
def create_order(new_order: NewOrder, idempotency_key: IdempotencyKey = None) -> tuple[dict[str, str], int]:
    if idempotency_key is None:
        return accept_order(new_order, None), 202
    submission = {
        "user_id": new_order.user_id,
        "idempotency_key": idempotency_key,
        "order": new_order.model_dump(mode="json"),
    }
    return accept_order_once(submission=submission), 202


@router.get("/orders/<order_id>")
def get_order(order_id: Identifier) -> dict[str, Any]:
    return find_order(orders, order_id).model_dump(mode="json", exclude_none=True)
