"""botocore reads a service's model files (JSON, up to megabytes) once per Session, for its first
client of that service. Every function instance makes its clients in a Session of its own (and a
Powertools provider makes one more), so each instance read the same files again: tens of
milliseconds for each service, paid by every instance that `make dev` starts and every test.

`share_service_models()` gives every botocore Loader of the process one cache (what botocore
already shares between the clients of one Session), and the forkserver reads the functions'
services into it before it forks any instance (`local_stack.lambda_runtime.preload`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError
from botocore.loaders import Loader

# The services the functions' roles may call (a test reads them from the template).
FUNCTION_SERVICES = ("dynamodb", "events", "sns", "sqs", "stepfunctions", "cognito-idp", "s3", "secretsmanager")

_MODELS: dict[tuple[Any, ...], Any] = {}  # botocore's cache entries: (what was loaded, its arguments)


def share_service_models() -> None:
    """From now on, every Loader of this process keeps what it reads in one cache. Their search paths
    are the same here (botocore's data, boto3's, ~/.aws/models), so an entry means the same file."""
    if getattr(Loader.__init__, "shares_models", False):
        return
    original = Loader.__init__

    @functools.wraps(original)
    def init(self: Loader, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self._cache = _MODELS  # type: ignore[attr-defined]  # botocore's own attribute, private

    init.shares_models = True  # type: ignore[attr-defined]
    Loader.__init__ = init  # type: ignore[method-assign]


def read_service_models(services: Iterable[str]) -> None:
    """Read what a client of each service loads (its models, endpoints and defaults) into the shared
    cache. Explicit keys and region: nothing is looked up, nothing is sent. Speed only: a service
    that botocore cannot make a client of here (an odd AWS config file) is left to the instances."""
    share_service_models()
    session = botocore.session.get_session()
    for service in services:
        try:
            session.create_client(service, region_name="us-east-1", aws_access_key_id="-", aws_secret_access_key="-")
        except BotoCoreError:
            continue
