"""BackOfficeFunction: the staff's REST API (Cognito user-pool authorizer). Every route but the
API's own documents requires membership of the staff group."""

from typing import Any

from api_docs import About
from api_settings import back_office_settings
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, CORSConfig
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from http_api import configure
from identity import staff_of

from http_bodies.problems import parse_json_body
from orders_domain.observability import logger, metrics
from routers import imports, inventory, orders, quotes, users

settings = back_office_settings()
# A REST API's proxy responses carry their own CORS headers (API Gateway adds them only to preflights).
cors = CORSConfig(
    allow_origin=settings.cors_allow_origin,
    allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
    max_age=600,
)
app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body, cors=cors)


def authorize() -> None:
    staff_of(app.current_event)


about = About(
    title="Serverless Orders back office",
    description="What staff use: customers, stock and prices, imports, orders and their approval, quotes. Every "
    "route needs the Cognito ID token of a member of the `staff` group, as `Authorization: Bearer <token>` "
    '(Authorize). Every error is JSON `{"message"}`; a body that breaks the schema is a 422 that adds `details`.',
    tags=("users", "inventory", "imports", "orders", "quotes"),
)
configure(
    app,
    about,
    authorize,
    users.back_office,
    inventory.back_office,
    orders.back_office,
    imports.back_office,
    served_by_gateway=quotes.served_by_gateway,
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
