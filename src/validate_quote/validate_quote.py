"""ValidateQuoteFunction (quote workflow task): the raw body that API Gateway passed on, validated
like the items of `POST /orders`; returns the cart's lines, or the 400/422 response refusing it."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from http_bodies.quotes import read_quote_request
from orders_domain.observability import logger


@logger.inject_lambda_context(correlation_id_path="requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return read_quote_request(event.get("body")).model_dump(exclude_none=True)  # JSON types only
