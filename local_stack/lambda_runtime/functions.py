"""Runs a function's real handler in this process, isolated as Lambda would run it: its own
environment variables, its own code folder and layers first on sys.path, and its own copy of
every module that comes from them (two functions may import the same module of a layer, and each has
its own settings and Logger). An instance stays warm: its module is imported once, on first use.

Instances take turns (one lock for the process), since environment variables and sys.modules are
shared by the whole process.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from local_stack.cloudwatch import emf


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function as deployed: what the local runtime needs to run it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    timeout: int
    memory_size: int
    reserved_concurrency: int | None = None


_TURN = threading.RLock()

# The function whose code this thread is running, if any: what its output is attributed to.
running = threading.local()


@contextmanager
def acting_as(spec: FunctionSpec) -> Iterator[None]:
    """Work that Lambda does with the function's execution role (dead-letter and on-failure
    deliveries): attributed to the function, as its own calls are."""
    previous = getattr(running, "function", None)
    running.function = spec.logical_id
    try:
        yield
    finally:
        running.function = previous


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_seconds: float
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionError(Exception):
    """The handler raised: `error_type` is what Lambda reports as errorType."""

    def __init__(self, error_type: str, message: str, trace: list[str]) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message
        self.trace = trace

    def payload(self) -> dict[str, Any]:
        return {"errorType": self.error_type, "errorMessage": self.message, "stackTrace": self.trace}


class Throttled(FunctionError):  # noqa: N818 - what Lambda calls it
    """No instance may run: the function's reserved concurrency is in use (Lambda's 429)."""

    def __init__(self, function: str) -> None:
        super().__init__("TooManyRequestsException", f"Rate Exceeded. ({function}: reserved concurrency in use)", [])


class Invocable(Protocol):
    """What runs a function: an instance in this process, or a pool of worker processes."""

    def invoke(self, event: Any, timeout: float | None = None) -> Any: ...


class FunctionInstance:
    def __init__(self, spec: FunctionSpec, base_environment: dict[str, str] | None = None) -> None:
        self.spec = spec
        self.base_environment = dict(os.environ if base_environment is None else base_environment)
        self.roots = (spec.code_dir.resolve(), *(path.resolve() for path in spec.layer_dirs))
        self._prefixes = tuple(os.path.join(root, "") for root in self.roots)
        _FUNCTION_CODE.add(self._prefixes)
        self._modules: dict[str, ModuleType] = {}
        self._handler: Any = None
        self._loaded_at = 0.0

    @property
    def environment(self) -> dict[str, str]:
        return {
            **self.base_environment,
            **self.spec.environment,
            "AWS_LAMBDA_FUNCTION_NAME": self.spec.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        }

    def invoke(self, event: Any, timeout: float | None = None) -> Any:
        """The handler's result; raises FunctionError when the handler raised. `timeout` replaces
        the function's own, for a test of what happens when an invocation runs out of time."""
        context = LambdaContext(
            function_name=self.spec.name,
            invoked_function_arn=self.spec.arn,
            memory_limit_in_mb=self.spec.memory_size,
            timeout_seconds=self.spec.timeout if timeout is None else timeout,
        )
        with _TURN, self._activated(), emf.stdout_collected():
            try:
                if self._handler is None or self._sources_changed():
                    self._load()  # an error here is an init error: Lambda reports it like any other
                return _marshalled(self._handler(event, context))
            except Exception as error:
                trace = traceback.format_exception(error)
                error_type = "Runtime.MarshalError" if isinstance(error, MarshalError) else type(error).__name__
                raise FunctionError(error_type, str(error), trace) from error

    def initialize(self) -> None:
        """Lambda's init phase: import the handler module now (raises FunctionError)."""
        with _TURN, self._activated():
            try:
                self._load()
            except Exception as error:
                raise FunctionError(type(error).__name__, str(error), traceback.format_exception(error)) from error

    def module(self, name: str) -> ModuleType:
        """One of this instance's modules, loaded by its init: for tests that reach into a warm
        instance (to give it a clock they control)."""
        if self._handler is None:
            self.initialize()
        return self._modules[name]

    def _load(self) -> None:
        for name in list(self._modules):
            sys.modules.pop(name, None)
        self._modules.clear()
        importlib.invalidate_caches()
        module_name, handler_name = self.spec.handler.rsplit(".", 1)
        self._loaded_at = time.time()
        for root in self.roots:
            for source in root.rglob("*.py"):
                _drop_stale_bytecode(source)
        module = importlib.import_module(module_name)
        self._handler = getattr(module, handler_name)

    def _sources_changed(self) -> bool:
        """Edits to the function's modules (of its code or its layers) take effect on the next
        invocation; a new module does with the edit that imports it."""
        try:
            return any(
                os.stat(module.__file__).st_mtime > self._loaded_at
                for module in self._modules.values()
                if module.__file__ is not None
            )
        except FileNotFoundError:
            return True  # a module removed: load again, as the code now is

    def _owns(self, module: ModuleType) -> bool:
        location = getattr(module, "__file__", None)
        return location is not None and location.startswith(self._prefixes)

    @contextmanager
    def _activated(self) -> Iterator[None]:
        saved_environment = dict(os.environ)
        saved_path = list(sys.path)
        running.function = self.spec.logical_id
        others = _FUNCTION_CODE.in_sys_modules()
        for name in others:
            del sys.modules[name]
        sys.modules.update(self._modules)
        mine, before = set(self._modules), set(sys.modules)
        _replace_environment(self.environment)
        sys.path[:0] = [str(root) for root in self.roots]
        try:
            yield
        finally:
            # Only this instance's modules (maybe loaded again) and what it imported meanwhile can be
            # function code now: no need to read all of sys.modules.
            loaded = {name: sys.modules[name] for name in mine | (sys.modules.keys() - before) if name in sys.modules}
            self._modules = {name: module for name, module in loaded.items() if self._owns(module)}
            for name, module in loaded.items():
                if _FUNCTION_CODE.hold(module):
                    del sys.modules[name]
            sys.modules.update(others)
            sys.path[:] = saved_path
            running.function = None
            _replace_environment(saved_environment)


def _drop_stale_bytecode(source: Path) -> None:
    """Python trusts a cached .pyc whose recorded source mtime, in whole seconds, and size match the
    source's: a file edited in the second it was compiled, to the same size, would run as it was.
    A .pyc older than its source is removed, so that the import compiles the source as it is."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    try:
        if cached.stat().st_mtime < source.stat().st_mtime:
            cached.unlink(missing_ok=True)
    except FileNotFoundError:
        pass  # none cached, or the source removed meanwhile


def _marshalled(result: Any) -> Any:
    """The result as the caller receives it: Lambda sends the handler's return value as JSON, so a
    value that JSON cannot carry is the runtime's error, and an enum or a tuple arrives as text or a list."""
    try:
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as error:
        raise MarshalError(f"Unable to marshal response: {error}") from error


class MarshalError(Exception):
    """Lambda's Runtime.MarshalError."""


class _CodeFolders:
    """Every folder that holds some function's code or a layer: a module loaded from one of them
    belongs to one instance."""

    def __init__(self) -> None:
        self.prefixes: tuple[str, ...] = ()
        self._seen: set[tuple[str, ModuleType]] = set()  # entries of sys.modules, each judged once
        self._held: set[tuple[str, ModuleType]] = set()  # those of function code
        self._judged: dict[str, ModuleType] = {}  # sys.modules as it was when last judged

    def add(self, prefixes: tuple[str, ...]) -> None:
        self.prefixes = tuple(dict.fromkeys((*self.prefixes, *prefixes)))
        self._seen.clear()  # judged against fewer folders
        self._held.clear()
        self._judged.clear()

    def hold(self, module: ModuleType) -> bool:
        location = getattr(module, "__file__", None)
        return location is not None and location.startswith(self.prefixes)

    def in_sys_modules(self) -> dict[str, ModuleType]:
        """The modules of function code in sys.modules. Every invocation asks, and sys.modules holds
        a thousand modules or more: only the entries that are new since the last time are judged,
        and none when nothing came or went (the usual case: an invocation puts back what it moved),
        which one comparison with a copy tells (entries compare by identity first)."""
        if sys.modules == self._judged:
            return dict(self._held)
        self._judged = dict(sys.modules)
        entries = set(self._judged.items())
        gone = self._seen - entries
        self._seen -= gone
        self._held -= gone
        for entry in entries - self._seen:
            self._seen.add(entry)
            if self.hold(entry[1]):
                self._held.add(entry)
        return dict(self._held)


_FUNCTION_CODE = _CodeFolders()


def _replace_environment(wanted: dict[str, str]) -> None:
    """os.environ becomes `wanted`, changing only what differs (each change is a putenv)."""
    for name in [name for name in os.environ if name not in wanted]:
        del os.environ[name]
    for name, value in wanted.items():
        if os.environ.get(name) != value:
            os.environ[name] = value
