"""The OpenAPI documents the APIs serve: public, equal to the committed copies in docs/openapi/, and
accurate (real success codes, every error status with the body the API returns, typed bounded bodies)."""

import json
import os
import re
import subprocess
import sys
from urllib.parse import urljoin

import pytest
from jsonschema import Draft202012Validator

from local_stack.cloudformation.template import PROJECT_ROOT
from support.openapi import APIS, served_document, served_text

TAGS = {
    "StorefrontApi": ["products", "orders", "profile"],
    "BackOfficeApi": ["users", "inventory", "imports", "orders", "quotes"],
}


@pytest.fixture
def documents(storefront, back_office):
    return {"StorefrontApi": served_document(storefront), "BackOfficeApi": served_document(back_office)}


def test_the_served_documents_are_the_committed_ones_to_the_byte(storefront, back_office):
    for api, client in (("StorefrontApi", storefront), ("BackOfficeApi", back_office)):
        committed = APIS[api][2]
        assert served_text(client) == committed.read_text(), f"{committed} is stale: run make openapi"


def test_the_documents_and_the_swagger_ui_need_no_token_and_say_what_they_are(storefront, back_office):
    for client in (storefront.as_caller(None), back_office.as_caller(None)):
        document = client.get("/openapi.json")
        assert (document.status, document.headers["Content-Type"]) == (200, "application/json")
        swagger = client.get("/swagger")
        assert (swagger.status, swagger.headers["Content-Type"]) == (200, "text/html; charset=utf-8")
        assert "swagger-ui" in swagger.text.lower()
        # The browser tab names the API whose document the page shows.
        assert f"<title>{document.body['info']['title']}</title>" in swagger.text


def test_the_swagger_ui_shows_the_served_document_where_the_page_is(storefront, back_office):
    """The page loads the document by a URL relative to its own (under a REST API's stage too), and
    inlines no document of its own, so it shows exactly what GET /openapi.json serves."""
    for client in (storefront.as_caller(None), back_office.as_caller(None)):
        page = client.get("/swagger").text
        [spec_url] = re.findall(r'"url": "([^"]+)"', page)
        assert urljoin("https://api.example.com/dev/swagger", spec_url) == "https://api.example.com/dev/openapi.json"
        assert urljoin("http://127.0.0.1:3001/swagger", spec_url) == "http://127.0.0.1:3001/openapi.json"
        assert '"openapi":' not in page
        assert '"paths":' not in page
        assert client.get("/" + spec_url).text == served_text(client).rstrip("\n")


def test_try_it_out_calls_the_api_where_its_document_is_served(documents):
    """`servers` is relative to the document's URL: the stage of a deployed REST API, the root of an
    HTTP API's $default stage or of make dev's ports; Swagger UI drops the trailing slash."""
    for document in documents.values():
        [server] = document["servers"]
        for served_at, root in (
            (
                "https://abc.execute-api.us-east-1.amazonaws.com/dev/openapi.json",
                "https://abc.execute-api.us-east-1.amazonaws.com/dev",
            ),
            (
                "https://abc.execute-api.us-east-1.amazonaws.com/openapi.json",
                "https://abc.execute-api.us-east-1.amazonaws.com",
            ),
            ("http://127.0.0.1:3001/openapi.json", "http://127.0.0.1:3001"),
        ):
            assert urljoin(served_at, server["url"]).rstrip("/") == root


def test_operations_are_grouped_by_resource_and_say_what_they_do(documents):
    for api, document in documents.items():
        assert [tag["name"] for tag in document["tags"]] == TAGS[api]
        assert all(tag["description"] for tag in document["tags"])
        summaries = set()
        for path, methods in document["paths"].items():
            for method, spec in methods.items():
                [tag] = spec["tags"]
                assert tag in TAGS[api], (method, path)
                assert spec["summary"] != f"{method.upper()} {path}", (method, path)
                assert len(spec["description"]) > 40, (method, path)
                summaries.add(spec["summary"])
        assert len(summaries) == sum(len(methods) for methods in document["paths"].values())
    assert operation(documents["StorefrontApi"], "get", "/me")["tags"] == ["profile"]
    assert operation(documents["BackOfficeApi"], "post", "/quotes")["tags"] == ["quotes"]


def test_every_request_body_has_an_example_that_its_schema_accepts(documents):
    bodies = []
    for document in documents.values():
        for methods in document["paths"].values():
            for spec in methods.values():
                if "requestBody" not in spec:
                    continue
                content = spec["requestBody"]["content"]["application/json"]
                schema = Draft202012Validator({**content["schema"], "components": document["components"]})
                [example] = content["examples"].values()
                schema.validate(example["value"])
                bodies.append(content["schema"]["$ref"].rsplit("/", 1)[1])
    assert sorted(bodies) == ["ApprovalDecision", "NewOrder", "NewUser", "QuoteRequest", "StockUpdate"]


def test_every_error_status_has_an_example_of_the_real_error_body(documents):
    not_found = operation(documents["StorefrontApi"], "get", "/products/{product_id}")["responses"]["404"]
    assert not_found["content"]["application/json"]["examples"]["404"]["value"] == {
        "message": "product widget-9 not found"
    }
    for document in documents.values():
        assert "HTTPValidationError" not in json.dumps(document)
        for path, methods in document["paths"].items():
            for method, spec in methods.items():
                for status, response in spec["responses"].items():
                    if int(status) < 400:
                        continue
                    [example] = response["content"]["application/json"]["examples"].values()
                    body = example["value"]
                    assert isinstance(body["message"], str), (method, path, status)
                    assert body["message"], (method, path, status)
                    if status == "422":
                        assert set(body) == {"message", "details"}
                        assert (
                            body["message"]
                            == f"invalid request: {body['details'][0]['location']}: " + body["details"][0]["message"]
                        )
                    else:
                        assert set(body) == {"message"}, (method, path, status)


def operation(document, method, path):
    return document["paths"][path][method]


def test_success_codes_are_the_ones_the_api_answers(documents):
    storefront, back_office = documents["StorefrontApi"], documents["BackOfficeApi"]
    assert set(operation(back_office, "post", "/users")["responses"]) == {
        "201",
        "400",
        "401",
        "403",
        "409",
        "415",
        "422",
    }
    assert "202" in operation(storefront, "post", "/orders")["responses"]
    assert "200" not in operation(storefront, "post", "/orders")["responses"]
    assert operation(storefront, "get", "/products/{product_id}").get("security") is None
    assert operation(storefront, "get", "/me")["security"] == [{"bearerAuth": []}]


def test_every_error_is_documented_with_the_body_the_api_returns(documents):
    for document in documents.values():
        schemas = document["components"]["schemas"]
        assert "HTTPValidationError" not in schemas
        assert schemas["ErrorBody"]["required"] == ["message"]
        assert schemas["ValidationErrorBody"]["required"] == ["message", "details"]
        for path, methods in document["paths"].items():
            for method, spec in methods.items():
                for status, response in spec["responses"].items():
                    if int(status) >= 400:
                        expected = "ValidationErrorBody" if status == "422" else "ErrorBody"
                        ref = response["content"]["application/json"]["schema"]["$ref"]
                        assert ref == f"#/components/schemas/{expected}", (method, path, status)


def test_bodies_are_typed_and_bounded(documents):
    storefront, back_office = documents["StorefrontApi"], documents["BackOfficeApi"]
    price = back_office["components"]["schemas"]["StockItem"]["properties"]["price"]
    assert price == {"maximum": 1000000, "minimum": 0, "multipleOf": 0.01, "title": "Price", "type": "number"}
    line = storefront["components"]["schemas"]["OrderLine"]["properties"]["quantity"]
    assert (line["minimum"], line["maximum"], line["type"]) == (1, 1000, "integer")
    new_order = storefront["components"]["schemas"]["NewOrder"]
    assert set(new_order["required"]) == {"items", "payment_method"}
    assert "user_id" not in new_order["properties"]
    assert new_order["additionalProperties"] is False
    page = operation(storefront, "get", "/orders")["responses"]["200"]["content"]["application/json"]["schema"]
    assert page["$ref"] == "#/components/schemas/Page_Order_"
    limits = {p["name"]: p["schema"] for p in operation(storefront, "get", "/orders")["parameters"]}
    assert (limits["limit"]["minimum"], limits["limit"]["maximum"], limits["limit"]["default"]) == (1, 100, 20)
    assert json.dumps(back_office).count('"bearerAuth"') >= 7


def test_the_documents_are_built_only_when_asked_for():
    """A cold start that serves any other route does not load Powertools' OpenAPI models or the
    Swagger UI (about 0.1 s of CPU at every cold start): only GET /openapi.json and /swagger do."""
    api = PROJECT_ROOT / "src" / "api"
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, storefront, back_office; print(' '.join(sorted(sys.modules)))"],
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(api), str(PROJECT_ROOT / "layers" / "common")]),
            # What the two functions' settings require at import (api_settings.py).
            **{
                name: "cold"
                for name in ("USERS_TABLE", "INVENTORY_TABLE", "ORDERS_TABLE", "IDEMPOTENCY_TABLE", "IMPORTS_TABLE")
            },
            **{"IMPORTS_BUCKET": "cold", "USER_POOL_ID": "cold", "CORS_ALLOW_ORIGIN": "*"},
            "AWS_DEFAULT_REGION": "us-east-1",
        },
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "storefront" in loaded
    assert "back_office" in loaded
    assert "aws_lambda_powertools.event_handler.openapi.models" not in loaded
    assert "aws_lambda_powertools.event_handler.openapi.swagger_ui" not in loaded
