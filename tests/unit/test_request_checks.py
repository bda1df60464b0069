"""The API's checks run where Powertools runs its request validation: first (src/api/request_checks.py,
the one module that relies on Powertools internals). On a bare resolver, so that an upgrade of
Powertools that moves or renames those internals fails here, by name, before any route test."""

import importlib.util
import json
from pathlib import Path

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType
from pydantic import BaseModel

SOURCE = Path(__file__).parents[2] / "src/api/request_checks.py"
SECURED = [{"bearerAuth": []}]


class RefusedError(Exception):
    pass


class Stock(BaseModel):
    quantity: int


def load_request_checks():
    spec = importlib.util.spec_from_file_location("request_checks_under_test", SOURCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def api():
    """A validating resolver with the checks: a secured route with a body, a public one, and a
    secured route without a body; `asked` counts the calls of `authorize`, which refuses everyone."""
    app = APIGatewayRestResolver(enable_validation=True)
    asked = []

    def authorize():
        asked.append(app.current_event.path)
        raise RefusedError

    load_request_checks().check_before_validation(app, authorize)

    @app.put("/stock", security=SECURED)
    def put_stock(stock: Stock) -> dict:
        return stock.model_dump()

    @app.put("/public-stock")
    def put_public_stock(stock: Stock) -> dict:
        return stock.model_dump()

    @app.exception_handler(RefusedError)
    def refused(_: RefusedError) -> Response:
        return Response(401, "application/json", json.dumps({"message": "Unauthorized"}))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported(_: RequestUnsupportedContentType) -> Response:
        return Response(415, "application/json", json.dumps({"message": "not JSON"}))

    def call(path, body, content_type="application/json"):
        event = {
            "resource": path,
            "path": path,
            "httpMethod": "PUT",
            "headers": {"Content-Type": content_type} if content_type else {},
            "multiValueHeaders": {},
            "queryStringParameters": None,
            "multiValueQueryStringParameters": None,
            "pathParameters": None,
            "requestContext": {"httpMethod": "PUT", "path": path, "resourcePath": path, "stage": "dev"},
            "body": body,
            "isBase64Encoded": False,
        }
        response = app.resolve(event, {})
        return response["statusCode"], json.loads(response["body"])

    return call, asked


def test_an_unauthenticated_request_with_an_invalid_body_is_refused_before_it_is_validated(api):
    call, asked = api

    assert call("/stock", json.dumps({"quantity": "many", "extra": 1})) == (401, {"message": "Unauthorized"})
    assert call("/stock", "not json at all") == (401, {"message": "Unauthorized"})
    assert asked == ["/stock", "/stock"]


def test_a_route_without_a_token_is_validated_without_asking_who_calls(api):
    call, asked = api

    status, body = call("/public-stock", json.dumps({"quantity": "many"}))
    ok = call("/public-stock", json.dumps({"quantity": 3}), content_type=None)  # no Content-Type: read as JSON

    assert status == 422
    assert [error["loc"] for error in body["detail"]] == [["body", "quantity"]]
    assert ok == (200, {"quantity": 3})
    assert asked == []


def test_a_body_that_is_not_sent_as_json_is_415_before_powertools_parses_it(api):
    call, _ = api

    form = call("/public-stock", "quantity=3", content_type="application/x-www-form-urlencoded")
    look_alike = call("/public-stock", json.dumps({"quantity": 3}), content_type="application/jsonp")
    with_charset = call("/public-stock", json.dumps({"quantity": 3}), content_type="application/json; charset=utf-8")

    assert form == look_alike == (415, {"message": "not JSON"})
    assert with_charset == (200, {"quantity": 3})
