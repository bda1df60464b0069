"""python -m support.openapi: write the OpenAPI documents that the two API functions serve to
docs/openapi/ (make openapi). tests/unit/test_openapi.py fails when the committed copies drift."""

from __future__ import annotations

import json
from typing import Any

import boto3
from moto import mock_aws

from local_stack.cloudformation.deploy import deploy
from local_stack.cloudformation.template import PROJECT_ROOT, load
from local_stack.lambda_runtime.functions import FunctionInstance
from support.api import ApiClient, route_templates

DOCS = PROJECT_ROOT / "docs" / "openapi"
# API logical id → (serving function, HTTP API?, committed copy)
APIS = {
    "StorefrontApi": ("StorefrontFunction", True, DOCS / "storefront.json"),
    "BackOfficeApi": ("BackOfficeFunction", False, DOCS / "back-office.json"),
}


def served_text(client: ApiClient) -> str:
    """The document exactly as the function serves it, with the final newline of a committed file."""
    response = client.as_caller(None).get("/openapi.json")
    assert response.status == 200, response
    return response.text + "\n"


def served_document(client: ApiClient) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(served_text(client))
    return document


def main() -> None:
    with mock_aws():
        stack = deploy(load(), boto3.session.Session(region_name="us-east-1"))
        for api, (function, http_api, path) in APIS.items():
            client = ApiClient(
                FunctionInstance(stack.functions[function]), route_templates(stack.template, api), http_api
            )
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(served_text(client))
            print(f"wrote {path.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
