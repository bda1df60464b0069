"""The one place where the local stack fills moto's gaps, by patching these of its methods:

- `LambdaFunction._invoke_lambda` (moto runs code only in Docker): Step Functions Lambda tasks and
  `lambda.invoke` run the real handler through LocalLambda; a raised error becomes the payload's
  errorType, which Retry and Catch see.
- `Rule.send_to_targets` (moto's EventBridge delivers only to SQS, logs and buses): a Lambda target
  becomes an asynchronous invocation, with its retries and dead-letter destinations.
- `CognitoIdpBackend.confirm_sign_up` / `admin_confirm_sign_up` (moto runs no Cognito triggers):
  a pool's PostConfirmation function runs synchronously, as Cognito runs it, and its failure fails
  the confirmation.
- DynamoDB's writes (`put_item`, `update_item`, `delete_item`, `transact_write_items` and the PartiQL
  ones): moto checks a condition and then writes, so two writes on two threads could both pass the
  same `quantity >= :wanted`; DynamoDB applies each conditional write atomically. They take turns.
- the Step Functions retrier's `time.sleep` (optional): backoff is recorded and skipped, so tests
  assert the schedule without waiting.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

from moto.awslambda.models import LambdaFunction
from moto.cognitoidp.exceptions import InvalidParameterException
from moto.cognitoidp.models import CognitoIdpBackend, CognitoIdpUser
from moto.dynamodb.models import DynamoDBBackend
from moto.events.models import Rule
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

from local_stack.functions import FunctionError
from local_stack.runtime import LocalLambda

_DYNAMODB_WRITES = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "execute_statement",
    "execute_transaction",
    "batch_execute_statement",
)
_DYNAMODB_TURN = threading.RLock()


def _one_at_a_time(write: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(write)
    def atomic(*args: Any, **kwargs: Any) -> Any:
        with _DYNAMODB_TURN:
            return write(*args, **kwargs)

    return atomic


@contextmanager
def moto_runs_local_functions(runtime: LocalLambda, backoff: list[float] | None = None) -> Iterator[None]:
    """While active, moto hands Lambda work to `runtime`. With `backoff`, Step Functions retry
    delays are appended to it instead of slept."""
    original_send = Rule.send_to_targets
    original_confirm = CognitoIdpBackend.confirm_sign_up
    original_admin_confirm = CognitoIdpBackend.admin_confirm_sign_up

    def invoke(function: LambdaFunction, event: str | None = None) -> tuple[str, bool, str]:
        payload = json.loads(event) if isinstance(event, str) else (event or {})
        try:
            result = runtime.invoke(function.function_arn, payload)
        except FunctionError as error:
            return json.dumps(error.payload()), True, "".join(error.trace)
        return json.dumps(result), False, ""

    def send_to_targets(rule: Rule, original_event: Any, transform_input: bool = True) -> None:
        if not rule.event_pattern.matches_event(original_event):
            return
        lambda_targets = [target for target in rule.targets if ":lambda:" in target["Arn"]]
        for target in lambda_targets:
            runtime.invoke_async(target["Arn"], copy.deepcopy(original_event))
        others = copy.copy(rule)
        others.targets = [target for target in rule.targets if target not in lambda_targets]
        if others.targets:
            original_send(others, original_event, transform_input)

    def confirm_sign_up(backend: CognitoIdpBackend, client_id: str, username: str) -> str:
        result: str = original_confirm(backend, client_id, username)
        _post_confirmation(runtime, backend, _pool_of_client(backend, client_id), username, client_id)
        return result

    def admin_confirm_sign_up(backend: CognitoIdpBackend, user_pool_id: str, username: str) -> str:
        result: str = original_admin_confirm(backend, user_pool_id, username)
        _post_confirmation(runtime, backend, user_pool_id, username, None)
        return result

    with ExitStack() as patches:
        patches.enter_context(patch.object(LambdaFunction, "_invoke_lambda", invoke))
        patches.enter_context(patch.object(Rule, "send_to_targets", send_to_targets))
        patches.enter_context(patch.object(CognitoIdpBackend, "confirm_sign_up", confirm_sign_up))
        patches.enter_context(patch.object(CognitoIdpBackend, "admin_confirm_sign_up", admin_confirm_sign_up))
        for name in _DYNAMODB_WRITES:
            patches.enter_context(patch.object(DynamoDBBackend, name, _one_at_a_time(getattr(DynamoDBBackend, name))))
        if backoff is not None:
            patches.enter_context(patch.object(retrier_decl, "time", SimpleNamespace(sleep=backoff.append)))
        yield


def _post_confirmation(
    runtime: LocalLambda, backend: CognitoIdpBackend, pool_id: str, username: str, client_id: str | None
) -> None:
    """Run the pool's PostConfirmation trigger, as Cognito does after a confirmation."""
    pool = backend.describe_user_pool(pool_id)
    trigger = pool.extended_config.get("LambdaConfig", {}).get("PostConfirmation")
    if not trigger:
        return
    user: CognitoIdpUser = backend.admin_get_user(pool_id, username)
    event = {
        "version": "1",
        "region": backend.region_name,
        "userPoolId": pool_id,
        "userName": user.username,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown", "clientId": client_id or "CLIENT_ID_NOT_APPLICABLE"},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": {**user.attribute_lookup, "cognito:user_status": "CONFIRMED"}},
        "response": {},
    }
    try:
        runtime.invoke(trigger, event)
    except FunctionError as error:
        # What Cognito answers when a trigger fails: the confirmation fails with the function's error.
        raise InvalidParameterException(f"PostConfirmation failed with error {error.message}.") from error


def _pool_of_client(backend: CognitoIdpBackend, client_id: str) -> str:
    return next(pool_id for pool_id, pool in backend.user_pools.items() if client_id in pool.clients)
