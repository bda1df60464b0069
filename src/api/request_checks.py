"""What runs before Powertools validates a request: who may call, then whether the body is JSON.

Powertools runs its request validation before every middleware that `app.use` adds (discussion
aws-powertools/powertools-lambda-python#4656), so these checks take its place: the one module that
relies on Powertools internals (the resolver's `_request_validation_middleware` and the current
route in `app.context["_route"]`, 3.37, pinned). tests/unit/test_request_checks.py fails when an
upgrade changes either: an unauthenticated request with an invalid body must stay a 401.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType


class RequestChecks(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, preceded by the API's own checks:
    - who may call (`authorize`, which raises) comes before any look at the input, so a caller
      without access learns nothing from validation errors;
    - a body is JSON or nothing: Powertools would also parse forms and multipart bodies (a form
      could create a user; a multipart body without a boundary was a 500). A body without
      Content-Type is read as JSON, as Powertools does; routes without a body ignore it."""

    def __init__(self, authorize: Callable[[], None]) -> None:
        super().__init__()
        self.authorize = authorize

    def handler(self, app: Any, next_middleware: Any) -> Any:
        route = app.context["_route"]
        # A route documented with a bearer token needs one (http_api.documented): the document is the rule.
        if route.security:
            self.authorize()
        if route.dependant.body_params:
            content_type = app.current_event.headers.get("content-type", "")
            media_type = content_type.split(";", 1)[0].strip().lower()
            if content_type and media_type != content_types.APPLICATION_JSON:
                raise RequestUnsupportedContentType("Unsupported content type", errors=[])
        return super().handler(app, next_middleware)


def check_before_validation(app: ApiGatewayResolver, authorize: Callable[[], None]) -> None:
    """Make `app` run RequestChecks(authorize) where Powertools runs its request validation: first."""
    app._request_validation_middleware = RequestChecks(authorize)
