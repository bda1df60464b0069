"""Each API of the template served by SAM CLI's own API Gateway emulation (`LocalApigwService`:
routes from the template, proxy events, CORS, error responses), completed where it stops: the
Cognito and JWT authorizers it skips, the `aws` and `mock` integrations it ignores, a body that is
not UTF-8 (it answered 502), and the API's CloudWatch metrics; the handler runs through the local
Lambda runtime instead of a Docker container."""

from __future__ import annotations

import copy
import dataclasses
import functools
import io
import json
import re
import time
from dataclasses import dataclass
from typing import Any

import flask
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.apigw.local_apigw_service import LocalApigwService
from werkzeug.serving import BaseWSGIServer, make_server

from local_stack.apigateway.authorizers import UNAUTHORIZED, ApiAuthorizers, UnauthorizedRequest, integration_failure
from local_stack.apigateway.integrations import ApiIntegrations
from local_stack.cloudwatch.publishers import ApiMetrics
from local_stack.lambda_runtime.functions import FunctionError
from local_stack.lambda_runtime.runtime import LocalLambda
from local_stack.logs import say

# The APIs of the template and where `make dev` serves them: (logical id, port variable, default port).
APIS = (("StorefrontApi", "PORT", 3000), ("BackOfficeApi", "ADMIN_PORT", 3001))


@dataclass(frozen=True)
class ServedApi:
    logical_id: str
    url: str
    service: LocalApigwService
    server: BaseWSGIServer
    integrations: ApiIntegrations  # the routes that no function serves


def served_api(source: dict[str, Any], logical_id: str, host: str, port: int, runtime: LocalLambda) -> ServedApi:
    """One API of the SAM template (`source`) as SAM CLI's emulation serves it, completed: its
    authorizers, its non-proxy integrations, text bodies as API Gateway passes them, its metrics.
    SAM CLI keeps one route per method and path across all APIs of a template: one API each."""
    stack = runtime.stack
    stacks, _ = SamLocalStackProvider.get_stacks(template_dictionary=only_api(source, logical_id))
    label = "storefront" if logical_id == "StorefrontApi" else "back-office"
    metrics = ApiMetrics(stack, logical_id, runtime.metrics)
    runner = ApiLambdaRunner(runtime, ApiAuthorizers(stack, logical_id), label, metrics)
    service = LocalApigwService(ApiProvider(stacks).api, runner, port=port, host=host)
    service.create()
    integrations = ApiIntegrations(stack, logical_id)
    serve_integrations(service, integrations, runner, label)
    server = make_server(host, port, TextBodies(service._app), threaded=True)
    return ServedApi(logical_id, f"http://{host}:{server.server_port}", service, server, integrations)


class ApiLambdaRunner:
    """What LocalApigwService expects of SAM's LocalLambdaRunner: the API's authorizer first (SAM CLI
    skips Cognito and JWT authorizers), then the handler, in process."""

    def __init__(self, runtime: LocalLambda, authorizers: ApiAuthorizers, label: str, metrics: ApiMetrics) -> None:
        self.runtime = runtime
        self.authorizers = authorizers
        self.label = label
        self.metrics = metrics

    def is_debugging(self) -> bool:
        return False

    def invoke(self, function_identifier: str, event: str, stdout: Any, stderr: Any = None, **_: Any) -> None:
        request = json.loads(event)
        started = time.monotonic()
        metered = self.metrics.started()
        try:
            result = self.runtime.invoke(function_identifier, self.authorizers.authorize(request))
            status = result.get("statusCode", "?") if isinstance(result, dict) else "?"
        except UnauthorizedRequest as refusal:
            result, status = UNAUTHORIZED, f"401 ({refusal})"
        except FunctionError as error:
            result = integration_failure(self.authorizers.http_api)
            status = f"{result['statusCode']} ({error.error_type})"
        answered = result.get("statusCode") if isinstance(result, dict) else None
        self.metrics.record(
            answered if isinstance(answered, int) else 502, metered
        )  # SAM CLI: 502 for a malformed answer
        elapsed = (time.monotonic() - started) * 1000
        method = request.get("httpMethod") or request.get("requestContext", {}).get("http", {}).get("method")
        path = request.get("path") or request.get("rawPath") or ""
        # The path is the client's: escaped, so that it cannot forge a line of this log.
        say(f"[{self.label}] {method} {printable(path)} → {status} in {elapsed:.0f} ms")
        stdout.write_str(json.dumps(result))


class TextBodies:
    """WSGI middleware for a gap of SAM CLI's emulation: a body that is not UTF-8 made it answer 502.
    API Gateway hands a text body to the function with such bytes replaced (U+FFFD); so does this."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            body = environ["wsgi.input"].read(length)
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                body = body.decode("utf-8", errors="replace").encode("utf-8")
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def printable(text: str, limit: int = 200) -> str:
    escaped = text.encode("unicode_escape").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"


def serve_integrations(
    service: LocalApigwService, integrations: ApiIntegrations, runner: ApiLambdaRunner, label: str
) -> None:
    """Add the API's `aws` and `mock` integrations (which SAM CLI skips) to its Flask app, behind the
    same authorizer as the proxy routes, counted in the same metrics."""
    authorizers = runner.authorizers

    def handle(resource_path: str, **path_parameters: str) -> flask.Response:
        started = time.monotonic()
        metered = runner.metrics.started()
        method = flask.request.method
        headers = dict(flask.request.headers)
        request = integrations.request(
            method,
            resource_path,
            flask.request.path,
            headers,
            flask.request.get_data(as_text=True),
            {},
            query=flask.request.args.to_dict(),
            path_parameters=path_parameters,
            source_ip=flask.request.remote_addr or "127.0.0.1",
        )
        try:
            event = authorizers.authorize({"httpMethod": method, "resource": resource_path, "headers": headers})
            claims = event.get("requestContext", {}).get("authorizer", {}).get("claims", {})
            reply = integrations.respond(dataclasses.replace(request, claims=claims))
        except UnauthorizedRequest:
            reply = integrations.gateway_response("UNAUTHORIZED", request)
        runner.metrics.record(reply.status, metered)
        elapsed = (time.monotonic() - started) * 1000
        say(f"[{label}] {method} {printable(flask.request.path)} → {reply.status} in {elapsed:.0f} ms")
        return flask.Response(reply.body, status=reply.status, headers=reply.headers)

    by_path: dict[str, list[str]] = {}
    for method, path in integrations.routes:
        by_path.setdefault(path, []).append(method)
    for path, methods in by_path.items():
        rule = re.sub(r"\{(\w+)\+?\}", r"<\1>", path)
        service._app.add_url_rule(
            rule,
            endpoint=f"integration {path}",
            view_func=functools.partial(handle, path),
            methods=methods,
            provide_automatic_options=False,
        )


def only_api(template: dict[str, Any], keep: str) -> dict[str, Any]:
    """The SAM template with one API and the function events that belong to it."""
    kept = copy.deepcopy(template)
    resources = kept["Resources"]
    for name in [name for name, resource in resources.items() if resource["Type"] in _API_TYPES and name != keep]:
        del resources[name]
    for resource in resources.values():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        events = resource.get("Properties", {}).get("Events", {})
        for name in [name for name, event in events.items() if api_of(event) not in (None, keep)]:
            del events[name]
    return kept


_API_TYPES = ("AWS::Serverless::Api", "AWS::Serverless::HttpApi")


def api_of(event: dict[str, Any]) -> str | None:
    if event.get("Type") not in ("Api", "HttpApi"):
        return None
    properties = event.get("Properties", {})
    reference = properties.get("RestApiId") if event["Type"] == "Api" else properties.get("ApiId")
    if isinstance(reference, dict):
        reference = reference.get("Ref")
    return reference or ("ServerlessRestApi" if event["Type"] == "Api" else "ServerlessHttpApi")
