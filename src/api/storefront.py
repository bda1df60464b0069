"""StorefrontFunction: the customers' HTTP API (payload 2.0, JWT authorizer). Routes live in
routers/, grouped by resource; the back office shares them where the logic is the same."""

from typing import Any

from api_docs import About
from api_settings import storefront_settings
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from http_api import configure
from identity import caller_of

from http_bodies.problems import parse_json_body
from orders_domain.observability import logger, metrics
from routers import inventory, orders, users

settings = storefront_settings()
app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=parse_json_body)


def authorize() -> None:
    """A customer's ID token. The JWT authorizer has verified the token; it also lets the pool's
    access tokens through, which identify nobody here."""
    caller_of(app.current_event)


about = About(
    title="Serverless Orders storefront",
    description="What customers use: read products, place, follow and cancel their orders, read their profile. "
    "Send the Cognito ID token as `Authorization: Bearer <token>` (Authorize). Every error is JSON "
    '`{"message"}`; a body that breaks the schema is a 422 that adds `details`.',
    tags=("products", "orders", "profile"),
)
configure(app, about, authorize, inventory.storefront, users.storefront, orders.storefront)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    orders.idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
