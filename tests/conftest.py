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
from moto import mock_aws

from local_stack.deploy import Stack, deploy
from local_stack.functions import FunctionInstance
from local_stack.template import SamTemplate, load
from support.api import ApiClient

_instances: dict[tuple[str, tuple[tuple[str, str], ...]], FunctionInstance] = {}


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


@pytest.fixture
def function(stack: Stack) -> Any:
    """function("ApiFunction") -> a warm instance of it, shared by the tests that see the same environment."""

    def instance(logical_id: str) -> FunctionInstance:
        spec = stack.functions[logical_id]
        key = (logical_id, tuple(sorted(spec.environment.items())))
        if key not in _instances:
            _instances[key] = FunctionInstance(spec)
        return _instances[key]

    return instance


@pytest.fixture
def api(function: Any) -> ApiClient:
    return ApiClient(function("ApiFunction"))
