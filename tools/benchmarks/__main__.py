"""make bench: the cold path per function, AWS requests per API call, the order workflow's states of
each outcome (its Standard transitions, and with its Express children's), what a quote takes, what a
quote and each order outcome cost (transitions, Express requests and billed duration; and all of it as
one Express workflow), and the local stack's POST → CONFIRMED latency and throughput, POST /quotes latency and the
rows per second of a 100,000-row import.
Measured, never asserted in tests (docs/architecture.md, Performance targets); the targets are printed beside the
figures."""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
os.environ.pop("AWS_ENDPOINT_URL", None)

import boto3
from moto import mock_aws

from local_stack.apigateway.integrations import ApiIntegrations
from local_stack.cloudformation.deploy import Stack, deploy
from local_stack.cloudformation.template import load
from local_stack.lambda_runtime.functions import FunctionInstance, FunctionSpec
from local_stack.lambda_runtime.runtime import LocalLambda
from local_stack.moto_patches.adapter import moto_runs_local_functions
from support import seed
from support.api import ApiClient, ApiResponse, id_token_claims, route_templates
from support.local_process import LocalStackProcess
from support.payments import served_provider
from support.samples import SAMPLES
from support.workflow import (
    execution_arn,
    logged_executions,
    nested_history,
    states_entered,
    wait_for_execution,
)
from tools.benchmarks.cold_start import TARGET, kind_of, measure
from tools.benchmarks.cost import Usage, as_express, cost, express_run, per_million, warm_start_options
from tools.benchmarks.make_dev import IMPORT_ROWS, ORDER, ORDERS_PER_CLIENT, QUOTES, local_throughput, percentile

KEY = {"Idempotency-Key": "bench"}
STAFF = id_token_claims("bench-staff", "staff@example.com", "Bench Staff", groups=("staff",))


Calls = list[tuple[str, dict[str, Any]]]


@contextmanager
def in_process_stack(calls: Calls) -> Iterator[tuple[Stack, LocalLambda, ApiClient, ApiClient]]:
    """The application on moto in this process (as the tests run it), with the fake payment
    provider on a free port; `calls` records the AWS requests (operation, parameters) of the
    functions and of the workflows' tasks."""
    with served_provider() as (_, payment_url), mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        # The functions' clients come from boto3's default session (moto resets it when it starts).
        boto3.setup_default_session()
        assert boto3.DEFAULT_SESSION is not None
        boto3.DEFAULT_SESSION.events.register(
            "before-parameter-build", lambda model, params, **_: calls.append((model.name, dict(params)))
        )
        template = load(parameter_overrides={"PaymentApiUrl": payment_url})
        stack = deploy(template, boto3.session.Session(region_name="us-east-1"))
        runtime = LocalLambda(stack)
        with moto_runs_local_functions(runtime, backoff=[]):
            back_office = ApiClient(
                runtime.instances["BackOfficeFunction"],
                route_templates(template, "BackOfficeApi"),
                False,
                STAFF,
                ApiIntegrations(stack, "BackOfficeApi"),
            )
            customer = seed.customer(back_office, "Bench")
            storefront = ApiClient(
                runtime.instances["StorefrontFunction"], route_templates(template, "StorefrontApi"), True, customer
            )
            yield stack, runtime, back_office, storefront


def aws_requests_per_route() -> dict[str, int]:
    calls: Calls = []
    with in_process_stack(calls) as (stack, runtime, back_office, storefront):
        user_id = storefront.claims["sub"] if storefront.claims else ""
        seed.stock(back_office, "bench-1", 100, 1)
        storefront.post("/orders", ORDER)  # warm

        def count(call: Callable[[], ApiResponse]) -> tuple[int, ApiResponse]:
            calls.clear()
            response = call()
            return len(calls), response

        counts = {"POST /orders (Idempotency-Key)": count(lambda: storefront.post("/orders", ORDER, headers=KEY))[0]}
        counts["POST /orders"], placed = count(lambda: storefront.post("/orders", ORDER))
        order_id = placed.body["order_id"]
        counts["GET /orders/{id}"] = count(lambda: storefront.get(f"/orders/{order_id}"))[0]
        counts["GET /orders"] = count(lambda: storefront.get("/orders"))[0]
        counts["GET /me"] = count(lambda: storefront.get("/me"))[0]
        counts["GET /products/{id}"] = count(lambda: storefront.get("/products/bench-1"))[0]
        counts["back office GET /users/{id}"] = count(lambda: back_office.get(f"/users/{user_id}"))[0]
        counts["back office GET /inventory/{id}"] = count(lambda: back_office.get("/inventory/bench-1"))[0]
        counts["back office GET /orders?status"] = count(
            lambda: back_office.get("/orders", query={"status": "PENDING"})
        )[0]
        back_office.get("/orders")  # warm: the instance reads the table's first day once
        counts["back office GET /orders (a page within a day)"] = count(lambda: back_office.get("/orders"))[0]
        runtime.settle()
        wait_for_execution(stack, execution_arn(stack, order_id))
    return counts


@dataclass
class OrderRun:
    path: list[str]  # the order workflow's states and, where it started them, its children's
    standard: list[str]  # the order workflow's own states: its billed transitions
    usage: Usage
    seconds: float  # from the execution's start to its end


def order_outcomes() -> dict[str, OrderRun]:
    """Each outcome from a real, warm execution: the states it entered and what it used, from the
    customer's POST to the workflow's end (staff's decision or the customer's cancellation included)."""
    calls: Calls = []
    runs = {}
    with in_process_stack(calls) as (stack, runtime, back_office, storefront):
        seed.stock(back_office, "bench-1", 100, 1)
        seed.stock(back_office, "bench-large", 100, 400)
        seed.stock(back_office, "bench-none", 0, 1)

        def run(outcome: str, lines: dict[str, int], method: str = "pm_card_visa", decide: Any = None) -> None:
            usage = Usage(api_requests={"HTTP API request": 1})
            calls.clear()
            with timed_invocations(usage.lambda_runs):
                order_id = seed.order(storefront, lines, payment_method=method)
                runtime.settle()
                if decide is not None:
                    while status_of(stack, order_id) != "AWAITING_APPROVAL":
                        runtime.settle()
                        time.sleep(0.05)  # not a busy loop: the execution runs on another thread
                    request = decide(order_id)
                    usage.api_requests[request] = usage.api_requests.get(request, 0) + 1
                runtime.settle()
                execution = wait_for_execution(stack, execution_arn(stack, order_id))
            usage.calls = list(calls)
            arn = execution_arn(stack, order_id)
            standard = states_entered(stack, arn)
            usage.state_transitions = len(standard)
            usage.express_runs = [express_run(duration(child)) for child in child_executions(stack, arn)]
            usage.log_bytes = sum(len(json.dumps(event, default=str)) for _, event in nested_history(stack, arn))
            path = states_entered(stack, arn, children=True)
            runs[outcome] = OrderRun(path, standard, usage, duration(execution))

        def approve(approved: bool) -> Callable[[str], str]:
            def decide(order_id: str) -> str:
                back_office.post(f"/orders/{order_id}/approval", {"approved": approved})
                return "REST API request"

            return decide

        def cancel(order_id: str) -> str:
            storefront.post(f"/orders/{order_id}/cancel")
            return "HTTP API request"

        run("warm-up", {"bench-1": 1})
        del runs["warm-up"]
        run("CONFIRMED", {"bench-1": 1})
        run("REJECTED OUT_OF_STOCK", {"bench-none": 1})
        run("REJECTED VALIDATION_FAILED", {"bench-unknown": 1})
        run("REJECTED PAYMENT_DECLINED", {"bench-1": 1}, "pm_card_declined")
        run("approved, CONFIRMED", {"bench-large": 3}, decide=approve(True))
        run("REJECTED NOT_APPROVED", {"bench-large": 3}, decide=approve(False))
        run("CANCELLED while awaiting approval", {"bench-large": 3}, decide=cancel)
    return runs


def child_executions(stack: Stack, arn: str) -> list[dict[str, Any]]:
    """The (Express) executions that the execution started, described."""
    sfn = stack.client("stepfunctions")
    children = dict.fromkeys(execution for execution, _ in nested_history(stack, arn) if execution != arn)
    return [sfn.describe_execution(executionArn=child) for child in children]


def duration(execution: dict[str, Any]) -> float:
    return float((execution["stopDate"] - execution["startDate"]).total_seconds())


QUOTE_PRODUCTS = 3
ORDER_COST_TARGET = 250  # dollars per million confirmed orders


@contextmanager
def timed_invocations(runs: list[tuple[int, float]]) -> Iterator[None]:
    """Record each function invocation's (memory MB, duration ms), measured in process."""
    invoke = FunctionInstance.invoke

    def timed(instance: FunctionInstance, event: Any, timeout: float | None = None) -> Any:
        started = time.perf_counter()
        try:
            return invoke(instance, event, timeout)
        finally:
            runs.append((instance.spec.memory_size, (time.perf_counter() - started) * 1000))

    FunctionInstance.invoke = timed  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        FunctionInstance.invoke = invoke  # type: ignore[method-assign]


def status_of(stack: Stack, order_id: str) -> str:
    """The order's status, read with the benchmark's own client: not counted as the order's work."""
    item = stack.client("dynamodb").get_item(TableName=stack.ref("OrdersTable"), Key={"order_id": {"S": order_id}})
    return str(item["Item"]["status"]["S"])


def quote_usage() -> tuple[Usage, list[str], Counter[str]]:
    """One warm quote of QUOTE_PRODUCTS products: what it used, its states and its AWS requests."""
    calls: Calls = []
    with in_process_stack(calls) as (stack, _, back_office, _):
        lines = {f"bench-q{n}": 1 for n in range(QUOTE_PRODUCTS)}
        for product in lines:
            seed.stock(back_office, product, 100, 1)
        quote_body = {"items": [{"product_id": p, "quantity": q} for p, q in lines.items()]}
        back_office.post("/quotes", quote_body)  # warm

        quote = Usage(api_requests={"REST API request": 1})
        calls.clear()
        with timed_invocations(quote.lambda_runs):
            assert back_office.post("/quotes", quote_body).status == 200
        quote.calls = list(calls)
        events = logged_executions(stack, "QuoteWorkflowLogGroup")[-1]
        millis = int(events[-1]["event_timestamp"]) - int(events[0]["event_timestamp"])
        quote.express_runs = [(64, max(100, math.ceil(millis / 100) * 100))]
        quote.log_bytes = sum(len(json.dumps(event)) for event in events)
        quote_states = [event["details"]["name"] for event in events if event["type"].endswith("StateEntered")]
        return quote, quote_states, Counter(name for name, _ in quote.calls)


def main() -> None:
    with mock_aws():
        functions = deploy(load(), boto3.session.Session(region_name="us-east-1")).functions
    with tempfile.TemporaryDirectory() as workdir:
        local = LocalStackProcess(Path(workdir)).wait_until_ready()
        try:
            report(functions, local)
        finally:
            local.stop()


def first_sample_events() -> dict[str, str]:
    """Each function's first sample event (tests/support/samples.py: they work on make dev's demo data)."""
    events: dict[str, str] = {}
    for sample in SAMPLES:
        events.setdefault(sample.function, sample.payload().decode())
    return events


def report(functions: dict[str, FunctionSpec], local: LocalStackProcess) -> None:
    environments = json.loads(local.env_vars_file.read_text().replace("host.docker.internal", "127.0.0.1"))
    cold = measure(functions, local.endpoint, environments, first_sample_events())
    print(
        "Cold path: CPU of a fresh interpreter importing the handler and serving its first sample event "
        f"(make dev's endpoint) vs the floor of its kind beside it (target <= {TARGET:.2f}x)"
    )
    print(
        "  floors: import boto3 + one client + one call + Powertools Logger (one line) + one Pydantic model "
        "validated; an API function's adds APIGatewayRestResolver(enable_validation=True) serving one POST"
    )
    for name, figures in cold.items():
        verdict = "ok" if figures["ratio"] <= TARGET else "OVER"
        print(
            f"  {name:<28} {figures['function_ms']:7.1f} ms vs {kind_of(name):>5} floor {figures['floor_ms']:6.1f} ms  "
            f"{figures['ratio']:.2f}x  {verdict}  (bare boto3 {figures['baseline_ms']:.1f} ms)"
        )
    print("AWS requests per call, warm (target: POST /orders <= 4, GET routes 1)")
    for label, count in aws_requests_per_route().items():
        print(f"  {label:<34} {count}")
    runs = order_outcomes()
    print(
        "Order workflow per outcome: Standard transitions (target: a confirmed order without approval <= 4), "
        "then every state entered, its Express children's included"
    )
    for outcome, order in runs.items():
        print(f"  {outcome:<34} {len(order.standard):>2}: " + " → ".join(order.standard))
        print(f"  {'':<34} {len(order.path):>2}: " + " → ".join(order.path))
    quote, quote_states, quote_calls = quote_usage()
    print(f"A quote of {QUOTE_PRODUCTS} products (target: at most one read per distinct product)")
    print(f"  states entered {len(quote_states)}: " + " → ".join(quote_states))
    requests = ", ".join(f"{name} {count}" for name, count in sorted(quote_calls.items()))
    print(f"  AWS requests: StartSyncExecution 1 (API Gateway), then {requests}")
    print("Cost at list price (tools/benchmarks/cost.py; Lambda durations measured here, warm)")
    print(f"  a quote: {per_million(cost(quote))}")
    print("  an order: its Standard transitions, its Express children (requests, billed duration at 64 MB), its bill")
    print(f"  (target: a confirmed order without approval <= ${ORDER_COST_TARGET} per million, its email included)")
    for outcome, order in runs.items():
        children = order.usage.express_runs
        billed = sum(ms for _, ms in children)
        print(
            f"  {outcome}: {order.usage.state_transitions} Standard, {len(children)} Express ({billed:,} ms), "
            + per_million(cost(order.usage))
        )
        if "RequestApproval" in order.path:
            # Express has no .waitForTaskToken and lasts at most five minutes; staff have a day.
            print("    all of it as one Express workflow: not possible (it waits for staff)")
        else:
            express = sum(cost(as_express(order.usage, order.seconds)).values()) * 1e6
            print(f"    all of it as one Express workflow ({order.seconds:.2f} s here): ${express:,.2f} per million")
    print(
        "Fast starts in prod, per 512 MB function (tools/benchmarks/cost.py): "
        + ", ".join(f"{what} ${dollars:,.2f}" for what, dollars in warm_start_options(512).items())
    )
    throughput, quotes, imported = local_throughput(local)
    print(f"Local stack (make dev): POST /orders → CONFIRMED, {ORDERS_PER_CLIENT} orders per client, warm")
    for clients, (rate, latencies) in throughput.items():
        p50, p95 = percentile(latencies, 0.5) * 1000, percentile(latencies, 0.95) * 1000
        print(f"  {clients:>2} clients: {rate:5.1f} orders/s confirmed, p50 {p50:5.0f} ms, p95 {p95:5.0f} ms")
    p50, p95 = percentile(quotes, 0.5) * 1000, percentile(quotes, 0.95) * 1000
    print(
        f"Local stack (make dev): POST /quotes, {QUOTES} one after the other, warm: p50 {p50:.0f} ms, p95 {p95:.0f} ms"
    )
    print(
        f"Local stack (make dev): import of {IMPORT_ROWS:,} rows (target < 60 s): {imported.seconds:.1f} s, "
        f"{IMPORT_ROWS / imported.seconds:,.0f} rows/s, {imported.status}, {imported.rows_imported:,} imported; "
        f"at most {imported.chunks_at_once} chunks at once"
    )
    print("  seconds per step: " + ", ".join(f"{step} {seconds:.1f}" for step, seconds in imported.phases.items()))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
