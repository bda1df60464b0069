"""What both APIs share: JSON bodies only, bounded error responses, one mapping from domain errors
to HTTP statuses, and an OpenAPI document that says what the API really answers (api_docs.py)."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, TypeVar, Unpack

from api_docs import BEARER, About, openapi_json, swagger_page
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, Router
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from identity import Forbidden, Unauthorized, claims_of
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError
from request_checks import check_before_validation

from http_bodies.problems import NOT_JSON, error_body, invalid_body
from orders_domain.errors import ConflictError, InvalidCursor, InvalidField, NotFoundError
from orders_domain.models import Identifier
from orders_domain.observability import logger

# Client mistakes that the domain or Powertools raise, and what the client is told.
ERROR_STATUS: dict[type[Exception], tuple[int, str | None]] = {
    InvalidCursor: (400, None),
    InvalidField: (422, None),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, None),
    NotFoundError: (404, None),
    ConflictError: (409, None),
    IdempotencyAlreadyInProgressError: (409, "a request with this Idempotency-Key is still in progress"),
    IdempotencyValidationError: (422, "this Idempotency-Key was already used with a different request"),
}
# Errors about one input, named in `details` like any 422.
ERROR_LOCATION: dict[type[Exception], Callable[[Exception], str]] = {
    IdempotencyValidationError: lambda _: "header.Idempotency-Key",
    InvalidField: lambda error: f"body.{getattr(error, 'field', '')}",
}


class ErrorBody(BaseModel):
    message: str


class Problem(BaseModel):
    location: str
    message: str


class ValidationErrorBody(ErrorBody):
    details: list[Problem]


ERROR_DESCRIPTIONS = {
    400: "The body is not JSON, or `next` is not a cursor of this list",
    401: "No valid ID token (missing, malformed, expired, wrong issuer or audience, not an ID token)",
    403: "The caller may not use this route",
    404: "Not found (or not the caller's)",
    409: "Conflicts with what is stored, or a request with this Idempotency-Key is in progress",
    413: "The body is larger than the route accepts",
    415: "The body is not sent as application/json",
    422: "The request breaks the schema; `details` names each problem (at most 10)",
    429: "Too many requests: try again later",
    500: "The request failed on our side (not the caller's mistake)",
    504: "The request took too long: try again",
}


# Pydantic's message for an id that is not one (orders_domain.models.Identifier).
NOT_AN_ID = "String should match pattern '^[A-Za-z0-9][A-Za-z0-9._:-]*$'"
NOT_JSON_MEDIA_TYPE = "request body must be JSON (Content-Type: application/json)"
# What a client sees for each error status (the real messages), in the document's examples.
ERROR_EXAMPLES = {
    400: NOT_JSON,
    401: "Unauthorized",
    403: "only members of the staff group may use the back office",
    404: "{} not found",  # what the route looks for
    409: "a request with this Idempotency-Key is still in progress",  # as ERROR_STATUS says
    413: "request body too large",
    415: NOT_JSON_MEDIA_TYPE,
    429: "too many requests; try again",
    500: "internal error",
    504: "the quote took too long; try again",
}


def documented(
    status: int,
    model: Any,
    *errors: int,
    tag: str,
    summary: str,
    description: str,
    invalid: tuple[str, str] | None,
    public: bool = False,
    success: str = "Success",
    missing: str = "",
    conflict: str = ERROR_EXAMPLES[409],
) -> dict[str, Any]:
    """Route decorator arguments that document an operation: its tag, summary and description; the
    real success status and body; every error status with the body the API returns and an example of
    it (`invalid`: a 422's problem, location and message, None for a route without input;
    `missing`: what a 404 did not find; `conflict`: the 409's message); whether a token is needed."""
    responses: dict[int, Any] = {status: {"description": success, "content": {"application/json": {"model": model}}}}
    messages = {**ERROR_EXAMPLES, 404: ERROR_EXAMPLES[404].format(missing), 409: conflict}
    # Powertools documents a 422 on every validated route, also on those without input: there it
    # shows what a 422 would look like.
    summaries = {**ERROR_DESCRIPTIONS, 422: ERROR_DESCRIPTIONS[422] if invalid else "This route takes no input"}
    location, problem = invalid or ("body", "Extra inputs are not permitted")
    for error in sorted({*errors, 422}):
        body = invalid_body([{"loc": (location,), "msg": problem}]) if error == 422 else error_body(messages[error])
        responses[error] = {
            "description": ERROR_DESCRIPTIONS[error],
            "content": {
                "application/json": {
                    "model": ValidationErrorBody if error == 422 else ErrorBody,
                    "examples": {str(error): {"summary": summaries[error], "value": body}},
                }
            },
        }
    return {
        "status_code": status,
        "responses": responses,
        "security": None if public else [{BEARER: []}],
        "tags": [tag],
        "summary": summary,
        "description": description,
    }


Handler = TypeVar("Handler", bound=Callable[..., Any])
# Who may call a router's routes, and the errors that follow from that.
Audience = Literal["anyone", "customers", "staff"]
AUDIENCE_ERRORS: dict[Audience, tuple[int, ...]] = {"anyone": (), "customers": (401,), "staff": (401, 403)}


class RouteDetails(TypedDict, total=False):
    """What `documented` takes besides the statuses, where a route differs from the defaults."""

    success: str
    missing: str
    conflict: str
    invalid: tuple[str, str] | None


@dataclass(frozen=True)
class DocumentedRoutes:
    """Registers a router's routes, each documented (`documented`) with the router's tag and the
    errors of its audience (a token for customers and staff, membership of staff). A route's summary
    is the first line of its handler's docstring, its description the paragraph after it; a route
    with an id in its path shows a malformed id as its 422 unless given another `invalid`."""

    router: Router
    tag: str
    audience: Audience

    def get(
        self, path: str, model: Any, *errors: int, status: int = 200, **details: Unpack[RouteDetails]
    ) -> Callable[[Handler], Handler]:
        return self._route(self.router.get, path, status, model, errors, details)

    def post(
        self, path: str, model: Any, *errors: int, status: int = 200, **details: Unpack[RouteDetails]
    ) -> Callable[[Handler], Handler]:
        return self._route(self.router.post, path, status, model, errors, details)

    def put(
        self, path: str, model: Any, *errors: int, status: int = 200, **details: Unpack[RouteDetails]
    ) -> Callable[[Handler], Handler]:
        return self._route(self.router.put, path, status, model, errors, details)

    def _route(
        self,
        register: Callable[..., Any],
        path: str,
        status: int,
        model: Any,
        errors: tuple[int, ...],
        details: RouteDetails,
    ) -> Callable[[Handler], Handler]:
        parameter = re.search(r"<(\w+)>", path)
        examples: RouteDetails = {"invalid": (f"path.{parameter[1]}", NOT_AN_ID) if parameter else None, **details}

        def document(handler: Handler) -> Handler:
            summary, _, description = (inspect.getdoc(handler) or "").partition("\n\n")
            docs = documented(
                status,
                model,
                *AUDIENCE_ERRORS[self.audience],
                *errors,
                tag=self.tag,
                summary=summary,
                description=" ".join(description.split()),
                public=self.audience == "anyone",
                **examples,
            )
            registered: Handler = register(path, **docs)(handler)
            return registered

        return document


def error_response(status_code: int, message: str) -> Response[dict[str, Any]]:
    return Response(status_code=status_code, content_type=content_types.APPLICATION_JSON, body=error_body(message))


def invalid_request(problems: list[dict[str, Any]]) -> Response[dict[str, Any]]:
    """422 naming at most MAX_DETAILS problems (never echoing the input), and how many there were."""
    return Response(status_code=422, content_type=content_types.APPLICATION_JSON, body=invalid_body(problems))


_IDENTIFIER = TypeAdapter(Identifier)


def malformed_path_parameters(parameters: dict[str, str] | None) -> list[dict[str, Any]]:
    """Problems with the ids in the path that API Gateway matched. Powertools' router does not match
    some characters (emoji, NUL, '#'), which would otherwise be a 404 instead of the 422 of any bad id."""
    problems = []
    for name, value in (parameters or {}).items():
        try:
            _IDENTIFIER.validate_python(value)
        except PydanticValidationError as error:
            problems += [{"loc": ("path", name), "msg": problem["msg"]} for problem in error.errors()]
    return problems


def configure(
    app: ApiGatewayResolver,
    about: About,
    authorize: Callable[[], None],
    *routers: Router,
    served_by_gateway: Router | None = None,
) -> None:
    """Give a resolver the behaviour both APIs share and its routers. On every route that needs a
    token, `authorize()` (raising Unauthorized or Forbidden) runs before the request is validated.
    `served_by_gateway` documents routes that API Gateway serves without this function: they are
    in the OpenAPI document, never among the routes the function resolves."""
    check_before_validation(app, authorize)

    # Powertools' enable_swagger would import its OpenAPI models at every cold start, and its page would
    # show its own document (no routes of API Gateway's, its default 422 bodies) instead of this one.
    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(200, content_types.APPLICATION_JSON, openapi_json(app, about, served_by_gateway))

    @app.get("/swagger", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        return Response(200, "text/html; charset=utf-8", swagger_page(about.title))

    @app.exception_handler(RequestUnsupportedContentType)
    def unsupported_media_type(_: RequestUnsupportedContentType) -> Response[dict[str, Any]]:
        return error_response(415, NOT_JSON_MEDIA_TYPE)

    @app.exception_handler(RequestValidationError)
    def validation_failed(error: RequestValidationError) -> Response[dict[str, Any]]:
        problems = error.errors()
        if any(problem.get("type") == "json_invalid" for problem in problems):
            return error_response(400, NOT_JSON)
        return invalid_request(list(problems))

    @app.exception_handler(list(ERROR_STATUS))
    def domain_error(error: Exception) -> Response[dict[str, Any]]:
        return known_error(error)

    @app.exception_handler(Exception)
    def unexpected_error(error: Exception) -> Response[dict[str, Any]]:
        # Logged in full for the operator; the client learns only that it is not its mistake.
        logger.exception("request failed", error_type=type(error).__name__)
        return error_response(500, "internal error")

    for router in routers:
        app.include_router(router)

    @app.not_found
    def route_not_found(_: Exception) -> Response[dict[str, Any]]:
        # No route of the router matched, so none says whether it needs a token; claims say that the
        # gateway's authorizer guarded it: who may call still comes before what was sent.
        if claims_of(app.current_event):
            try:
                authorize()
            except (Unauthorized, Forbidden) as refused:
                return known_error(refused)
        problems = malformed_path_parameters(app.current_event.get("pathParameters"))
        if problems:
            return invalid_request(problems)
        # Never echo the raw path: it is the client's input.
        return error_response(404, "no such route")


def known_error(error: Exception) -> Response[dict[str, Any]]:
    """The response to an error of ERROR_STATUS."""
    status_code, message = ERROR_STATUS[type(error)]
    if type(error) in ERROR_LOCATION:
        location = ERROR_LOCATION[type(error)](error)
        return invalid_request([{"loc": (location,), "msg": message or str(error)}])
    return error_response(status_code, message or str(error))
