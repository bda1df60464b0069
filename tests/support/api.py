"""Calls an API function's handler with the proxy events API Gateway would send it: payload 2.0
for the storefront's HTTP API, 1.0 for the back office's REST API, with the verified claims where
the gateway's authorizer puts them. Routes come from the API's definition in the transformed template.
Standing in for API Gateway, it answers a failed function with the gateway's 5xx and, given the
API's metrics, counts each request in AWS/ApiGateway as API Gateway does."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlencode

from local_stack.apigateway.authorizers import gateway_claims, integration_failure
from local_stack.apigateway.integrations import ApiIntegrations
from local_stack.cloudformation.template import SamTemplate
from local_stack.cloudwatch.publishers import ApiMetrics
from local_stack.lambda_runtime.functions import FunctionError, Invocable


@dataclass(frozen=True)
class MatchedRequest:
    """A request as API Gateway matched it to one of the API's routes."""

    method: str
    path: str
    route: str  # the route's path template: /orders/{order_id}
    parameters: dict[str, str] | None
    body: str | None
    headers: dict[str, str]
    query: dict[str, str]


@dataclass
class ApiResponse:
    status: int
    body: Any
    headers: dict[str, str]
    text: str = ""


def id_token_claims(user_id: str, email: str, name: str = "Ada", groups: tuple[str, ...] = ()) -> dict[str, Any]:
    """The claims of a Cognito ID token, as the authorizers verify and pass them on."""
    claims = {"email": email, "name": name, "cognito:username": user_id, "aud": "local-client"}
    return _token_claims("id", user_id, groups) | claims


def access_token_claims(user_id: str, groups: tuple[str, ...] = ()) -> dict[str, Any]:
    """The claims of a Cognito access token of the same pool: verified, but not an ID token."""
    claims = {"client_id": "local-client", "username": user_id, "scope": "aws.cognito.signin.user.admin"}
    return _token_claims("access", user_id, groups) | claims


def _token_claims(token_use: str, user_id: str, groups: tuple[str, ...]) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "sub": user_id,
        "token_use": token_use,
        "iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_local",
    }
    if groups:
        claims["cognito:groups"] = list(groups)
    return claims


def route_templates(template: SamTemplate, api_logical_id: str) -> list[tuple[str, str]]:
    """(METHOD, /path/{param}) of every route the API defines, as deployed."""
    body = template.properties(api_logical_id)["Body"]
    return [
        (method.upper(), path)
        for path, methods in body["paths"].items()
        for method in methods
        if method in ("get", "post", "put", "delete", "patch")
    ]


@dataclass
class ApiClient:
    function: Invocable
    routes: list[tuple[str, str]]
    http_api: bool  # payload 2.0 (HTTP API) rather than 1.0 (REST API)
    claims: dict[str, Any] | None = None
    integrations: ApiIntegrations | None = None  # routes that no function serves (REST API)
    metrics: ApiMetrics | None = None  # AWS/ApiGateway of this API

    def as_caller(self, claims: dict[str, Any] | None) -> ApiClient:
        """The same API, called with another identity (None: no token)."""
        return replace(self, claims=claims)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        raw_body: str | None = None,
        query: dict[str, str] | None = None,
        timeout: float | None = None,
    ) -> ApiResponse:
        started = self.metrics.started() if self.metrics else 0.0
        response = self._respond(method, path, body, headers, raw_body, query, timeout)
        if self.metrics:
            self.metrics.record(response.status, started)
        return response

    def _respond(
        self,
        method: str,
        path: str,
        body: Any,
        headers: dict[str, str] | None,
        raw_body: str | None,
        query: dict[str, str] | None,
        timeout: float | None,
    ) -> ApiResponse:
        text_body = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
        headers = {"Content-Type": "application/json"} if text_body and headers is None else dict(headers or {})
        route, parameters = self._match(method, path)
        request = MatchedRequest(method, path, route, parameters, text_body, headers, query or {})
        if self.integrations is not None and (method, route) in self.integrations.routes:
            return self._integration(request)
        event = self._event_v2(request) if self.http_api else self._event_v1(request)
        try:
            response = self.function.invoke(event, timeout=timeout)
        except FunctionError as error:
            print(f"the function failed: {error}")  # shown with a failing test
            response = integration_failure(self.http_api)
        text = response.get("body") or ""
        response_headers = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
        response_headers.update(response.get("headers") or {})
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = None
        return ApiResponse(response["statusCode"], parsed, response_headers, text)

    def _integration(self, matched: MatchedRequest) -> ApiResponse:
        """A route that API Gateway serves itself (mapping templates and an AWS service), answered
        by the local stack's gateway from the same definition; the authorizer as `claims` says."""
        assert self.integrations is not None
        claims = {} if self.claims is None else gateway_claims(self.claims, http_api=False)
        method, route = matched.method, matched.route
        request = self.integrations.request(
            method,
            route,
            matched.path,
            matched.headers,
            matched.body or "",
            claims,
            path_parameters=matched.parameters or {},
        )
        # The REST API's Cognito authorizer lets only ID tokens through (local_stack/apigateway/authorizers.py).
        if (method, route) in self.integrations.secured and (self.claims or {}).get("token_use") != "id":
            reply = self.integrations.gateway_response("UNAUTHORIZED", request)
        else:
            reply = self.integrations.respond(request)
        try:
            parsed = json.loads(reply.body) if reply.body.strip() else None
        except ValueError:
            parsed = None
        return ApiResponse(reply.status, parsed, reply.headers, reply.body)

    def get(self, path: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", path, body, **kwargs)

    def _match(self, method: str, path: str) -> tuple[str, dict[str, str] | None]:
        for route_method, template in self.routes:
            pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
            match = re.fullmatch(pattern, path)
            if route_method == method and match:
                return template, match.groupdict() or None
        raise AssertionError(f"the API has no route {method} {path}: API Gateway would answer it itself")

    def _event_v1(self, request: MatchedRequest) -> dict[str, Any]:
        method, path, resource, query = request.method, request.path, request.route, request.query
        context: dict[str, Any] = {
            "accountId": "123456789012",
            "apiId": "backoffice",
            "httpMethod": method,
            "path": f"/dev{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "resourcePath": resource,
            "stage": "dev",
            "identity": {"sourceIp": "203.0.113.10"},
        }
        if self.claims is not None:
            context["authorizer"] = {"claims": gateway_claims(self.claims, http_api=False)}
        return {
            "resource": resource,
            "path": path,
            "httpMethod": method,
            "headers": request.headers,
            "multiValueHeaders": {name: [value] for name, value in request.headers.items()},
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": {name: [value] for name, value in query.items()} or None,
            "pathParameters": request.parameters,
            "stageVariables": None,
            "requestContext": context,
            "body": request.body,
            "isBase64Encoded": False,
        }

    def _event_v2(self, request: MatchedRequest) -> dict[str, Any]:
        method, path, route, query = request.method, request.path, request.route, request.query
        context: dict[str, Any] = {
            "accountId": "123456789012",
            "apiId": "storefront",
            "domainName": "storefront.execute-api.us-east-1.amazonaws.com",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.10"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": f"{method} {route}",
            "stage": "$default",
        }
        if self.claims is not None:
            context["authorizer"] = {"jwt": {"claims": gateway_claims(self.claims, http_api=True), "scopes": None}}
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": f"{method} {route}",
            "rawPath": path,
            "rawQueryString": urlencode(query),
            "headers": {name.lower(): value for name, value in request.headers.items()},
            "requestContext": context,
            "isBase64Encoded": False,
        }
        if query:
            event["queryStringParameters"] = query
        if request.parameters:
            event["pathParameters"] = request.parameters
        if request.body is not None:
            event["body"] = request.body
        return event
