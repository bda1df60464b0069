"""What only GET /openapi.json and GET /swagger need, built when one of them is first asked for:
Powertools' OpenAPI models and schema generation, and the Swagger UI that it bundles, cost a cold
start that no other route should pay."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools.event_handler import openapi
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router

BEARER = "bearerAuth"
# Each resource's tag, in the order the Swagger UI lists them.
TAGS = {
    "products": "What customers may buy: price and stock, no token needed",
    "profile": "The signed-in customer's own profile",
    "orders": "Orders: placed and followed by customers, read and approved by staff",
    "users": "Customer accounts, invited by staff",
    "inventory": "Stock and prices, set by staff",
    "imports": "Bulk imports of stock and prices from a CSV file",
    "quotes": "Prices for a cart, now, without ordering (answered by a workflow through API Gateway)",
}
# Relative to where the document is served (OpenAPI 3.1, "Server Object"): the API's root wherever it
# runs, under a REST API's stage (/dev/openapi.json → /dev), at an HTTP API's $default stage, or
# make dev's ports. The Swagger UI loads the document by its URL, so it resolves this the same way.
# A cart of make dev's demo products, in the examples of POST /orders and POST /quotes.
CART = [{"product_id": "widget-1", "quantity": 2}, {"product_id": "gadget-2", "quantity": 1}]
SERVERS = [{"url": ".", "description": "This API, where this document is served"}]


@dataclass(frozen=True)
class About:
    """What an API's document says of the API itself."""

    title: str
    description: str
    tags: tuple[str, ...]  # of TAGS


def openapi_json(app: ApiGatewayResolver, about: About, served_by_gateway: Router | None = None) -> str:
    """The document of `app`'s routes and of those API Gateway serves itself (`served_by_gateway`),
    without Powertools' default 422 schemas, which these APIs never return (every route documents
    its own 422 body). Deterministic: the committed copies in docs/openapi/ are compared to it."""
    document = _document(app, about)
    schemas = document["components"]["schemas"]  # every route of both APIs has its models
    if served_by_gateway is not None:
        gateway_routes = type(app)(enable_validation=True)
        gateway_routes.include_router(served_by_gateway)
        extra = _document(gateway_routes, about)
        document["paths"].update(extra["paths"])
        schemas.update(extra["components"]["schemas"])
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    return json.dumps(document, indent=2, sort_keys=True)


def _document(app: ApiGatewayResolver, about: About) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer, Server, Tag  # noqa: PLC0415 - see above

    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=about.title,
            version="1.0.0",
            description=about.description,
            tags=[Tag(name=name, description=TAGS[name]) for name in about.tags],
            servers=[Server(**server) for server in SERVERS],
            security_schemes={BEARER: HTTPBearer(bearerFormat="JWT", description="The Cognito ID token")},
        )
    )
    return document


def request_example(summary: str, value: dict[str, Any]) -> Any:
    """A request body's example, for Powertools' `Body(openapi_examples=...)`."""
    return {"example": {"summary": summary, "value": value}}


@cache
def swagger_page(title: str) -> str:
    """Swagger UI (the copy Powertools bundles, inlined: no CDN) showing the document that
    GET /openapi.json serves, loaded by its URL relative to the page's, so the page and "Try it out"
    work under a stage too. The ID token is kept across reloads of the page."""
    bundled = Path(openapi.__file__).parent / "swagger_ui"
    script = (bundled / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (bundled / "swagger-ui.min.css").read_text(encoding="utf-8")
    options = {
        "url": "openapi.json",
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "docExpansion": "list",
        "filter": True,
        "persistAuthorization": True,
    }
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="UTF-8">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<div id="swagger-ui"></div>
<script>{script}</script>
<script>
window.ui = SwaggerUIBundle(Object.assign({json.dumps(options)}, {{
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  layout: "BaseLayout"
}}));
</script>
</body>
</html>
"""
