"""POST /quotes is served by API Gateway and the quote workflow (template.yaml: the back office's
DefinitionBody; statemachine/quote_workflow.asl.json), never by this function. This router only
documents it, from the models that the workflow's tasks validate and answer with, so the document
the back office serves describes every route; the function never serves it (`configure`)."""

from typing import Annotated

from api_docs import CART, request_example
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from http_api import DocumentedRoutes

from orders_domain.models import Quote, QuoteRequest

served_by_gateway = Router()
quoting = DocumentedRoutes(served_by_gateway, tag="quotes", audience="staff")


@quoting.post(
    "/quotes",
    Quote,
    400,
    413,
    415,
    429,
    500,
    504,
    invalid=("body.items.0.quantity", "Input should be less than or equal to 1000"),
)
def quote(request: Annotated[QuoteRequest, Body(openapi_examples=request_example("A cart", {"items": CART}))]) -> Quote:
    """Price a cart

    Each line at today's price, whether it is in stock, the total, and whether an order of this cart
    would wait for staff approval. Nothing is reserved. Answered by the quote workflow (Express)
    through API Gateway, without a function in front."""
    raise NotImplementedError("POST /quotes is answered by the quote workflow, through API Gateway")
