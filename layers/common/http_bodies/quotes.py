"""Quotes: a cart priced for staff without reserving anything. The quote workflow reads the body
through `read_quote_request` (nothing reads it before), fetches each product's item itself, and
prices the cart through `price_quote`, which answers with the HTTP response the API returns."""

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from http_bodies.problems import NOT_JSON, error_body, invalid_body, parse_json_body
from orders_domain.models import Line, QuoteRequest, Record
from orders_domain.rules.pricing import quote


class HttpResponse(Record):
    """What the workflow ends with and API Gateway's response template prints: the body already a
    JSON string (a mapping template cannot serialize a parsed object)."""

    statusCode: int  # noqa: N815 - the name API Gateway's templates read
    body: str


class QuoteLineRead(Line):
    """One line of the cart with the result of the workflow's GetItem for its product (`Item`
    absent when there is no such product)."""

    stock: dict[str, Any]


class CheckedQuoteRequest(Record):
    """The validation task's answer: the cart's lines, or the response that refuses it."""

    valid: bool
    items: list[dict[str, Any]] | None = None
    response: HttpResponse | None = None


def _response(status: int, body: BaseModel | dict[str, Any]) -> HttpResponse:
    text = body.model_dump_json(exclude_none=True) if isinstance(body, BaseModel) else json.dumps(body)
    return HttpResponse(statusCode=status, body=text)


def read_quote_request(body: str | None) -> CheckedQuoteRequest:
    """The body as `POST /orders` validates its items: 400 when it is not JSON, 422 naming each
    problem (the same locations and messages as the API functions' validation)."""
    try:
        parsed = parse_json_body(body) if body else None
    except json.JSONDecodeError:
        return _refused(400, error_body(NOT_JSON))
    if parsed is None:  # no body, or `null`: the API functions' validation says the same
        return _refused(422, invalid_body([{"loc": ("body",), "msg": "Field required"}]))
    try:
        # from_attributes: a body that is not an object gets the API functions' message for it.
        request = QuoteRequest.model_validate(parsed, from_attributes=True)
    except PydanticValidationError as error:
        problems = [{"loc": ("body", *problem["loc"]), "msg": problem["msg"]} for problem in error.errors()]
        return _refused(422, invalid_body(problems))
    return CheckedQuoteRequest(valid=True, items=[line.model_dump() for line in request.items])


def _refused(status: int, body: dict[str, Any]) -> CheckedQuoteRequest:
    return CheckedQuoteRequest(valid=False, response=_response(status, body))


def price_quote(lines: Iterable[QuoteLineRead], approval_threshold: Decimal) -> HttpResponse:
    """200 with the priced cart (see `pricing.quote`)."""
    # Imported here: the persistence module loads boto3, which only this step of the quote needs
    # (ValidateQuoteFunction's cold start would pay for it otherwise).
    from orders_domain.persistence.inventory import InventoryRepository  # noqa: PLC0415

    lines = list(lines)
    stock = {
        line.product_id: InventoryRepository.stock_item(line.stock["Item"]) for line in lines if "Item" in line.stock
    }
    return _response(200, quote(lines, stock, approval_threshold))
