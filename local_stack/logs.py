"""The local stack's terminal: whole lines, never interleaved, and each function's output prefixed
with its name (Lambda would put it in that function's log stream)."""

from __future__ import annotations

import io
import sys
import threading
from typing import TextIO

from local_stack.functions import running

_print_lock = threading.Lock()


def say(line: str, out: TextIO | None = None) -> None:
    with _print_lock:
        print(line, file=out or terminal(), flush=True)


def terminal() -> TextIO:
    return sys.__stdout__ or sys.stdout


class FunctionLogs(io.TextIOBase):
    """Standard output of the process: a line written while a function's code runs on this thread
    is prefixed with the function's name (Lambda would put it in that function's log stream)."""

    def __init__(self, terminal: TextIO) -> None:
        self.terminal = terminal
        self._partial = threading.local()

    def write(self, text: str) -> int:
        function = getattr(running, "function", None)
        if function is None:
            self.terminal.write(text)
            return len(text)
        buffered = getattr(self._partial, "text", "") + text
        *lines, self._partial.text = buffered.split("\n")
        for line in lines:
            say(f"[{function}] {line}")
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()

    def writable(self) -> bool:
        return True
