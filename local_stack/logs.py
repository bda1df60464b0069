"""The local stack's terminal: whole lines, never interleaved, and each function's output prefixed
with its name (Lambda would put it in that function's log stream).

A function's Powertools log record (one JSON object of about 600 characters) is shown as one line:
time, level, message, the ids it names (`order_id`, `import_id`, `correlation_id`) and the other keys
the handler added; its metrics (the embedded metric format) as `METRIC name=value`. With
`LOG_FORMAT=json` every line is printed as the function wrote it, as CloudWatch Logs would hold it.
"""

from __future__ import annotations

import io
import json
import os
import re
import sys
import threading
from datetime import UTC, datetime
from typing import Any, TextIO

from local_stack.lambda_runtime.functions import running

_print_lock = threading.Lock()

# What Powertools adds to every record (the Lambda context, where it was logged, the error's
# structured trace): the console leaves it out; the raw JSON keeps it.
_POWERTOOLS_KEYS = frozenset(
    {
        "level",
        "location",
        "message",
        "timestamp",
        "service",
        "sampling_rate",
        "xray_trace_id",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "exception",
        "exception_name",
        "stack_trace",
    }
)
# The ids a reader follows from line to line, first; a correlation id that repeats one of them is not repeated.
_ID_KEYS = ("order_id", "import_id", "correlation_id")
_CLOCK = re.compile(r"(\d\d:\d\d:\d\d)(?:[,.](\d{1,6}))?")
_PLAIN = re.compile(r"[^\s\"=]+")


def say(line: str, out: TextIO | None = None) -> None:
    with _print_lock:
        print(line, file=out or terminal(), flush=True)


def terminal() -> TextIO:
    return sys.__stdout__ or sys.stdout


def raw_logs_wanted() -> bool:
    """`LOG_FORMAT=json`: the functions' lines exactly as written (also in the worker processes,
    whose environment is the stack's)."""
    return os.environ.get("LOG_FORMAT", "").strip().lower() == "json"


def console_line(function: str, line: str) -> str:
    """A line that a function printed, as the console shows it: a Powertools log record or metrics
    object made readable, anything else as it is; always prefixed with the function's name."""
    record = _json_object(line)
    if record is not None and isinstance(record.get("_aws"), dict):
        return f"[{function}] {_metrics(record)}"
    if record is None or not {"level", "message"} <= record.keys():
        return f"[{function}] {line}"
    shown = [_clock(str(record.get("timestamp", ""))), str(record["level"]), str(record["message"])]
    shown += _fields(record)
    readable = f"[{function}] " + " ".join(part for part in shown if part)
    trace = record.get("exception")
    if isinstance(trace, str) and trace:
        readable += "".join(f"\n    {trace_line}" for trace_line in trace.splitlines())
    return readable


def _json_object(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        parsed = json.loads(line)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def _clock(timestamp: str) -> str:
    """`2026-12-05 21:05:23,666+0000` (Powertools' default) → `21:05:23.666`."""
    found = _CLOCK.search(timestamp)
    if found is None:
        return timestamp
    seconds, fraction = found.groups()
    return f"{seconds}.{fraction[:3]}" if fraction else seconds


def _fields(record: dict[str, Any]) -> list[str]:
    ids = [key for key in _ID_KEYS if key in record]
    if "correlation_id" in ids and any(record["correlation_id"] == record.get(key) for key in _ID_KEYS[:2]):
        ids.remove("correlation_id")
    others = [key for key in record if key not in _POWERTOOLS_KEYS and key not in _ID_KEYS]
    return [f"{key}={_value(record[key])}" for key in (*ids, *others)]


def _value(value: Any) -> str:
    if isinstance(value, str) and _PLAIN.fullmatch(value):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _metrics(emf: dict[str, Any]) -> str:
    """`21:05:28.205 METRIC OrderCreated=1`: each metric's value (values, when several)."""
    stamp = emf["_aws"].get("Timestamp")
    moment = (
        datetime.fromtimestamp(stamp / 1000, UTC).strftime("%H:%M:%S.%f")[:-3] if isinstance(stamp, int | float) else ""
    )
    names = [
        metric["Name"]
        for directive in emf["_aws"].get("CloudWatchMetrics", [])
        for metric in directive.get("Metrics", [])
        if isinstance(metric, dict) and "Name" in metric
    ]
    values = [f"{name}={_number(emf.get(name))}" for name in names]
    return " ".join([part for part in (moment, "METRIC") if part] + values)


def _number(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_number(each) for each in value)
    return f"{value:g}" if isinstance(value, int | float) else _value(value)


class FunctionLogs(io.TextIOBase):
    """Standard output of the process: a line written while a function's code runs on this thread
    is shown as `console_line` shows it (as written with `raw`, which `LOG_FORMAT=json` sets)."""

    def __init__(self, terminal: TextIO, raw: bool | None = None) -> None:
        self.terminal = terminal
        self.raw = raw_logs_wanted() if raw is None else raw
        self._partial = threading.local()

    def write(self, text: str) -> int:
        function = getattr(running, "function", None)
        if function is None:
            self.terminal.write(text)
            return len(text)
        buffered = getattr(self._partial, "text", "") + text
        *lines, self._partial.text = buffered.split("\n")
        for line in lines:
            say(f"[{function}] {line}" if self.raw else console_line(function, line), self.terminal)
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()

    def writable(self) -> bool:
        return True
