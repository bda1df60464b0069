"""AWS clients, created on first use and reused by every call in the process.

Created lazily so that a cold start pays only for the clients its first request needs, and so that
a SnapStart snapshot (taken after the module is imported) holds no client and no connection.
"""

from __future__ import annotations

import os
import random
from functools import cache
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from snapshot_restore_py import register_after_restore

if TYPE_CHECKING:
    from botocore.config import _S3Dict
    from mypy_boto3_s3 import S3Client

# Fail fast and let the caller's retry policy (API client, async invoke, workflow) take over.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, tcp_keepalive=True
)


# One client per service, made on first use.
dynamodb = cache(lambda: boto3.client("dynamodb", config=CLIENT_CONFIG))
events = cache(lambda: boto3.client("events", config=CLIENT_CONFIG))
sns = cache(lambda: boto3.client("sns", config=CLIENT_CONFIG))
stepfunctions = cache(lambda: boto3.client("stepfunctions", config=CLIENT_CONFIG))
cognito = cache(lambda: boto3.client("cognito-idp", config=CLIENT_CONFIG))


@cache
def s3() -> S3Client:
    """Signature V4 for presigned URLs; path-style addressing against a local endpoint (its host is an
    IP address, which no bucket name can prefix), virtual-hosted on AWS."""
    addressing: _S3Dict = {"addressing_style": "path" if os.environ.get("AWS_ENDPOINT_URL") else "virtual"}
    return boto3.client("s3", config=CLIENT_CONFIG.merge(Config(signature_version="s3v4", s3=addressing)))


def forget_what_the_snapshot_holds() -> None:
    """After a SnapStart restore, every environment restored from the snapshot would share its
    state: clients made before it (and their open connections) are dropped, to be made again on
    first use, and `random`, which botocore's retry jitter draws from, is reseeded from the OS so
    that restored environments do not retry in step. Ids come from os.urandom (uuid4): unaffected."""
    for client in (dynamodb, events, sns, stepfunctions, cognito, s3):
        client.cache_clear()
    random.seed()


register_after_restore(forget_what_the_snapshot_holds)
