"""DynamoDB as DynamoDB behaves where moto's in-memory backend does not (applied by the adapter):

- Its writes (`put_item`, `update_item`, `delete_item`, `transact_write_items` and the PartiQL
  ones): moto checks a condition and then writes, so two writes on two threads could both pass the
  same `quantity >= :wanted`; DynamoDB applies each conditional write atomically. They take turns.
- Its reads: moto updates the stored item in place, one attribute after another, so a read on
  another thread could see half an update (an import ended, its report not yet named); DynamoDB's
  reads see a write whole or not at all. Each request is answered in turn with the writes.
- `transact_write_items` again: a cancelled transaction rolls back by replacing each of its tables
  with a copy taken before, so a table's stream shard is a new object and every stream reader's
  iterator (the event source mapping's) reads the old one, which never grows again: no later write
  is published. The tables stay the same objects; their data is restored and the stream records of
  the rolled-back writes are removed (DynamoDB publishes nothing for a cancelled transaction).
- `DynamoHandler.transact_write_items` (moto ignores `ClientRequestToken`): within ten minutes, the
  same token with the same parameters is answered as the first call was, without applying it again;
  with other parameters it is refused with IdempotentParameterMismatchException (400). Then the token
  is forgotten. Its clock is `CLIENT_REQUEST_TOKENS.clock`, so tests need not wait.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

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


def _rolled_back_in_place(transact: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(transact)
    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        names = {next(iter(item.values())).get("TableName") for item in transact_items}
        live = {name: backend.tables[name] for name in names if name in backend.tables}
        try:
            return transact(backend, transact_items)
        except Exception:
            for name, table in live.items():
                restored = backend.tables[name]
                if restored is not table:  # moto put back its copy: copy the data, keep the table
                    shard = table.stream_shard
                    published = len(restored.stream_shard.items) if restored.stream_shard is not None else 0
                    vars(table).update({key: value for key, value in vars(restored).items() if key != "stream_shard"})
                    if shard is not None:
                        del shard.items[published:]
                    backend.tables[name] = table
            raise

    return transact_write_items


class IdempotentParameterMismatchError(JsonRESTError):
    """DynamoDB's answer (400) to a token it knows, sent with other parameters."""

    def __init__(self) -> None:
        super().__init__(
            "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException",
            "The request uses the same client token as a previous, but non-identical request.",
        )


class ClientRequestTokens:
    """DynamoDB's idempotency tokens of TransactWriteItems, kept per backend (a reset forgets them)
    for `LIFETIME` seconds of `clock`. Only an applied transaction is remembered: a cancelled one
    changed nothing, and its retry is a new attempt."""

    LIFETIME = 600.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock

    def honoured(self, transact: Callable[[DynamoHandler], Any]) -> Callable[[DynamoHandler], Any]:
        @functools.wraps(transact)
        def transact_write_items(handler: DynamoHandler) -> Any:
            token = handler.body.get("ClientRequestToken")
            if token is None:
                return transact(handler)
            request = {name: value for name, value in handler.body.items() if name != "ClientRequestToken"}
            parameters = json.dumps(request, sort_keys=True)
            seen: dict[str, tuple[float, str, Any]] = vars(handler.dynamodb_backend).setdefault("_request_tokens", {})
            with _DYNAMODB_TURN:  # a call and its retry, side by side, are applied once
                now = self.clock()
                for expired in [known for known, (at, _, _) in seen.items() if now - at >= self.LIFETIME]:
                    del seen[expired]
                if token in seen:
                    _, first_parameters, answer = seen[token]
                    if parameters != first_parameters:
                        raise IdempotentParameterMismatchError()
                    return answer
                answer = transact(handler)
                seen[token] = (now, parameters, answer)
                return answer

        return transact_write_items

    @staticmethod
    def forget(backend: DynamoDBBackend) -> None:
        """Forget the backend's tokens (as a new account would have none)."""
        vars(backend).pop("_request_tokens", None)


CLIENT_REQUEST_TOKENS = ClientRequestTokens()


@contextmanager
def moto_items_as_dynamodb() -> Iterator[None]:
    with ExitStack() as patches:
        for name in _DYNAMODB_WRITES:
            write = getattr(DynamoDBBackend, name)
            if name == "transact_write_items":
                write = _rolled_back_in_place(write)
            patches.enter_context(patch.object(DynamoDBBackend, name, _one_at_a_time(write)))
        honoured = CLIENT_REQUEST_TOKENS.honoured(DynamoHandler.transact_write_items)
        patches.enter_context(patch.object(DynamoHandler, "transact_write_items", honoured))
        patches.enter_context(patch.object(DynamoHandler, "call_action", _one_at_a_time(DynamoHandler.call_action)))
        yield
