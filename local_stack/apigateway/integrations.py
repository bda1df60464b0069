"""API Gateway's non-proxy integrations of a REST API, served locally from its definition in the
transformed template: `aws` (an AWS service action, e.g. Step Functions' StartSyncExecution) and
`mock` (the CORS preflights SAM adds). SAM CLI's emulation serves only Lambda proxy integrations.

As API Gateway does: the request template is chosen by Content-Type (none means
application/json) and `passthroughBehavior` decides what happens without one (415 for `never`);
the rendered template is the action's request, sent with the integration's timeout
(`timeoutInMillis`, 29 s by default); the service's status selects the integration response (its
key is a regular expression on the status, `default` otherwise), whose template and parameters
make the method's response. Failures of the gateway itself (415, 401, 504, 500) are the API's
gateway responses (`x-amazon-apigateway-gateway-responses`), so they carry its CORS headers.
"""

from __future__ import annotations

import contextlib
import json
import re
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from local_stack.apigateway.mapping_templates import GatewayRequest, render
from local_stack.cloudformation.deploy import Stack
from local_stack.logs import say

DEFAULT_TIMEOUT_MILLIS = 29_000
JSON = "application/json"

# What API Gateway answers itself, by gateway response type: (status, message).
GATEWAY_ERRORS = {
    "UNAUTHORIZED": (401, "Unauthorized"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "Unsupported Media Type"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out"),
    "API_CONFIGURATION_ERROR": (500, "Internal server error"),
}

_ACTION_URI = re.compile(r"arn:aws:apigateway:[\w-]+:(?P<service>[\w-]+):action/(?P<action>\w+)")
_HEADER_PARAMETER = "method.response.header."
# An action URI names the service by its endpoint prefix; where the SDK's name differs.
_SDK_NAMES = {"states": "stepfunctions", "email": "ses", "monitoring": "cloudwatch"}


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: str


@dataclass(frozen=True)
class ServiceCall:
    """What the service answered: its HTTP status and raw body, as API Gateway's templates see it."""

    status: int
    body: str


class Integration:
    """One method's `x-amazon-apigateway-integration` (resolved) of type `aws` or `mock`."""

    def __init__(self, stack: Stack, definition: dict[str, Any]) -> None:
        self.definition = definition
        self.kind = definition["type"]
        if self.kind not in ("aws", "mock"):
            raise NotImplementedError(f"integration type {self.kind} is not served locally")
        self.stack = stack
        self.request_templates: dict[str, str] = definition.get("requestTemplates", {})
        self.passthrough = definition.get("passthroughBehavior", "when_no_match").lower()
        self.responses: dict[str, dict[str, Any]] = definition.get("responses", {})
        self.timeout = definition.get("timeoutInMillis", DEFAULT_TIMEOUT_MILLIS) / 1000
        if self.kind == "aws":
            match = _ACTION_URI.fullmatch(definition["uri"])
            if match is None:
                raise NotImplementedError(f"only action URIs are served locally: {definition['uri']}")
            self.service = _SDK_NAMES.get(match["service"], match["service"])
            self.action = match["action"]

    def respond(self, request: GatewayRequest) -> Reply | str:
        """The method's response, or the gateway response type that API Gateway would answer."""
        payload = self.render_request(request)
        if payload is None:
            return "UNSUPPORTED_MEDIA_TYPE"
        if self.kind == "mock":
            call = ServiceCall(int(json.loads(payload or "{}").get("statusCode", 200)), "")
        else:
            pool = ThreadPoolExecutor(max_workers=1)
            try:
                call = pool.submit(self._call, payload).result(timeout=self.timeout)
            except FutureTimeout:
                return "INTEGRATION_TIMEOUT"  # at once: the service goes on, as it does on AWS
            finally:
                pool.shutdown(wait=False)
        return self.method_response(call, request)

    def render_request(self, request: GatewayRequest) -> str | None:
        """The integration request's body: the request template for the Content-Type (none means
        JSON), the body itself when passed through, or None when API Gateway answers 415."""
        content_type = _header(request.headers, "content-type") or JSON
        media_type = content_type.split(";", 1)[0].strip().lower()
        if media_type in self.request_templates:
            return render(self.request_templates[media_type], request).body
        if self.passthrough == "when_no_match" or (
            self.passthrough == "when_no_templates" and not self.request_templates
        ):
            return request.body
        return None

    def _call(self, payload: str) -> ServiceCall:
        """The action, sent as API Gateway sends it: once, no retries, with the rendered JSON."""
        session: Any = self.stack.session  # any service the URI names, not one of the typed overloads
        client = session.client(
            self.service,
            region_name=self.stack.session.region_name,
            # Not `sync-states...`: a local endpoint has no such host (botocore's host prefix).
            config=Config(inject_host_prefix=False, parameter_validation=False, retries={"total_max_attempts": 1}),
        )
        answered: list[ServiceCall] = []

        def keep_raw(http_response: Any, **_: Any) -> None:
            answered.append(ServiceCall(http_response.status_code, http_response.content.decode("utf-8")))

        client.meta.events.register(f"after-call.{client.meta.service_model.service_name}.{self.action}", keep_raw)
        operation = client.meta.method_to_api_mapping
        method = next(name for name, action in operation.items() if action == self.action)
        with contextlib.suppress(ClientError):  # the raw answer is what the integration responses select on
            getattr(client, method)(**json.loads(payload))
        return answered[-1]

    def method_response(self, call: ServiceCall, request: GatewayRequest) -> Reply:
        """The integration response that the service's status selects, rendered."""
        selected = next(
            (
                response
                for pattern, response in self.responses.items()
                if pattern != "default" and re.fullmatch(pattern, str(call.status))
            ),
            self.responses.get("default"),
        )
        if selected is None:
            raise NotImplementedError(f"no integration response selects status {call.status}")
        templates: dict[str, str] = selected.get("responseTemplates", {})
        content_type = JSON if JSON in templates or not templates else next(iter(templates))
        rendered = render(templates[content_type], request, integration_body=call.body) if templates else None
        headers = {"Content-Type": content_type}
        for name, value in selected.get("responseParameters", {}).items():
            headers[name.removeprefix(_HEADER_PARAMETER)] = _static(value)
        if rendered is None:
            return Reply(int(selected["statusCode"]), headers, call.body)
        return Reply(rendered.status or int(selected["statusCode"]), headers | rendered.headers, rendered.body)


class ApiIntegrations:
    """The non-proxy integrations of one REST API and its gateway responses."""

    def __init__(self, stack: Stack, api_logical_id: str) -> None:
        body = stack.resolve(stack.template.properties(api_logical_id)["Body"])
        self.stage = str(stack.resolve(stack.template.properties(api_logical_id).get("StageName", "dev")))
        self.gateway_responses: dict[str, dict[str, Any]] = body.get("x-amazon-apigateway-gateway-responses", {})
        self.routes: dict[tuple[str, str], Integration] = {}
        self.secured: set[tuple[str, str]] = set()  # routes behind an authorizer
        for path, methods in body.get("paths", {}).items():
            for method, operation in methods.items():
                integration = (
                    operation.get("x-amazon-apigateway-integration", {}) if isinstance(operation, dict) else {}
                )
                if integration.get("type") not in ("aws", "mock"):
                    continue
                self.routes[(method.upper(), path)] = Integration(stack, integration)
                if any(name != "NONE" for requirement in operation.get("security", []) for name in requirement):
                    self.secured.add((method.upper(), path))

    def request(
        self,
        method: str,
        resource_path: str,
        path: str,
        headers: dict[str, str],
        body: str,
        claims: dict[str, str],
        query: dict[str, str] | None = None,
        path_parameters: dict[str, str] | None = None,
        source_ip: str = "127.0.0.1",
    ) -> GatewayRequest:
        return GatewayRequest(
            method=method,
            resource_path=resource_path,
            path=path,
            headers=headers,
            query=query or {},
            path_parameters=path_parameters or {},
            body=body,
            claims=claims,
            stage=self.stage,
            request_id=str(uuid.uuid4()),
            source_ip=source_ip,
        )

    def respond(self, request: GatewayRequest) -> Reply:
        integration = self.routes[(request.method, request.resource_path)]
        try:
            outcome = integration.respond(request)
        except Exception:
            # A template or service call that breaks is the API's fault, as on AWS: a 500, and the
            # reason for whoever runs it.
            say(f"[gateway] {request.method} {request.resource_path} failed:\n{traceback.format_exc()}")
            outcome = "API_CONFIGURATION_ERROR"
        return self.gateway_response(outcome, request) if isinstance(outcome, str) else outcome

    def gateway_response(self, kind: str, request: GatewayRequest) -> Reply:
        """What API Gateway answers itself: the API's response for this type, else its DEFAULT_4XX or
        DEFAULT_5XX, rendered with `$context.error`."""
        status, message = GATEWAY_ERRORS[kind]
        default = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        response = self.gateway_responses.get(kind) or self.gateway_responses.get(default) or {}
        templates: dict[str, str] = response.get("responseTemplates", {})
        body = (
            render(templates[JSON], request, error_message=message).body
            if JSON in templates
            else json.dumps({"message": message})
        )
        headers = {"Content-Type": JSON}
        for name, value in response.get("responseParameters", {}).items():
            headers[name.removeprefix("gatewayresponse.header.")] = _static(value)
        return Reply(int(response.get("statusCode", status)), headers, body)


def _static(value: str) -> str:
    """A mapped value in single quotes is a literal; others (request or response values) are not
    needed by this template, and fail loudly rather than go missing."""
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    raise NotImplementedError(f"only static response parameters are served locally: {value}")


def _header(headers: dict[str, str], name: str) -> str | None:
    return next((value for key, value in headers.items() if key.lower() == name), None)
