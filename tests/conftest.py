"""Fixtures shared by every suite: moto in place of AWS, and the application's resources made
from template.yaml itself, so that the tests break when the template and the code disagree."""

from __future__ import annotations

import os

# Before anything creates a boto3 client: fake credentials, no endpoint or profile. Only the
# integration suite, given AWS_SAM_STACK_NAME, keeps the real ones (moto still intercepts the rest).
if not os.environ.get("AWS_SAM_STACK_NAME"):
    for _name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(_name, None)
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_REGION="us-east-1",
    )

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from moto import mock_aws

from local_stack.adapter import moto_runs_local_functions
from local_stack.deploy import FunctionSpec, Stack, deploy
from local_stack.functions import FunctionInstance
from local_stack.runtime import LocalLambda
from local_stack.template import SamTemplate, load
from support.api import ApiClient
from support.workflow import wait_for_execution

_instances: dict[tuple[str, tuple[tuple[str, str], ...]], FunctionInstance] = {}


@pytest.fixture(autouse=True)
def sdk_retries_without_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore still retries what the tests' injected faults break, but without waiting."""
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture(scope="session")
def sam_template() -> SamTemplate:
    return load()


@pytest.fixture
def aws() -> Iterator[boto3.session.Session]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.session.Session(region_name="us-east-1")


@pytest.fixture
def stack(aws: boto3.session.Session, sam_template: SamTemplate) -> Stack:
    return deploy(sam_template, aws)


def _warm_instance(spec: FunctionSpec) -> FunctionInstance:
    """One instance per function and environment for the whole session: imported once, as a warm
    Lambda would be (every test's stack has the same names, so the environment is the same)."""
    key = (spec.logical_id, tuple(sorted(spec.environment.items())))
    if key not in _instances:
        _instances[key] = FunctionInstance(spec)
    return _instances[key]


@pytest.fixture
def backoff() -> list[float]:
    """The Step Functions retry delays of the test, recorded instead of slept."""
    return []


@pytest.fixture
def local_lambda(stack: Stack, backoff: list[float]) -> Iterator[LocalLambda]:
    """The stack's functions, run in process: moto's Lambda invocations, EventBridge Lambda targets
    and event source mappings reach the real handlers."""
    runtime = LocalLambda(stack, _warm_instance)
    with moto_runs_local_functions(runtime, backoff):
        yield runtime
        _wait_for_executions(stack)


def _wait_for_executions(stack: Stack) -> None:
    """Executions run on moto's threads: let a test's executions end before its stack goes, so that
    none writes into the next test's tables."""
    sfn = stack.client("stepfunctions")
    for machine in sfn.list_state_machines()["stateMachines"]:
        running = sfn.list_executions(stateMachineArn=machine["stateMachineArn"], statusFilter="RUNNING")
        for execution in running["executions"]:
            wait_for_execution(stack, execution["executionArn"])


@pytest.fixture
def function(local_lambda: LocalLambda) -> Any:
    """function("ApiFunction") -> the warm instance of that function."""
    return lambda logical_id: local_lambda.instances[logical_id]


@pytest.fixture
def api(function: Any) -> ApiClient:
    return ApiClient(function("ApiFunction"))
