"""The fake payment provider of `make dev`, served on a free port of this process for the tests and
the benchmark: the functions reach it over HTTP as they reach the real one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import boto3
from werkzeug.serving import make_server

from local_stack.fakes.payment_provider import PaymentProvider


def current_api_key() -> str | None:
    """The value of the one secret of the moto account in use (the stack's PaymentApiKey)."""
    secrets = boto3.client("secretsmanager")
    listed = secrets.list_secrets()["SecretList"]
    return str(secrets.get_secret_value(SecretId=listed[0]["ARN"])["SecretString"]) if listed else None


@contextmanager
def served_provider() -> Iterator[tuple[PaymentProvider, str]]:
    """The provider, accepting the current stack's key, and its base URL (PaymentApiUrl)."""
    provider = PaymentProvider(current_api_key)
    server = make_server("127.0.0.1", 0, provider, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield provider, f"http://127.0.0.1:{server.server_port}/v1"
    finally:
        server.shutdown()
