"""`make dev`: the whole application on 127.0.0.1, without Docker or an AWS account.

- AWS: a moto server in this process (DynamoDB, EventBridge, Step Functions executing the real ASL,
  SNS, SQS), its resources made from template.yaml (`deploy`); the handlers' boto3 clients reach it
  through AWS_ENDPOINT_URL, and so can the AWS CLI (`aws --endpoint-url ...`).
- API: SAM CLI's own API Gateway emulation (`LocalApigwService`: routes from the template, proxy
  events, CORS, error responses) with a Lambda runner that runs the handler in process instead of
  in a Docker container.
- Events: LocalLambda's workers deliver the orders stream, EventBridge targets and SQS queues as the
  template's event source mappings and invoke configs say (adapter.py fills moto's gaps).
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import sys
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import boto3
from moto import mock_aws
from moto.server import ThreadedMotoServer
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.apigw.local_apigw_service import LocalApigwService

from local_stack.adapter import moto_runs_local_functions
from local_stack.deploy import Stack, deploy
from local_stack.functions import FunctionError, running
from local_stack.runtime import LocalLambda
from local_stack.template import REGION, TEMPLATE, load

_print_lock = threading.Lock()


def say(line: str, out: TextIO | None = None) -> None:
    with _print_lock:
        print(line, file=out or _terminal(), flush=True)


def _terminal() -> TextIO:
    return sys.__stdout__ or sys.stdout


class FunctionLogs(io.TextIOBase):
    """Standard output of the process: a line written while a function's code runs on this thread
    is prefixed with the function's name (Lambda would put it in that function's log stream)."""

    def __init__(self, terminal: TextIO) -> None:
        self.terminal = terminal
        self._partial = threading.local()

    def write(self, text: str) -> int:
        function = getattr(running, "function", None)
        if function is None:
            self.terminal.write(text)
            return len(text)
        buffered = getattr(self._partial, "text", "") + text
        *lines, self._partial.text = buffered.split("\n")
        for line in lines:
            say(f"[{function}] {line}")
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()

    def writable(self) -> bool:
        return True


class ApiLambdaRunner:
    """What LocalApigwService expects of SAM's LocalLambdaRunner, running the handler in process."""

    def __init__(self, runtime: LocalLambda) -> None:
        self.runtime = runtime

    def is_debugging(self) -> bool:
        return False

    def invoke(self, function_identifier: str, event: str, stdout: Any, stderr: Any = None, **_: Any) -> None:
        request = json.loads(event)
        started = time.monotonic()
        try:
            result = self.runtime.invoke(function_identifier, request)
            status = result.get("statusCode", "?") if isinstance(result, dict) else "?"
        except FunctionError as error:
            result, status = error.payload(), f"502 ({error.error_type})"
        elapsed = (time.monotonic() - started) * 1000
        say(f"[api] {request.get('httpMethod')} {request.get('path')} → {status} in {elapsed:.0f} ms")
        stdout.write_str(json.dumps(result))


@dataclass
class ExecutionReporter:
    """One line per finished workflow execution: its name, outcome, duration and path of states."""

    stack: Stack
    reported: set[str] = field(default_factory=set)

    def report_finished(self) -> None:
        sfn = self.stack.client("stepfunctions")
        for machine in sfn.list_state_machines()["stateMachines"]:
            for execution in sfn.list_executions(stateMachineArn=machine["stateMachineArn"])["executions"]:
                arn = execution["executionArn"]
                if execution["status"] == "RUNNING" or arn in self.reported:
                    continue
                self.reported.add(arn)
                events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
                path = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
                seconds = (execution["stopDate"] - execution["startDate"]).total_seconds()
                say(f"[workflow] {execution['name']} {execution['status']} in {seconds:.2f} s: {' → '.join(path)}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class LocalStack:
    service: LocalApigwService
    stack: Stack
    aws_endpoint: str  # the moto server, for the AWS CLI and for `sam local` containers


@contextmanager
def local_stack(
    template_path: Path = TEMPLATE,
    host: str = "127.0.0.1",
    port: int = 3000,
    moto_port: int = 0,
    moto_host: str = "127.0.0.1",
) -> Iterator[LocalStack]:
    """Everything but the blocking serve: moto, resources, functions, workers, API service.

    The functions' own clients reach moto in process (moto's mock: no HTTP round trip per call);
    the moto server shares the same state, for the AWS CLI and for `sam local` containers.
    """
    moto_port = moto_port or free_port()
    os.environ.update(
        MOTO_PORT=str(moto_port),
        AWS_ACCESS_KEY_ID="local",
        AWS_SECRET_ACCESS_KEY="local",
        AWS_DEFAULT_REGION=REGION,
        AWS_REGION=REGION,
    )
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call would drown the rest
    sys.stdout = FunctionLogs(_terminal())
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stop = threading.Event()
    with ExitStack() as cleanup:
        cleanup.enter_context(mock_aws(config={"stepfunctions": {"execute_state_machine": True}}))
        moto = ThreadedMotoServer(ip_address=moto_host, port=moto_port, verbose=False)
        moto.start()
        cleanup.callback(moto.stop)
        cleanup.callback(stop.set)
        stack = deploy(load(template_path), boto3.session.Session(region_name=REGION))

        runtime = LocalLambda(stack)
        cleanup.enter_context(moto_runs_local_functions(runtime))
        runtime.start_workers(stop)
        reporter = ExecutionReporter(stack)
        threading.Thread(target=_every, args=(0.25, reporter.report_finished, stop), daemon=True).start()

        stacks, _ = SamLocalStackProvider.get_stacks(str(template_path))
        api = ApiProvider(stacks).api
        service = LocalApigwService(api, ApiLambdaRunner(runtime), port=port, host=host)
        service.create()
        yield LocalStack(service, stack, f"http://127.0.0.1:{moto_port}")


def _every(seconds: float, action: Any, stop: threading.Event) -> None:
    while not stop.wait(seconds):
        try:
            action()
        except Exception as error:
            say(f"[local] report failed: {error}")


def describe(local: LocalStack, host: str, port: int) -> list[str]:
    url = f"http://{host}:{port}"
    lines = [f"Serverless Orders is running on {url} (Ctrl-C to stop)", "Routes:"]
    for route in sorted(local.service.api.routes, key=lambda r: (r.path, r.methods)):
        methods = ",".join(method for method in route.methods if method != "OPTIONS")
        lines.append(f"  {methods:<6} {url}{route.path}  → {route.function_name}")
    lines.append(f"AWS (moto): {local.aws_endpoint}  e.g. aws --endpoint-url {local.aws_endpoint} sqs list-queues")
    lines.append("Auth: the template's Cognito authorizer is not enforced locally, as with `sam local start-api`.")
    return lines


def sam_local_env_vars(stack: Stack, endpoint: str) -> dict[str, Any]:
    """An --env-vars file for `sam local start-api/invoke` (Docker) against this stack's moto server:
    each function's environment with the local resources' names."""
    return {
        "Parameters": {"AWS_ENDPOINT_URL": endpoint},
        **{logical_id: dict(spec.environment) for logical_id, spec in stack.functions.items()},
    }


def outputs(stack: Stack) -> dict[str, Any]:
    """The template's Outputs, resolved to the local resources (what `sam list stack-outputs` shows)."""
    return {name: stack.output(name) for name in stack.template.outputs if name != "ApiUrl"}
