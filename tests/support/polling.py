"""Waiting for what a test can only observe from outside (an HTTP answer, a table, a log line)."""

import time
from collections.abc import Callable


def eventually[T](check: Callable[[], T], timeout: float = 20.0, interval: float = 0.1) -> T:
    """The value of `check()` once it is truthy (its last value after `timeout`), polling as a client would."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
