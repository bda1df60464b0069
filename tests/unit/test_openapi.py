"""The OpenAPI documents the APIs serve: public, equal to the committed copies in docs/openapi/, and
accurate (real success codes, every error status with the body the API returns, typed bounded bodies)."""

import json

import pytest

from support.openapi import APIS, served_document, served_text


@pytest.fixture
def documents(storefront, back_office):
    return {"StorefrontApi": served_document(storefront), "BackOfficeApi": served_document(back_office)}


def test_the_served_documents_are_the_committed_ones_to_the_byte(storefront, back_office):
    for api, client in (("StorefrontApi", storefront), ("BackOfficeApi", back_office)):
        committed = APIS[api][2]
        assert served_text(client) == committed.read_text(), f"{committed} is stale: run make openapi"


def test_the_documents_and_the_swagger_ui_need_no_token(storefront, back_office):
    for client in (storefront.as_caller(None), back_office.as_caller(None)):
        assert client.get("/openapi.json").status == 200
        swagger = client.get("/swagger")
        assert swagger.status == 200
        assert "swagger-ui" in swagger.text.lower()


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
