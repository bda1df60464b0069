"""The embedded metric format: a function prints a JSON object whose `_aws.CloudWatchMetrics`
names metrics among its keys (Powertools Metrics does), and CloudWatch Logs turns it into
datapoints. Here the lines a function prints during an invocation are collected for the thread
that invoked it: in process through `stdout_collected` (the function runs on that thread), from a
worker process through `emitted` (the worker sends what it collected with its answer).
"""

from __future__ import annotations

import io
import json
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

_collector = threading.local()

# (namespace, metric name, dimensions, value, unit)
EmfDatapoint = tuple[str, str, dict[str, str], float, str]


@contextmanager
def collecting() -> Iterator[list[dict[str, Any]]]:
    """The EMF objects that this thread's invocation emits while the block runs."""
    previous = getattr(_collector, "objects", None)
    objects: list[dict[str, Any]] = []
    _collector.objects = objects
    try:
        yield objects
    finally:
        _collector.objects = previous


def emitted(objects: Iterable[dict[str, Any]]) -> None:
    collected = getattr(_collector, "objects", None)
    if collected is not None:
        collected.extend(objects)


@contextmanager
def stdout_collected() -> Iterator[None]:
    """While a function runs in this process: its EMF lines printed on this thread are collected
    (and still printed)."""
    saved = sys.stdout
    tee = _EmfTee(saved)
    sys.stdout = tee
    try:
        yield
    finally:
        sys.stdout = saved
        tee.close()


def datapoints(emf: dict[str, Any]) -> Iterator[EmfDatapoint]:
    """Each value of each metric of each dimension set, as CloudWatch extracts them."""
    for directive in emf.get("_aws", {}).get("CloudWatchMetrics", []):
        for dimension_set in directive.get("Dimensions") or [[]]:
            named = {name: str(emf[name]) for name in dimension_set if name in emf}
            for metric in directive.get("Metrics", []):
                values = emf.get(metric["Name"], [])
                for value in values if isinstance(values, list) else [values]:
                    yield directive["Namespace"], metric["Name"], named, float(value), metric.get("Unit", "None")


class _EmfTee(io.TextIOBase):
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._partial = threading.local()

    def write(self, text: str) -> int:
        self.stream.write(text)
        buffered = getattr(self._partial, "text", "") + text
        *lines, self._partial.text = buffered.split("\n")
        emf = [parsed for parsed in map(_emf, lines) if parsed is not None]
        if emf:
            emitted(emf)
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def writable(self) -> bool:
        return True


def _emf(line: str) -> dict[str, Any] | None:
    if not (line.startswith("{") and '"_aws"' in line):
        return None
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) and "CloudWatchMetrics" in parsed.get("_aws", {}) else None
