"""PriceQuoteFunction (quote workflow task): the cart's lines with the products the workflow read,
priced by the pricing module that prices orders; returns the 200 response with the quote."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import TypeAdapter

from http_bodies.quotes import QuoteLineRead, price_quote
from orders_domain.observability import logger
from orders_domain.settings import ApprovalThreshold

settings = ApprovalThreshold.from_environment()
lines_read = TypeAdapter(list[QuoteLineRead])


@logger.inject_lambda_context(correlation_id_path="requestId")
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    lines = lines_read.validate_python(event["items"])
    return price_quote(lines, settings.approval_threshold).model_dump(mode="json")
