"""POST /quotes' mapping templates, taken from the transformed template and rendered by the local
gateway: the request that reaches StartSyncExecution, and the response for every answer Step
Functions can give (the workflow's own answer, a failed or timed-out execution, a refused start).
Also the gateway's general behaviour for `aws` integrations: the integration timeout and the CORS
preflight that SAM adds as a `mock` integration."""

import json
import threading
from dataclasses import replace

import pytest

from local_stack.apigateway.integrations import ApiIntegrations, Integration, ServiceCall

CORS = {"Access-Control-Allow-Origin": "*", "Content-Type": "application/json"}


@pytest.fixture
def integrations(stack):
    return ApiIntegrations(stack, "BackOfficeApi")


@pytest.fixture
def quotes(integrations):
    return integrations.routes[("POST", "/quotes")]


def request(integrations, body="", groups="staff", headers=None):
    claims = {"sub": "staff-1", "cognito:groups": groups} if groups is not None else {}
    headers = {"Content-Type": "application/json"} if headers is None else headers
    return integrations.request("POST", "/quotes", "/quotes", headers, body, claims)


@pytest.mark.parametrize(
    "body",
    [
        '{"items": [{"product_id": "widget-1", "quantity": 2}]}',
        'l\'été "chaud" \\ / ✓ 🚚 \n\t\u0001 </script>',
        "",
        "not json at all '",
    ],
    ids=["cart", "quotes-escapes-non-ascii", "empty", "not-json"],
)
def test_the_request_is_start_sync_execution_of_the_quote_workflow_with_the_body_as_sent(
    integrations, quotes, stack, body
):
    gateway_request = request(integrations, body, groups="admins,staff")

    rendered = json.loads(quotes.render_request(gateway_request))

    assert set(rendered) == {"stateMachineArn", "name", "input"}
    assert rendered["stateMachineArn"] == stack.ref("QuoteWorkflow")
    assert rendered["name"] == gateway_request.request_id
    assert json.loads(rendered["input"]) == {
        "body": body,
        "groups": "admins,staff",
        "requestId": gateway_request.request_id,
    }


def test_a_caller_without_groups_is_passed_on_with_none(integrations, quotes):
    rendered = json.loads(quotes.render_request(request(integrations, "{}", groups=None)))

    assert json.loads(rendered["input"])["groups"] == ""


def sync_answer(status, **fields):
    return json.dumps(
        {"executionArn": "arn:aws:states:us-east-1:123456789012:express:q:n:1", "status": status} | fields
    )


def service_error(status, error_type, message):
    """Step Functions refusing the call: its JSON error."""
    return ServiceCall(status, json.dumps({"__type": error_type, "message": message}))


@pytest.mark.parametrize(
    ("call", "status", "body"),
    [
        # The workflow's answer: its status, its body as the workflow wrote it.
        (
            ServiceCall(200, sync_answer("SUCCEEDED", output=json.dumps({"statusCode": 200, "body": '{"total":1.5}'}))),
            200,
            {"total": 1.5},
        ),
        (
            ServiceCall(
                200, sync_answer("SUCCEEDED", output=json.dumps({"statusCode": 422, "body": '{"message":"x"}'}))
            ),
            422,
            {"message": "x"},
        ),
        # Failures never show Step Functions' error or cause.
        (
            ServiceCall(200, sync_answer("FAILED", error="Lambda.Unknown", cause="Traceback: secret")),
            500,
            {"message": "internal error"},
        ),
        (ServiceCall(200, sync_answer("TIMED_OUT")), 504, {"message": "the quote took too long; try again"}),
        (
            service_error(400, "ValidationException", "Member must have length"),
            413,
            {"message": "request body too large"},
        ),
        (service_error(400, "ThrottlingException", "Rate exceeded"), 429, {"message": "too many requests; try again"}),
        (service_error(400, "InvalidExecutionInput", "secret"), 500, {"message": "internal error"}),
        (service_error(500, "InternalServerError", "x"), 500, {"message": "internal error"}),
        (ServiceCall(503, "Service Unavailable"), 500, {"message": "internal error"}),
    ],
    ids=["answer", "refusal", "failed", "timed-out", "too-large", "throttled", "other-4xx", "5xx", "unavailable"],
)
def test_every_answer_of_step_functions_becomes_a_json_response_with_cors_headers(
    integrations, quotes, call, status, body
):
    reply = quotes.method_response(call, request(integrations))

    assert (reply.status, json.loads(reply.body)) == (status, body)
    assert reply.headers == CORS
    assert "secret" not in reply.body


def test_an_integration_slower_than_its_timeout_is_the_gateways_504_at_its_timeout(
    integrations, quotes, stack, monkeypatch
):
    slow = Integration(stack, {**quotes.definition, "timeoutInMillis": 50})
    answered, service_ended = threading.Event(), threading.Event()

    def step_functions_still_working(payload):  # a 1 ms timeout raced moto's own quick answer
        answered.wait(10)
        service_ended.set()

    monkeypatch.setattr(slow, "_call", step_functions_still_working)
    integrations.routes[("POST", "/quotes")] = slow

    try:
        reply = integrations.respond(request(integrations, '{"items": [{"product_id": "widget-1", "quantity": 1}]}'))
        answered_while_the_service_works = not service_ended.is_set()
    finally:
        answered.set()

    assert answered_while_the_service_works  # the client is not kept waiting until the service ends
    assert (reply.status, json.loads(reply.body)) == (504, {"message": "Endpoint request timed out"})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_the_preflight_is_served_from_the_mock_integration_sam_adds(integrations):
    preflight = replace(request(integrations, headers={}), method="OPTIONS")

    reply = integrations.respond(preflight)

    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Access-Control-Allow-Methods"] == "GET,POST,PUT,OPTIONS"
    assert reply.headers["Access-Control-Allow-Headers"] == "Authorization,Content-Type,Idempotency-Key"
    assert reply.headers["Access-Control-Max-Age"] == "600"
