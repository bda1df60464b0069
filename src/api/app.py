"""ApiFunction: the REST API. Routes live in routers/, one module per resource; this module maps
domain errors to HTTP responses, in one place."""

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from orders_domain.errors import ConflictError, NotFoundError
from orders_domain.observability import logger, metrics
from routers import inventory, orders, users

ERROR_STATUS: dict[type[Exception], tuple[int, str | None]] = {
    NotFoundError: (404, None),
    ConflictError: (409, None),
    IdempotencyAlreadyInProgressError: (409, "a request with this Idempotency-Key is still in progress"),
    IdempotencyValidationError: (422, "this Idempotency-Key was already used with a different request"),
}


def parse_json_body(body: str) -> Any:
    """json.loads, where every way a body fails to be standard JSON is a JSONDecodeError (a 400):
    also NaN and Infinity, and integers too long for int()."""

    def not_json(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    try:
        return json.loads(body, parse_constant=not_json)
    except json.JSONDecodeError:
        raise
    except ValueError as error:
        raise json.JSONDecodeError(str(error), body, 0) from error


app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
app.include_router(users.router)
app.include_router(inventory.router)
app.include_router(orders.router)


def error_response(status_code: int, message: str, **details: Any) -> Response[dict[str, Any]]:
    return Response(
        status_code=status_code, content_type=content_types.APPLICATION_JSON, body={"message": message, **details}
    )


def sent_json() -> bool:
    """Bodies are JSON: without a Content-Type header, or with a JSON one (Powertools' own rule)."""
    content_type = app.current_event.headers.get("content-type", "").strip().lower()
    return not content_type or content_type.startswith("application/json")


def not_json() -> Response[dict[str, Any]]:
    return error_response(415, "request body must be JSON (Content-Type: application/json)")


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_media_type(_: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
    return not_json()


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response[dict[str, Any]]:
    if app.current_event.body and not sent_json():  # e.g. curl -d without -H: parsed as a form
        return not_json()
    problems = error.errors()
    if any(problem.get("type") == "json_invalid" for problem in problems):
        return error_response(400, "request body is not valid JSON")
    details = [
        {"location": ".".join(str(part) for part in problem["loc"]), "message": problem["msg"]} for problem in problems
    ]
    return error_response(
        422, "invalid request: " + "; ".join(d["location"] + ": " + d["message"] for d in details), details=details
    )


@app.exception_handler(list(ERROR_STATUS))
def domain_error(error: Exception) -> Response[dict[str, Any]]:
    status_code, message = ERROR_STATUS[type(error)]
    return error_response(status_code, message or str(error))


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response[dict[str, Any]]:
    # Logged in full for the operator; the client learns only that it is not its mistake.
    logger.exception("request failed", error_type=type(error).__name__)
    return error_response(500, "internal error")


@app.not_found
def route_not_found(_: Exception) -> Response[dict[str, Any]]:
    return error_response(404, f"no route for {app.current_event.http_method} {app.current_event.path}")


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    orders.idempotency_config.register_lambda_context(context)
    return app.resolve(event, context)
