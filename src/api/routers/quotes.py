"""POST /quotes is served by API Gateway and the quote workflow (template.yaml: the back office's
DefinitionBody; statemachine/quote_workflow.asl.json), never by this function. This router only
documents it, from the models that the workflow's tasks validate and answer with, so the document
the back office serves describes every route; the function never serves it (`configure`)."""

from aws_lambda_powertools.event_handler.api_gateway import Router
from http_api import documented

from orders_domain.models import Quote, QuoteRequest

served_by_gateway = Router()


@served_by_gateway.post(
    "/quotes",
    summary="Price a cart now (nothing is reserved); whether an order of it would need approval",
    **documented(200, Quote, 400, 401, 403, 413, 415, 429, 500, 504),
)
def quote(request: QuoteRequest) -> Quote:
    raise NotImplementedError("POST /quotes is answered by the quote workflow, through API Gateway")
