"""AWS clients, created on first use and reused by every call in the process.

Created lazily so that a cold start pays only for the clients its first request needs.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_stepfunctions import SFNClient

# Fail fast and let the caller's retry policy (API client, async invoke, workflow) take over.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, tcp_keepalive=True
)


@cache
def dynamodb() -> DynamoDBClient:
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@cache
def events() -> EventBridgeClient:
    return boto3.client("events", config=CLIENT_CONFIG)


@cache
def sns() -> SNSClient:
    return boto3.client("sns", config=CLIENT_CONFIG)


@cache
def stepfunctions() -> SFNClient:
    return boto3.client("stepfunctions", config=CLIENT_CONFIG)


@cache
def cognito() -> CognitoIdentityProviderClient:
    return boto3.client("cognito-idp", config=CLIENT_CONFIG)
