"""What a request costs at list price, from what the benchmark counted: the one price table, and the
usage that it multiplies (us-east-1, on-demand, without free tiers; edit PRICES when AWS changes them).
Lambda durations are measured in process, on this machine: on AWS they differ, so the figure is an
estimate of the shape of the bill (which parts dominate), not a quote."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

# US dollars per unit.
PRICES = {
    "REST API request": 3.50 / 1e6,
    "HTTP API request": 1.00 / 1e6,
    "Lambda request": 0.20 / 1e6,
    "Lambda GB-second (arm64)": 0.0000133334,
    "Standard state transition": 0.025 / 1e3,
    "Express request": 1.00 / 1e6,
    "Express GB-second": 0.00001667,
    "DynamoDB read request unit": 0.125 / 1e6,
    "DynamoDB write request unit": 0.625 / 1e6,
    "EventBridge event": 1.00 / 1e6,
    "SNS publish": 0.50 / 1e6,
    "SQS request": 0.40 / 1e6,
    "SES email": 0.10 / 1e3,
    "Secrets Manager call": 0.05 / 1e4,
    "CloudWatch Logs GB ingested": 0.50,
    "Lambda provisioned concurrency GB-second (arm64)": 0.0000033334,
    "Lambda SnapStart cache GB-second": 0.0000015046,
    "Lambda SnapStart restore GB": 0.0001397998,
}
_MONTH = 30 * 24 * 3600  # seconds


def warm_start_options(memory_mb: int) -> dict[str, float]:
    """What keeping one function's starts fast costs in prod, in dollars: provisioned concurrency
    bills each warm instance all month; SnapStart bills the published version's snapshot all month
    and each restore (a cold start)."""
    gigabytes = memory_mb / 1024
    return {
        "provisioned concurrency, one instance, a month": gigabytes
        * _MONTH
        * PRICES["Lambda provisioned concurrency GB-second (arm64)"],
        "SnapStart snapshot, a month": gigabytes * _MONTH * PRICES["Lambda SnapStart cache GB-second"],
        "SnapStart, a million restores": gigabytes * 1e6 * PRICES["Lambda SnapStart restore GB"],
    }


_READS = {"GetItem", "Query", "Scan"}
_WRITES = {"PutItem", "UpdateItem", "DeleteItem"}


@dataclass
class Usage:
    """What one request (an order, a quote) used."""

    api_requests: dict[str, int] = field(default_factory=dict)  # e.g. {"HTTP API request": 1}
    lambda_runs: list[tuple[int, float]] = field(default_factory=list)  # (memory MB, duration ms)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (operation, parameters)
    state_transitions: int = 0
    express_runs: list[tuple[int, int]] = field(default_factory=list)  # (billed MB, billed ms)
    log_bytes: int = 0


def _dynamodb_units(operation: str, params: dict[str, Any]) -> tuple[float, float]:
    """(read, write) request units, items of at most 4 KB (reads) or 1 KB (writes), as ours are."""
    read = 1.0 if params.get("ConsistentRead") else 0.5
    if operation in _READS:
        return read, 0
    if operation in _WRITES:
        return 0, 1
    if operation == "BatchGetItem":
        keys = sum(len(table["Keys"]) for table in params["RequestItems"].values())
        consistent = all(table.get("ConsistentRead") for table in params["RequestItems"].values())
        return keys * (1.0 if consistent else 0.5), 0
    if operation == "TransactWriteItems":
        return 0, 2 * len(params["TransactItems"])
    if operation == "TransactGetItems":
        return 2 * len(params["TransactItems"]), 0
    return 0, 0


def _units(calls: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, float]:
    units: dict[str, float] = {}

    def add(item: str, amount: float) -> None:
        units[item] = units.get(item, 0) + amount

    for operation, params in calls:
        read, write = _dynamodb_units(operation, params)
        add("DynamoDB read request unit", read)
        add("DynamoDB write request unit", write)
        if operation == "PutEvents":
            add("EventBridge event", len(params["Entries"]))
        elif operation == "Publish":
            add("SNS publish", 1)
        elif operation in ("SendMessage", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch"):
            add("SQS request", 1)
        elif operation in ("SendEmail", "SendRawEmail"):
            add("SES email", 1)
        elif operation == "GetSecretValue":
            add("Secrets Manager call", 1)
    return units


def cost(usage: Usage) -> dict[str, float]:
    """Dollars per request, by line of the bill (lines that cost nothing are left out)."""
    units = _units(usage.calls)
    units.update(usage.api_requests)
    units["Lambda request"] = len(usage.lambda_runs)
    units["Lambda GB-second (arm64)"] = sum(mb / 1024 * math.ceil(ms) / 1000 for mb, ms in usage.lambda_runs)
    units["Standard state transition"] = usage.state_transitions
    units["Express request"] = len(usage.express_runs)
    units["Express GB-second"] = sum(mb / 1024 * ms / 1000 for mb, ms in usage.express_runs)
    units["CloudWatch Logs GB ingested"] = usage.log_bytes / 1e9
    return {item: amount * PRICES[item] for item, amount in units.items() if amount}


def express_run(seconds: float, memory_mb: int = 64) -> tuple[int, int]:
    """What an Express execution of `seconds` is billed: (MB, ms), its duration in 100 ms steps (at
    least one) at the smallest memory step, 64 MB (our executions' state is a few kilobytes)."""
    return memory_mb, max(1, math.ceil(seconds * 10)) * 100


def as_express(usage: Usage, seconds: float) -> Usage:
    """The same work run by one Express workflow: no transitions billed, but the execution's
    duration and a request."""
    return replace(usage, state_transitions=0, express_runs=[express_run(seconds)])


def per_million(bill: dict[str, float]) -> str:
    """The bill of a million requests, largest lines first."""
    lines = sorted(bill.items(), key=lambda line: -line[1])
    total = sum(bill.values()) * 1e6
    return f"${total:,.2f} per million: " + ", ".join(f"{item} ${amount * 1e6:,.2f}" for item, amount in lines)
