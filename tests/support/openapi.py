"""python -m support.openapi: write the OpenAPI documents that the two API functions serve to
docs/openapi/ (make openapi). tests/unit/test_openapi.py fails when the committed copies drift."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws

from local_stack.deploy import deploy
from local_stack.functions import FunctionInstance
from local_stack.template import PROJECT_ROOT, load
from support.api import ApiClient, route_templates

DOCS = PROJECT_ROOT / "docs" / "openapi"
# API logical id → (serving function, HTTP API?, committed copy)
APIS = {
    "StorefrontApi": ("StorefrontFunction", True, DOCS / "storefront.json"),
    "BackOfficeApi": ("BackOfficeFunction", False, DOCS / "back-office.json"),
}


def served_document(client: ApiClient) -> dict[str, Any]:
    response = client.as_caller(None).get("/openapi.json")
    assert response.status == 200, response
    document: dict[str, Any] = response.body
    return document


def as_text(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> None:
    with mock_aws():
        stack = deploy(load(), boto3.session.Session(region_name="us-east-1"))
        for api, (function, http_api, path) in APIS.items():
            client = ApiClient(
                FunctionInstance(stack.functions[function]), route_templates(stack.template, api), http_api
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(as_text(served_document(client)))
            print(f"wrote {path.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
