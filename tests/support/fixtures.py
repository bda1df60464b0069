"""The fixtures of every suite (a plugin that tests/conftest.py loads where tests run): moto in place
of AWS, and the application's resources made from template.yaml itself, so that the tests break
when the template and the code disagree."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.utilities import parameters
from botocore.handlers import BUILTIN_HANDLERS
from botocore.retries.standard import ExponentialBackoff
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.asl.component.state.wait.wait_function.wait_function import WaitFunction

from local_stack.apigateway.integrations import ApiIntegrations
from local_stack.cloudformation.deploy import Stack
from local_stack.cloudformation.template import SamTemplate, load
from local_stack.cloudwatch.publishers import ApiMetrics
from local_stack.fakes.payment_provider import PaymentProvider
from local_stack.lambda_runtime.runtime import LocalLambda
from local_stack.moto_patches.adapter import moto_runs_local_functions
from support.api import ApiClient, id_token_claims, route_templates
from support.aws import TopicCapture
from support.imports import MAX_CONCURRENCY
from support.instances import warm_instance
from support.least_privilege import RECORDER
from support.least_privilege_run import leave_calls
from support.payments import served_provider
from support.shared_stack import SHARED_STACK, moto_for_a_test
from support.workflow import Delays, FakeClock, wait_for_execution

# Every client, whenever created, reports its requests to the least-privilege recorder.
BUILTIN_HANDLERS.append(("before-parameter-build", RECORDER.before_parameter_build))
BUILTIN_HANDLERS.append(("before-call", RECORDER.before_call))


@pytest.fixture(autouse=True)
def sdk_retries_without_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore still retries what the tests' injected faults break, but without waiting."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture(autouse=True)
def no_metric_left_unflushed() -> None:
    """Powertools keeps one metric buffer per process, which every function instance of the tests
    shares (on Lambda, each environment has its own and flushes it after each invocation): what an
    earlier test added through a domain object, without a handler to flush it, is not this test's."""
    Metrics().clear_metrics()


@pytest.fixture(scope="session")
def payment_provider() -> Iterator[tuple[PaymentProvider, str]]:
    """The fake payment provider of `make dev`, served on a free port for the whole session: the
    functions reach it over HTTP as they reach the real one. It accepts the current stack's key."""

    with served_provider() as served:
        yield served


@pytest.fixture(scope="session")
def sam_template(payment_provider: tuple[PaymentProvider, str]) -> SamTemplate:
    """The template as the tests deploy it: the functions call the fake provider, and a bulk import
    runs MAX_CONCURRENCY chunks at once, so that a few chunks show the limit. One template for every
    test: a test on another would deploy it in place of the shared stack, and the next test deploy
    this one again."""
    return load(
        parameter_overrides={"PaymentApiUrl": payment_provider[1], "ImportMaxConcurrency": str(MAX_CONCURRENCY)}
    )


@pytest.fixture
def payments(payment_provider: tuple[PaymentProvider, str]) -> Iterator[PaymentProvider]:
    """The fake provider, answering normally and with no charges yet; tests switch its mode."""
    provider = payment_provider[0]
    provider.reset()
    parameters.clear_caches()  # each test's stack has its own API key
    yield provider
    provider.set_mode("ok")


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One session for every test's clients: a session reads each service's model files once, a new
    one reads them again (about 40 ms a client, and a test's stack makes a dozen)."""
    return boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def aws(boto_session: boto3.session.Session, request: pytest.FixtureRequest) -> Iterator[boto3.session.Session]:
    """moto in place of AWS: an empty account, unless the test uses `stack` (then moto keeps the
    process's deployed stack between tests). boto3's default session (the functions' and moto's own
    clients) is kept too: a new one reads each service's model again (moto's default resets it)."""
    with moto_for_a_test(shared="stack" in request.fixturenames):
        yield boto_session


@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    """moto's server over HTTP (as the AWS CLI and JWKS readers reach it), serving this process's
    backends, so each test's state: one for a module, since stopping one waits for its half-second poll."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def stack(aws: boto3.session.Session, sam_template: SamTemplate) -> Stack:
    """The template deployed, as fresh: one deployment per process and template, reset before each test."""
    return SHARED_STACK.get(sam_template, aws)


@pytest.fixture
def backoff() -> Delays:
    """The Step Functions retry delays of the test, recorded instead of slept."""
    return Delays()


@pytest.fixture
def local_lambda(stack: Stack, backoff: Delays, payments: PaymentProvider) -> Iterator[LocalLambda]:
    """The stack's functions, run in process: moto's Lambda invocations, EventBridge Lambda targets
    and event source mappings reach the real handlers."""
    runtime = LocalLambda(stack, warm_instance)
    RECORDER.stack = stack
    with moto_runs_local_functions(runtime, backoff):
        yield runtime
        _wait_for_executions(stack)
    RECORDER.stack = None
    denied, RECORDER.denied = RECORDER.denied, []
    assert not denied, "requests that the principal's own role does not allow:\n" + "\n".join(map(str, denied))


@pytest.fixture
def clock(function: Any, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """The payment circuit breaker's time, made to pass by the workflow's Wait states: they return
    at once and record how long they would have waited."""
    fake = FakeClock()
    for function_id, module in (("CheckPaymentCircuitFunction", "circuit"), ("ChargePaymentFunction", "charge")):
        monkeypatch.setattr(function(function_id).module(module).breaker, "clock", fake)
    monkeypatch.setattr(WaitFunction, "_wait_interval", lambda self, env, wait_seconds: fake.advance(wait_seconds))
    return fake


def _wait_for_executions(stack: Stack) -> None:
    """Executions run on moto's threads: let a test's executions end before its stack goes, so that
    none writes into the next test's tables."""
    sfn = stack.client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
        for execution in running["executions"]:
            wait_for_execution(stack, execution["executionArn"])


@pytest.fixture
def approval_requests(stack: Stack) -> TopicCapture:
    """What staff are sent on the approvals topic (the workflow's large orders, RequestApprovalFunction)."""
    return TopicCapture(stack, stack.ref("ApprovalRequestsTopic"))


@pytest.fixture
def function(local_lambda: LocalLambda) -> Any:
    """function("ApiFunction") -> the warm instance of that function."""
    return lambda logical_id: local_lambda.instances[logical_id]


STAFF = id_token_claims("staff-0001", "grace@example.com", "Grace", groups=("staff",))


@pytest.fixture
def back_office(local_lambda: LocalLambda, sam_template: SamTemplate, stack: Stack) -> ApiClient:
    """The back-office API, called by a member of staff."""
    routes = route_templates(sam_template, "BackOfficeApi")
    integrations = ApiIntegrations(stack, "BackOfficeApi")
    metrics = ApiMetrics(stack, "BackOfficeApi", local_lambda.metrics)
    function = local_lambda.instances["BackOfficeFunction"]
    return ApiClient(function, routes, http_api=False, claims=STAFF, integrations=integrations, metrics=metrics)


@pytest.fixture
def customer(back_office: ApiClient) -> dict[str, Any]:
    """The ID token claims of a customer whom staff invited (account and profile exist)."""
    from support import seed

    return seed.customer(back_office)


@pytest.fixture
def storefront(
    local_lambda: LocalLambda, sam_template: SamTemplate, stack: Stack, customer: dict[str, Any]
) -> ApiClient:
    """The storefront API, called by `customer`."""
    routes = route_templates(sam_template, "StorefrontApi")
    metrics = ApiMetrics(stack, "StorefrontApi", local_lambda.metrics)
    function = local_lambda.instances["StorefrontFunction"]
    return ApiClient(function, routes, http_api=True, claims=customer, metrics=metrics)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Each process (xdist worker or not) leaves the calls it saw for the report."""
    leave_calls(getattr(session.config, "workerinput", {}).get("workerid", "main"), RECORDER.calls)
