"""Lambda's execution environments for `make dev`: each warm instance of a function is a worker
process of its own, so functions run concurrently on every core, a handler that runs past its
`Timeout` is stopped and reported as Lambda reports it, and a handler that crashes the process
costs that one instance, not the stack.

A function has up to `limit` instances at once: its reserved concurrency when the template sets
one (an invocation beyond it is throttled, as Lambda throttles it), otherwise DEFAULT_CONCURRENCY
(an invocation beyond it waits for a free instance: a laptop is not an account's 1,000). The init
phase (importing the handler) is not counted against the function's Timeout, as on Lambda.

In a worker the function runs exactly as in process (`FunctionInstance`: its environment, its code
and layers first on sys.path); its AWS clients reach moto through the stack's AWS endpoint.

Workers are forked from one server process that has imported the libraries every function imports
(multiprocessing's forkserver): a new instance then imports only the function's own code, not boto3,
pydantic and Powertools again. What a cold start costs on Lambda is measured by `make bench`, in a
fresh interpreter; here it is the price of each concurrent instance, paid on a laptop's few cores.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import uuid
import warnings
from datetime import UTC, datetime
from multiprocessing import reduction
from multiprocessing.connection import Connection
from typing import Any

from local_stack.cloudwatch import emf
from local_stack.lambda_runtime.functions import FunctionError, FunctionInstance, FunctionSpec, Throttled
from local_stack.logs import FunctionLogs, say, terminal

DEFAULT_CONCURRENCY = 10
# Instances of one function that may be starting at once: on a laptop's few cores, ten interpreters
# importing at once take longer than two that start while the first warm ones already serve.
STARTS_AT_ONCE = 2
INIT_LIMIT_SECONDS = 60.0  # generous: a first import on a busy laptop
# What the functions import from outside their code (src/, layers/): imported once, in the forkserver.
SHARED_LIBRARIES = (
    "boto3",
    "botocore.client",
    "pydantic",
    "aws_lambda_powertools",
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.idempotency",
    "aws_lambda_powertools.utilities.parameters",
    "aws_lambda_powertools.utilities.typing",
    "local_stack.lambda_runtime.workers",
    "local_stack.lambda_runtime.preload",  # the functions' service models, read once
)
_STDOUT_AND_STDERR = (1, 2)
_WORKERS = multiprocessing.get_context("forkserver")
_WORKERS.set_forkserver_preload(list(SHARED_LIBRARIES))


def _serve(connection: Connection) -> None:
    """A worker process: the stack's stdout and stderr (as a child process of it would have them),
    the function's spec and environment, init, then one invocation at a time until the connection
    closes (the stack stopped)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the stack decides
    for descriptor in _STDOUT_AND_STDERR:
        received = reduction.recv_handle(connection)
        os.dup2(received, descriptor)
        os.close(received)
    spec, environment = connection.recv()
    os.environ.clear()
    os.environ.update(environment)  # the forkserver's is the stack's when it started
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    sys.stdout = FunctionLogs(terminal())
    instance = FunctionInstance(spec, environment)
    try:
        instance.initialize()
    except FunctionError as error:
        connection.send(("error", error.error_type, error.message, error.trace))
        return
    connection.send(("ready",))
    while True:
        try:
            event, timeout = connection.recv()
        except EOFError:
            return
        with emf.collecting() as printed:  # sent with the answer: the parent publishes them
            try:
                connection.send(("ok", instance.invoke(event, timeout), printed))
            except FunctionError as error:
                connection.send(("error", error.error_type, error.message, error.trace, printed))


class Worker:
    """One execution environment: a process forked from the forkserver, with the function initialised
    in it."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str]) -> None:
        self.spec = spec
        self.connection, theirs = _WORKERS.Pipe()
        self.process = _WORKERS.Process(target=_serve, args=(theirs,), name=spec.logical_id, daemon=True)
        self.process.start()
        theirs.close()
        for descriptor in _STDOUT_AND_STDERR:  # where they lead now: a test may have captured them
            reduction.send_handle(self.connection, descriptor, self.process.pid)
        self.alive = True
        self.connection.send((spec, environment))
        self._answer(INIT_LIMIT_SECONDS, "init")

    def invoke(self, event: Any, timeout: float) -> Any:
        self.connection.send((event, timeout))
        return self._answer(timeout, "invoke")

    def _answer(self, timeout: float, phase: str) -> Any:
        request_id = str(uuid.uuid4())
        if not self.connection.poll(timeout):
            self.stop()
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            message = f"{stamp} {request_id} Task timed out after {timeout:.2f} seconds"
            say(f"[{self.spec.logical_id}] {message}")
            raise FunctionError("Sandbox.Timedout", message, [])
        try:
            answer = self.connection.recv()
        except (EOFError, ConnectionResetError):
            self.process.join(5)  # the exit status, once the interpreter has finished exiting
            self.stop()
            message = f"RequestId: {request_id} Error: Runtime exited with error: exit status {self.process.exitcode}"
            say(f"[{self.spec.logical_id}] {message} (during {phase})")
            raise FunctionError("Runtime.ExitError", message, []) from None
        if phase == "invoke":
            emf.emitted(answer[-1])
        if answer[0] == "error":
            if phase == "init":
                self.stop()
            raise FunctionError(*answer[1:4])
        return answer[1] if phase == "invoke" else None

    def stop(self) -> None:
        self.alive = False
        self.connection.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


class FunctionPool:
    """A function's execution environments, started on demand and kept warm."""

    def __init__(self, spec: FunctionSpec, environment: dict[str, str], reserved: int | None = None) -> None:
        self.spec = spec
        self.environment = environment
        self.reserved = reserved
        self.limit = DEFAULT_CONCURRENCY if reserved is None else reserved
        self._idle: list[Worker] = []
        self._busy = 0
        self._starting = 0
        self._free = threading.Condition()

    def invoke(self, event: Any, timeout: float | None = None) -> Any:
        """The handler's result; raises FunctionError (the handler's, a timeout, a crash) or Throttled."""
        worker = self._acquire()
        try:
            return worker.invoke(event, float(self.spec.timeout if timeout is None else timeout))
        finally:
            self._release(worker)

    def _acquire(self) -> Worker:
        with self._free:
            while not self._idle:
                if self._busy < self.limit and self._starting < STARTS_AT_ONCE:
                    self._busy += 1
                    self._starting += 1
                    break
                if self.reserved is not None and self._busy >= self.limit:
                    raise Throttled(self.spec.logical_id)
                self._free.wait()
            else:
                self._busy += 1
                return self._idle.pop()
        try:
            return Worker(self.spec, self.environment)  # init outside the lock: others may proceed
        except BaseException:
            self._release(None)
            raise
        finally:
            with self._free:
                self._starting -= 1
                self._free.notify_all()

    def _release(self, worker: Worker | None) -> None:
        with self._free:
            self._busy -= 1
            if worker is not None and worker.alive:
                self._idle.append(worker)
            self._free.notify_all()

    def stop(self) -> None:
        with self._free:
            idle, self._idle = self._idle, []
        for worker in idle:
            worker.stop()
