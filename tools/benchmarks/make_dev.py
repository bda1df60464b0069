"""make bench's figures measured through make dev (a local stack in its own process, as a client
meets it): POST /orders → CONFIRMED latency and throughput for 1, 4 and 16 clients, POST /quotes
latency, and a 100,000-row import with the seconds of each of its steps."""

from __future__ import annotations

import itertools
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests

from support.local_process import LocalStackProcess
from support.workflow import described_executions, most_at_once

ORDER = {"items": [{"product_id": "bench-1", "quantity": 1}], "payment_method": "pm_card_visa"}
CLIENTS = (1, 4, 16)
ORDERS_PER_CLIENT = 8
QUOTES = 30


def local_throughput(local: LocalStackProcess) -> tuple[dict[int, tuple[float, list[float]]], list[float], ImportRun]:
    """For 1, 4 and 16 concurrent clients, each placing orders one after the other and polling
    until each is CONFIRMED: orders/s confirmed and each order's POST → CONFIRMED seconds; then
    the seconds of QUOTES quotes, one after the other; and, first, an import of IMPORT_ROWS rows."""
    staff = local.token("bench-staff@example.com", "Bench Staff", staff=True)
    # First, on the fresh stack: after the orders, moto holds hundreds of executions and runs slower.
    local_import(local, staff, rows=1_000)  # the import functions' instances warm, as in use
    imported = local_import(local, staff)
    customer = local.token("bench@example.com", "Bench")
    stocked = local.back_office("PUT", "/inventory/bench-1", staff, json={"quantity": 100_000, "price": 1})
    stocked.raise_for_status()

    def place_and_wait() -> float:
        started = time.monotonic()
        response = local.storefront("POST", "/orders", customer, json=ORDER)
        response.raise_for_status()
        order_id = response.json()["order_id"]
        while local.storefront("GET", f"/orders/{order_id}", customer).json()["status"] != "CONFIRMED":
            time.sleep(0.05)
        return time.monotonic() - started

    def client(_: int) -> list[float]:
        return [place_and_wait() for _ in range(ORDERS_PER_CLIENT)]

    with ThreadPoolExecutor(max_workers=max(CLIENTS)) as warm:
        list(warm.map(lambda _: place_and_wait(), range(max(CLIENTS))))  # instances warm, as in use
    figures = {}
    for clients in CLIENTS:
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            latencies = [latency for run in pool.map(client, range(clients)) for latency in run]
        figures[clients] = (len(latencies) / (time.monotonic() - started), latencies)
    cart = {"items": [{"product_id": "bench-1", "quantity": 2}]}
    quotes = []
    for _ in range(QUOTES):
        started = time.monotonic()
        local.back_office("POST", "/quotes", staff, json=cart).raise_for_status()
        quotes.append(time.monotonic() - started)
    return figures, quotes, imported


IMPORT_ROWS = 100_000


@dataclass
class ImportRun:
    seconds: float  # POST /imports → the upload → GET /imports/{id} says it ended
    status: str
    rows_imported: int
    phases: dict[str, float]  # seconds in each step of the import workflow, from its history
    chunks_at_once: int  # the most chunk executions running at the same moment


def local_import(local: LocalStackProcess, staff: str, rows: int = IMPORT_ROWS) -> ImportRun:
    """An import of `rows` new products through the local stack, as staff would run it."""
    data = "product_id,quantity,price\n" + "".join(f"bench-import-{n},{n % 1000},{n % 100}.99\n" for n in range(rows))
    started = time.monotonic()
    created = local.back_office("POST", "/imports", staff)
    created.raise_for_status()
    import_id = created.json()["import_id"]
    uploaded = requests.put(
        created.json()["upload_url"], data=data.encode(), headers={"Content-Type": "text/csv"}, timeout=60
    )
    uploaded.raise_for_status()
    while (progress := local.back_office("GET", f"/imports/{import_id}", staff).json())["status"] in (
        "WAITING_FOR_FILE",
        "RUNNING",
    ):
        time.sleep(0.1)
    seconds = time.monotonic() - started
    sfn = local.client("stepfunctions")
    workflow = local.outputs["ImportWorkflowArn"]
    events = sfn.get_execution_history(
        executionArn=workflow.replace(":stateMachine:", ":execution:") + f":{import_id}", maxResults=1000
    )["events"]
    entered = {e["stateEnteredEventDetails"]["name"]: e["timestamp"] for e in events if "stateEnteredEventDetails" in e}
    steps = ["PrepareImport", "ImportChunks", "FinishImport", "NotifyStaff"]
    phases = {step: (entered[after] - entered[step]).total_seconds() for step, after in itertools.pairwise(steps)}
    return ImportRun(
        seconds,
        progress["status"],
        progress["rows_imported"],
        phases,
        most_at_once(described_executions(sfn, local.outputs["ImportChunkWorkflowArn"])),
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]
