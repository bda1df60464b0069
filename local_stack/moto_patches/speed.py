"""moto doing the same work again and again, done once: the patches that only make the local stack
faster, applied with the rest by `moto_runs_local_functions` (adapter.py). What moto answers does not
change; a test of each shows what it saves.

- `definitions_parsed_once`: moto parses a definition (ANTLR, tens of milliseconds) to validate it on
  every CreateStateMachine and again for every execution, though a stack's state machines are the
  same in every test and every order. Each definition is parsed once and its program reused: moto's
  evaluation keeps its state in each execution's Environment (a Map already runs one program in many
  iterations at once), so executions can share it.
- `task_clients_reused`: moto makes a new boto3 client for every task a workflow runs (a few
  milliseconds each, about a tenth of a workflow test's time); one per service and region serves them all.
- `paths_parsed_once`: every JSONPath of every state (`$.order_id`, a ResultPath, an input
  transformer's path) is parsed again each time a state runs; jsonpath-ng builds its parser anew for
  each (its lexer and LALR tables, about a millisecond). A parsed path is only read by `find` and
  `update_or_create`, so one per path serves every execution.
- `one_signing_key`: SNS signs each notification it delivers; moto made a 2048-bit RSA key for every
  subscription (tens of milliseconds, for every topic a test subscribes to). SNS signs with one
  certificate per region; here one key per process signs them all, and every message still
  verifies against the certificate its SigningCertURL names.
- `actions_listed_once`: moto lists a response class's methods (`inspect.getmembers`) on every
  request, to find the action's; the methods of a class are listed once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import SimpleNamespace
from typing import Any
from unittest.mock import patch

import boto3
import jsonpath_ng.ext
import jsonpath_ng.ext.parser
import jsonpath_ng.parser
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.core import responses, utils
from moto.sns.models import Subscription
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import json_path

PARSED_PATHS = 4096  # a stack's definitions hold a few hundred paths; tests add a few of their own


@contextmanager
def moto_made_faster() -> Iterator[None]:
    with ExitStack() as patches:
        for faster in (
            definitions_parsed_once,
            task_clients_reused,
            paths_parsed_once,
            one_signing_key,
            actions_listed_once,
        ):
            patches.enter_context(faster())
        yield


_PROGRAMS: dict[str, tuple[EvalComponent, Any]] = {}
_PARSING = threading.RLock()  # activations can nest: a program is then parsed by the outer one


@contextmanager
def definitions_parsed_once() -> Iterator[None]:
    parse = AmazonStateLanguageParser.parse

    def parsed_once(definition: str) -> tuple[EvalComponent, Any]:
        with _PARSING:
            if definition not in _PROGRAMS:
                program = parse(definition)  # an invalid definition raises, and is not kept
                _keyed(program[0], set())
                _PROGRAMS[definition] = program
            return _PROGRAMS[definition]

    with patch.object(AmazonStateLanguageParser, "parse", staticmethod(parsed_once)):
        yield


def _keyed(component: Component, seen: set[int]) -> None:
    """Give each component of the program its heap key now: moto draws one on first use, and two
    executions using a shared program for the first time at once could otherwise draw two (a
    retrier's attempt count is kept under it)."""
    if id(component) in seen:
        return
    seen.add(id(component))
    if isinstance(component, EvalComponent):
        _ = component.heap_key
    for value in vars(component).values():
        parts = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else (value,)
        for part in parts:
            if isinstance(part, Component):
                _keyed(part, seen)


@contextmanager
def task_clients_reused() -> Iterator[None]:
    make = boto3.client  # what moto's boto_client_for calls
    clients: dict[tuple[str, str, str | None], Any] = {}
    making = threading.Lock()

    def reused(**arguments: Any) -> Any:
        # moto passes the same other arguments every time: fake keys, no retries, its timeouts
        key = (arguments["service_name"], arguments["region_name"], arguments.get("endpoint_url"))
        with making:
            if key not in clients:
                clients[key] = make(**arguments)
            return clients[key]

    with patch("moto.stepfunctions.parser.asl.utils.boto_client.boto3", SimpleNamespace(client=reused)):
        yield


@functools.lru_cache(maxsize=PARSED_PATHS)
def _parsed(path: str, extended: bool) -> Any:
    # The parser looked up when called: a test may have wrapped it to count the parses.
    return jsonpath_ng.ext.parser.parse(path) if extended else jsonpath_ng.parser.parse(path)


_PARSING_PATHS = threading.Lock()


def _parsed_once(path: str, extended: bool) -> Any:
    with _PARSING_PATHS:  # lru_cache alone lets executions that miss together each parse
        return _parsed(path, extended)


@contextmanager
def paths_parsed_once() -> Iterator[None]:
    extended, plain = functools.partial(_parsed_once, extended=True), functools.partial(_parsed_once, extended=False)
    with (
        patch.object(json_path, "parse", extended),  # every path a state reads
        patch.object(result_path, "parse", plain),  # a ResultPath
        patch.object(jsonpath_ng.ext, "parse", extended),  # an input transformer's (imported when used)
    ):
        yield


@functools.cache
def _signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@contextmanager
def one_signing_key() -> Iterator[None]:
    with patch.object(Subscription, "private_key", lambda subscription: _signing_key()):
        yield


@functools.cache
def _actions(response_class: type) -> list[str]:
    return utils.method_names_from_class(response_class)


@contextmanager
def actions_listed_once() -> Iterator[None]:
    with patch.object(responses, "method_names_from_class", _actions):
        yield
