"""The cold path (docs/architecture.md): CPU time of a fresh interpreter that imports a function's handler
and serves its first sample event (its clients created, its AWS requests made to make dev's local
endpoint), against the floor of its kind measured side by side: the libraries the design requires
and nothing of ours. Target: at most 1.15x the floor. A bare boto3 call (import boto3, one client,
one call) stays printed for reference.

Both run in a virtual environment shaped like the Lambda runtime: the dependencies layer's packages
and boto3, nothing else (the development environment also has awscrt and pyOpenSSL, which boto3
would import, and which Lambda does not have).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from local_stack.cloudformation.template import PROJECT_ROOT
from local_stack.lambda_runtime.functions import FunctionSpec
from support.openapi import APIS

API_FUNCTIONS = frozenset(function for function, _, _ in APIS.values())
RUNTIME_VENV = PROJECT_ROOT / ".aws-sam" / "bench-runtime"


def runtime_python() -> Path:
    """The Lambda-like interpreter: the layer's requirements and what the managed runtime brings
    (boto3, the SnapStart hooks), pinned by requirements/dev.txt; created on first use, brought up
    to date on every use."""
    python = RUNTIME_VENV / "bin" / "python"
    uv = Path(sys.executable).with_name("uv")
    if not python.exists():
        subprocess.run([str(uv), "venv", "--quiet", "--python", sys.executable, str(RUNTIME_VENV)], check=True)
    requirements = PROJECT_ROOT / "requirements"
    subprocess.run(
        [
            str(uv),
            "pip",
            "install",
            "--quiet",
            "--python",
            str(python),
            "-r",
            str(requirements / "runtime.in"),
            "boto3",
            "snapshot-restore-py",
            "-c",
            str(requirements / "dev.txt"),
        ],
        check=True,
    )
    return python


_MEASURE = """
import json, resource, sys
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
start = cpu()
{body}
print(json.dumps(cpu() - start))
"""
BASELINE = 'import boto3\nboto3.client("dynamodb").list_tables()'
TARGET = 1.15
# What no function of a kind can go below: the baseline, one line through the Powertools Logger and
# one Pydantic model validated; an API function adds Powertools' validating REST resolver serving one
# POST whose body is a Pydantic model.
_EVENT_FLOOR = (
    BASELINE
    + """
from aws_lambda_powertools import Logger
from pydantic import BaseModel
Logger(service="floor", stream=open("/dev/null", "w")).info("cold")
class Item(BaseModel):
    quantity: int
Item.model_validate({"quantity": 1})"""
)
FLOORS = {
    "event": _EVENT_FLOOR,
    "api": _EVENT_FLOOR
    + """
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
app = APIGatewayRestResolver(enable_validation=True)
@app.post("/items")
def add(item: Item) -> Item:
    return item
app.resolve({"httpMethod": "POST", "path": "/items", "headers": {"content-type": "application/json"},
             "body": '{"quantity": 1}', "requestContext": {}}, None)""",
}
RUNS = 7
_FIRST_EVENT = """
import json
from types import SimpleNamespace
import {module}
context = SimpleNamespace(
    function_name={name!r}, function_version="$LATEST", invoked_function_arn={arn!r}, memory_limit_in_mb=512,
    aws_request_id="cold-path", log_group_name="cold-path", log_stream_name="cold-path",
    get_remaining_time_in_millis=lambda: 10_000,
)
try:
    {module}.{handler}(json.loads({event!r}), context)
except Exception:
    pass  # a sample that shows a step refusing: its requests were made
"""


def cpu_seconds(body: str, environment: dict[str, str], path: list[str]) -> float:
    """Median CPU seconds of `body` in fresh interpreters (bytecode cached, as in a Lambda image)."""
    env = {**os.environ, **environment, "PYTHONPATH": os.pathsep.join(path)}
    python = str(runtime_python())
    samples = []
    for _ in range(RUNS):
        output = subprocess.run(
            [python, "-c", _MEASURE.format(body=body)], env=env, capture_output=True, text=True, check=True
        ).stdout
        samples.append(float(output.strip().splitlines()[-1]))
    return statistics.median(samples)


def kind_of(logical_id: str) -> str:
    """The floor a function is held to: an API function's or any other's."""
    return "api" if logical_id in API_FUNCTIONS else "event"


def measure(
    functions: dict[str, FunctionSpec], endpoint: str, environments: dict[str, dict[str, str]], events: dict[str, str]
) -> dict[str, dict[str, float]]:
    """For each function with a sample event: its cold path, the floor of its kind measured beside it
    and the bare boto3 baseline, in CPU milliseconds; `ratio` is to the floor. `environments` are the
    functions' variables as make dev resolves them; `events` their first samples."""
    aws = _aws(endpoint)
    results = {}
    for logical_id, spec in sorted(functions.items()):
        if logical_id not in events:
            continue
        module, handler = spec.handler.rsplit(".", 1)
        path = [str(spec.code_dir), *map(str, spec.layer_dirs)]
        environment = {**environments.get(logical_id, spec.environment), **aws, "AWS_LAMBDA_FUNCTION_NAME": spec.name}
        body = _FIRST_EVENT.format(
            module=module, handler=handler, name=spec.name, arn=spec.arn, event=events[logical_id]
        )
        baseline = cpu_seconds(BASELINE, aws, [])
        floor = cpu_seconds(FLOORS[kind_of(logical_id)], aws, [])
        function = cpu_seconds(body, environment, path)
        results[logical_id] = {
            "baseline_ms": baseline * 1000,
            "floor_ms": floor * 1000,
            "function_ms": function * 1000,
            "ratio": function / floor,
        }
    return results


def _aws(endpoint: str) -> dict[str, str]:
    return {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_ENDPOINT_URL": endpoint,
    }
