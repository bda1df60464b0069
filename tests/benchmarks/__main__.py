"""make bench: cold start per function, AWS requests per API call, workflow states of a confirmed
order, and the local stack's POST → CONFIRMED latency and throughput. Measured, never asserted in
tests (ARCHITECTURE.md, Performance); the targets are printed beside the figures."""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
from moto import mock_aws

from benchmarks.cold_start import measure
from local_stack.adapter import moto_runs_local_functions
from local_stack.deploy import deploy
from local_stack.runtime import LocalLambda
from local_stack.template import load
from support.api import ApiClient, ApiResponse
from support.local_process import LocalStackProcess
from support.workflow import execution_arn, states_entered, wait_for_execution

KEY = {"Idempotency-Key": "bench"}


def aws_requests_per_route() -> tuple[dict[str, int], list[str]]:
    calls: Counter[str] = Counter()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        # The functions' clients come from boto3's default session (moto resets it when it starts).
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-call", lambda model, **_: calls.update([model.name]))
        stack = deploy(load(), boto3.session.Session(region_name="us-east-1"))
        runtime = LocalLambda(stack)
        with moto_runs_local_functions(runtime, backoff=[]):
            api = ApiClient(runtime.instances["ApiFunction"])
            user_id = api.post("/users", {"name": "Bench", "email": "bench@example.com"}).body["user_id"]
            api.put("/inventory/bench-1", {"quantity": 100, "price": 1})
            api.post("/orders", {"user_id": user_id, "items": [{"product_id": "bench-1", "quantity": 1}]})  # warm
            body = {"user_id": user_id, "items": [{"product_id": "bench-1", "quantity": 1}]}

            def count(call: Callable[[], ApiResponse]) -> tuple[int, ApiResponse]:
                calls.clear()
                response = call()
                return sum(calls.values()), response

            counts = {"POST /orders (Idempotency-Key)": count(lambda: api.post("/orders", body, headers=KEY))[0]}
            counts["POST /orders"], placed = count(lambda: api.post("/orders", body))
            order_id = placed.body["order_id"]
            counts["GET /orders/{id}"] = count(lambda: api.get(f"/orders/{order_id}"))[0]
            counts["GET /users/{id}"] = count(lambda: api.get(f"/users/{user_id}"))[0]
            counts["GET /inventory/{id}"] = count(lambda: api.get("/inventory/bench-1"))[0]
            runtime.settle()
            wait_for_execution(stack, execution_arn(stack, order_id))
            path = states_entered(stack, execution_arn(stack, order_id))
    return counts, path


def local_latency_and_throughput() -> tuple[list[float], float, int]:
    with tempfile.TemporaryDirectory() as workdir:
        local = LocalStackProcess(Path(workdir)).wait_until_ready()
        try:
            user_id = local.request("POST", "/users", json={"name": "B", "email": "b@example.com"}).json()["user_id"]
            local.request("PUT", "/inventory/bench-1", json={"quantity": 10_000, "price": 1})

            def place_and_wait() -> float:
                started = time.monotonic()
                body = {"user_id": user_id, "items": [{"product_id": "bench-1", "quantity": 1}]}
                order_id = local.request("POST", "/orders", json=body).json()["order_id"]
                while local.request("GET", f"/orders/{order_id}").json()["status"] != "CONFIRMED":
                    time.sleep(0.1)
                return time.monotonic() - started

            place_and_wait()  # warm every function
            latencies = [place_and_wait() for _ in range(10)]
            # Throughput: orders placed by 12 concurrent clients, then one poller until all are confirmed.
            orders = 60
            body = {"user_id": user_id, "items": [{"product_id": "bench-1", "quantity": 1}]}
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=12) as pool:
                placed = list(pool.map(lambda _: local.request("POST", "/orders", json=body).json(), range(orders)))
            pending = {order["order_id"] for order in placed}
            while pending:
                time.sleep(0.5)
                pending = {o for o in pending if local.request("GET", f"/orders/{o}").json()["status"] != "CONFIRMED"}
            return latencies, orders / (time.monotonic() - started), orders
        finally:
            local.stop()


def main() -> None:
    with mock_aws():
        functions = deploy(load(), boto3.session.Session(region_name="us-east-1")).functions
    print("Cold start: CPU to import and initialise the handler module vs import boto3 + client (target <= 1.30x)")
    for name, figures in measure(functions).items():
        verdict = "ok" if figures["ratio"] <= 1.3 else "OVER"
        print(
            f"  {name:<28} {figures['function_ms']:7.1f} ms vs {figures['baseline_ms']:6.1f} ms  "
            f"{figures['ratio']:.2f}x  {verdict}"
        )
    counts, path = aws_requests_per_route()
    print("AWS requests per call, warm (target: POST /orders <= 4, GET routes 1)")
    for label, count in counts.items():
        print(f"  {label:<32} {count}")
    print(f"Workflow states entered by a confirmed one-line order (target <= 10): {len(path)}")
    print("  " + " → ".join(path))
    latencies, rate, orders = local_latency_and_throughput()
    print("Local stack (make dev), POST /orders → CONFIRMED:")
    median, slowest = statistics.median(latencies) * 1000, max(latencies) * 1000
    print(f"  sequential, 10 orders: median {median:.0f} ms, max {slowest:.0f} ms")
    print(f"  {orders} orders placed by 12 concurrent clients: {rate:.1f} orders/s confirmed")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
