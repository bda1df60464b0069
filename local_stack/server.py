"""`make dev`: the whole application on 127.0.0.1, without Docker or an AWS account.

- AWS: a moto server in this process (DynamoDB, EventBridge, Step Functions executing the real ASL,
  SNS, SQS), its resources made from template.yaml (`deploy`); the handlers' boto3 clients reach it
  through AWS_ENDPOINT_URL, and so can the AWS CLI (`aws --endpoint-url ...`).
- API: SAM CLI's own API Gateway emulation, one per API, with the authorizers and integrations it
  skips and a Lambda runner instead of a Docker container (`apigateway/sam_cli.py`).
- Payment: a fake provider (`fakes/payment_provider.py`) on its own port; the template's PaymentApiUrl points
  the functions at it, and it accepts the PaymentApiKey secret's value as its API key.
- Events: LocalLambda's workers deliver the orders stream, EventBridge targets and SQS queues as the
  template's event source mappings and invoke configs say (`moto_patches/` fills moto's gaps).
- Alarms: the services publish their CloudWatch metrics and the template's alarms are evaluated
  every EVALUATION_SECONDS (local_stack/cloudwatch); each state change is printed and notified.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import boto3
from moto import mock_aws
from moto.server import ThreadedMotoServer
from moto.stepfunctions.parser.api import ExecutionStatus
from moto.stepfunctions.parser.backend.execution import Execution
from moto.stepfunctions.parser.models import stepfunctions_parser_backends
from werkzeug.serving import BaseWSGIServer, make_server

from local_stack.apigateway.sam_cli import APIS, ServedApi, served_api
from local_stack.cloudformation.deploy import ACCOUNT_ID, Stack, deploy
from local_stack.cloudformation.template import REGION, TEMPLATE, load, read_source
from local_stack.cloudwatch.alarms import AlarmEvaluator, StateChange, states_summary
from local_stack.fakes.payment_provider import PaymentProvider
from local_stack.lambda_runtime.runtime import LocalLambda
from local_stack.lambda_runtime.workers import FunctionPool
from local_stack.listen import LOOPBACK, listen_addresses, listening_sockets, one_interface
from local_stack.logs import FunctionLogs, say, terminal
from local_stack.moto_patches.adapter import moto_runs_local_functions
from local_stack.moto_patches.nested import EXECUTION_ENDS


@dataclass
class ExecutionReporter:
    """One line per finished workflow execution: its name, outcome, duration and path of states.

    The ended executions are found on moto's backend in this process, without a request: listing
    them through the API at every end read back every execution the stack ever ran. Only the history
    of each new one is read, through the API."""

    stack: Stack
    reported: set[str] = field(default_factory=set)

    def report_finished(self) -> None:
        backend = stepfunctions_parser_backends[ACCOUNT_ID][REGION]
        executions = [
            cast(Execution, execution)  # the parser backend's own kind (moto's annotation names the other)
            for machine in list(backend.state_machines)
            for execution in list(machine.executions)
        ]
        sfn = self.stack.client("stepfunctions")
        for execution in executions:
            status, stopped = execution.exec_status, execution.stop_date  # the stop date is set first
            if status in (None, ExecutionStatus.RUNNING) or stopped is None or execution.exec_arn in self.reported:
                continue
            self.reported.add(execution.exec_arn)
            events = sfn.get_execution_history(executionArn=execution.exec_arn, maxResults=1000)["events"]
            path = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
            seconds = (stopped - execution.start_date).total_seconds()
            say(f"[workflow] {execution.name} {status.value} in {seconds:.2f} s: {' → '.join(path)}")


EVALUATION_SECONDS = 5.0  # how often `make dev` evaluates the alarms (CloudWatch: every minute)


@dataclass(frozen=True)
class ServedPayment:
    url: str  # the base URL the functions call (`PaymentApiUrl`), e.g. http://127.0.0.1:PORT/v1
    provider: PaymentProvider
    servers: tuple[BaseWSGIServer, ...]  # one per listening address


# The template's secret whose current value the fake provider accepts as its API key.
PAYMENT_KEY_RESOURCE = "PaymentApiKey"


def payment_parameters(url: str) -> dict[str, str]:
    """The template parameters under `make dev`: the functions call the fake provider, and the
    circuit breaker waits briefly, so that a recovery shows within a minute (docs/architecture.md)."""
    return {"PaymentApiUrl": url, "PaymentBreakerWait": "10", "PaymentMaxWait": "120"}


@dataclass(frozen=True)
class LocalStack:
    apis: dict[str, ServedApi]
    stack: Stack
    payment: ServedPayment
    aws_endpoint: str  # the moto server, for the AWS CLI, token requests and `sam local` containers
    aws_hosts: tuple[str, ...] = (LOOPBACK,)  # the addresses moto's server and the payment provider listen on

    def serve(self) -> None:
        """Start answering on every API's port and the payment provider's (each on its own thread)."""
        for api in self.apis.values():
            threading.Thread(target=api.server.serve_forever, name=api.logical_id, daemon=True).start()
        for server in self.payment.servers:
            threading.Thread(target=server.serve_forever, name="PaymentProvider", daemon=True).start()


@contextmanager
def local_stack(
    template_path: Path = TEMPLATE,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    moto_port: int = 0,
    moto_host: str = "127.0.0.1",
    payment_port: int = 0,
) -> Iterator[LocalStack]:
    """Everything but the serving: moto, resources, functions, workers, one gateway per API.

    The functions' own clients reach moto in process (moto's mock: no HTTP round trip per call);
    the moto server shares the same state, for the AWS CLI and for `sam local` containers.
    """
    host = one_interface(host)
    ports = {logical_id: default for logical_id, _, default in APIS} | (ports or {})
    os.environ.update(
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call would drown the rest
    logging.getLogger("samcli").setLevel(logging.ERROR)  # "authorizer not found": enforced here instead
    sys.stdout = FunctionLogs(terminal())
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stop = threading.Event()
    with ExitStack() as cleanup:
        cleanup.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        hosts = listen_addresses(moto_host)
        for address in hosts:  # one moto state, served on each address
            moto = ThreadedMotoServer(ip_address=address, port=moto_port, verbose=False)
            moto.start()
            cleanup.callback(moto.stop)
            moto_port = moto.get_host_and_port()[1]  # the kernel's choice, when 0
        os.environ["MOTO_PORT"] = str(moto_port)
        cleanup.callback(stop.set)
        # Where moto listens: what `sam local` containers must reach listens where they can. The
        # sockets are bound before the template is read: the provider's URL is one of its parameters.
        payment_sockets = cleanup.enter_context(listening_sockets(hosts, payment_port))
        payment_url = f"http://127.0.0.1:{payment_sockets[0].getsockname()[1]}/v1"
        template = load(template_path, parameter_overrides=payment_parameters(payment_url))
        stack = deploy(template, boto3.session.Session(region_name=REGION))
        provider = PaymentProvider(secret_value(stack, PAYMENT_KEY_RESOURCE))
        payment_servers = tuple(
            make_server(address, 0, provider, threaded=True, fd=bound.fileno())
            for address, bound in zip(hosts, payment_sockets, strict=True)
        )
        for payment_server in payment_servers:
            cleanup.callback(payment_server.server_close)
        payment = ServedPayment(payment_url, provider, payment_servers)

        # Each function's instances are worker processes; their clients reach moto over HTTP.
        worker_environment = {**os.environ, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{moto_port}"}
        runtime = LocalLambda(stack, lambda spec: FunctionPool(spec, worker_environment, spec.reserved_concurrency))
        cleanup.enter_context(moto_runs_local_functions(runtime))
        runtime.start_workers(stop)
        reporter = ExecutionReporter(stack)
        threading.Thread(target=_after_each_end, args=(reporter.report_finished, stop), daemon=True).start()
        start_alarms(stack, runtime, stop)

        source = read_source(template_path)
        apis: dict[str, ServedApi] = {}
        for logical_id, port in ports.items():
            apis[logical_id] = api = served_api(source, logical_id, host, port, runtime)
            cleanup.callback(api.server.server_close)
        yield LocalStack(apis, stack, payment, f"http://127.0.0.1:{moto_port}", hosts)


def secret_value(stack: Stack, logical_id: str) -> Callable[[], str | None]:
    """The secret's current value, read at each call (None if the template has no such secret)."""
    if logical_id not in stack.created:
        return lambda: None
    arn, secrets = stack.ref(logical_id), stack.client("secretsmanager")
    return lambda: str(secrets.get_secret_value(SecretId=arn)["SecretString"])


def start_alarms(stack: Stack, runtime: LocalLambda, stop: threading.Event) -> AlarmEvaluator:
    """The template's alarms evaluated now, out of INSUFFICIENT_DATA as a new stack's are (one line
    says so), then every EVALUATION_SECONDS with one line per change of state."""
    alarms = AlarmEvaluator(stack, runtime.metrics)
    first = alarms.evaluate()
    say(f"[alarm] {len(first)} alarms of the template evaluated: {states_summary(first)}")
    alarms.report = print_change
    threading.Thread(target=_every, args=(EVALUATION_SECONDS, alarms.evaluate, stop), daemon=True).start()
    return alarms


def print_change(change: StateChange) -> None:
    say(change.line())


def _every(seconds: float, action: Any, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        _report(action)


def _after_each_end(action: Any, stop: threading.Event, longest: float = 5.0) -> None:
    """`action` whenever executions have ended (the local adapter tells each end), not on a timer:
    an idle stack costs no CPU. The longest wait only bounds an end that nothing told."""
    while not stop.is_set():
        EXECUTION_ENDS.look()
        _report(action)
        EXECUTION_ENDS.sleep(longest)


def _report(action: Any) -> None:
    try:
        action()
    except Exception as error:
        say(f"[local] report failed: {error}")


def describe(local: LocalStack) -> list[str]:
    lines = ["Serverless Orders is running (Ctrl-C to stop)"]
    for api in local.apis.values():
        lines.append(f"{api.logical_id}: {api.url}")
        routes = [
            (",".join(m for m in route.methods if m != "OPTIONS"), route.path) for route in api.service.api.routes
        ]
        routes += [(method, path) for method, path in api.integrations.routes if method != "OPTIONS"]
        for methods, path in sorted(routes, key=lambda route: (route[1], route[0])):
            lines.append(f"  {methods:<6} {api.url}{path}")
    payment = local.payment.url
    lines.append(f"Payment provider (fake): {payment}  (API key: the {PAYMENT_KEY_RESOURCE} secret's value)")
    lines.append(
        f'  an outage: curl -X POST {payment}/__control -d \'{{"mode": "unavailable"}}\' (or ok, slow); '
        f"what it charged: curl {payment}/__charges"
    )
    lines.append(f"AWS (moto): {local.aws_endpoint}  e.g. aws --endpoint-url {local.aws_endpoint} sqs list-queues")
    if local.aws_hosts != (LOOPBACK,):
        port = local.aws_endpoint.rsplit(":", 1)[1]
        lines.append(
            f"  listening on {' and '.join(local.aws_hosts)}, port {port}; "
            f"from a `sam local` container: http://host.docker.internal:{port}"
        )
    lines.append(
        "Auth: both APIs check ID tokens of the local user pool, as API Gateway does. A token: "
        "make token EMAIL=you@example.com [STAFF=1]"
    )
    return lines


def sam_local_env_vars(stack: Stack, endpoint: str) -> dict[str, Any]:
    """An --env-vars file for `sam local start-api/invoke` (Docker) against this stack's moto server:
    each function's environment with the local resources' names, and the local services (the fake
    payment provider) at the address a container reaches the host by."""
    container_host = endpoint.split("//", 1)[1].rsplit(":", 1)[0]
    return {
        # The pool and app client: for the sam-local authorizer layer (local_stack/sam_local_templates.py).
        "Parameters": {
            "AWS_ENDPOINT_URL": endpoint,
            "USER_POOL_ID": stack.ref("UserPool"),
            "USER_POOL_CLIENT_ID": stack.ref("UserPoolClient"),
        },
        **{
            logical_id: {
                name: value.replace("//127.0.0.1:", f"//{container_host}:") for name, value in spec.environment.items()
            }
            for logical_id, spec in stack.functions.items()
        },
    }


def write_whole(path: Path, document: Any) -> None:
    """`document` as JSON at `path`, which appears whole or not at all: a reader that waits for the
    file (the tests, `make token`, tools) could otherwise find it created but still empty."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(document, indent=2))
    os.replace(partial, path)


def outputs(local: LocalStack) -> dict[str, Any]:
    """The template's Outputs, resolved to the local resources (what `sam list stack-outputs` shows),
    with the local APIs' and AWS endpoint's addresses."""
    resolved = {name: local.stack.output(name) for name in local.stack.template.outputs}
    return (
        resolved
        | {f"{logical_id.removesuffix('Api')}ApiUrl": api.url for logical_id, api in local.apis.items()}
        | {"AwsEndpointUrl": local.aws_endpoint, "PaymentProviderUrl": local.payment.url}
    )
