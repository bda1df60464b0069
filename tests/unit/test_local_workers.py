"""make dev's execution environments (local_stack/lambda_runtime/workers.py): one process per warm instance,
concurrent instances up to the function's limit, Lambda's timeout and crash semantics."""

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from local_stack.cloudwatch.metrics import MetricSink
from local_stack.cloudwatch.publishers import MeteredFunction
from local_stack.lambda_runtime.functions import FunctionError, FunctionSpec, Throttled
from local_stack.lambda_runtime.service_models import FUNCTION_SERVICES
from local_stack.lambda_runtime.workers import SHARED_LIBRARIES, FunctionPool

HANDLERS = """
import sys

LOADED_BEFORE_INIT = sorted(sys.modules)  # what the instance had before it imported the function's code

import json
import os
import time

time.sleep(float(os.environ.get("INIT_SECONDS", "0")))  # the init phase


def lambda_handler(event, context):
    if event.get("exit"):
        os._exit(event["exit"])
    if event.get("sys_exit"):
        sys.exit(event["sys_exit"])
    time.sleep(event.get("sleep", 0))
    if event.get("log"):
        from aws_lambda_powertools import Logger

        Logger(service="serverless-orders").info(event["log"], order_id="o-4")
    if event.get("emf"):
        print(json.dumps(event["emf"]))  # as Powertools Metrics prints its metrics
    if event.get("raise"):
        raise ValueError(event["raise"])
    if event.get("loaded_before_init"):
        return LOADED_BEFORE_INIT
    if event.get("files_read_by_clients"):  # each client in a new Session, as a Powertools provider makes it
        import boto3
        from botocore.loaders import JSONFileLoader

        read, load_file = [], JSONFileLoader.load_file
        JSONFileLoader.load_file = lambda self, path: read.append(path) or load_file(self, path)
        for service in event["files_read_by_clients"]:
            boto3.session.Session().client(service, region_name="us-east-1")
        return read
    return {"pid": os.getpid(), "remaining_ms": context.get_remaining_time_in_millis(), "env": os.environ["GREETING"]}
"""


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "app.py").write_text(HANDLERS)

    def make(timeout=1, reserved=None, **environment):
        return FunctionSpec(
            logical_id="ProbeFunction",
            name="orders-local-ProbeFunction",
            arn="arn:aws:lambda:us-east-1:123456789012:function:orders-local-ProbeFunction",
            handler="app.lambda_handler",
            code_dir=tmp_path,
            layer_dirs=(),
            environment={"GREETING": "hello", **environment},
            timeout=timeout,
            memory_size=128,
            reserved_concurrency=reserved,
        )

    return make


@pytest.fixture
def pools():
    made = []

    def make(spec):
        pool = FunctionPool(spec, dict(os.environ), spec.reserved_concurrency)
        made.append(pool)
        return pool

    yield make
    for pool in made:
        pool.stop()


def test_a_warm_instance_is_its_own_process_with_the_functions_environment(spec, pools):
    pool = pools(spec())

    first, second = pool.invoke({}), pool.invoke({})

    assert first["pid"] == second["pid"] != os.getpid()
    assert first["env"] == "hello"
    assert 0 < first["remaining_ms"] <= 1000


def test_a_new_instance_finds_the_shared_libraries_already_imported(spec, pools):
    """Each instance is forked from a process that imported boto3, pydantic and Powertools once (a
    name that cannot be imported would be skipped without a word: this checks them all)."""
    loaded = pools(spec()).invoke({"loaded_before_init": True})

    assert sorted(set(SHARED_LIBRARIES) - set(loaded)) == []


def test_a_new_instance_finds_the_functions_service_models_already_read(spec, pools):
    """The forkserver read them once (local_stack/lambda_runtime/preload.py): an instance's clients
    read no model file, however many sessions make them."""
    read = pools(spec()).invoke({"files_read_by_clients": list(FUNCTION_SERVICES)})

    assert read == []


def test_concurrent_invocations_run_in_as_many_instances(spec, pools):
    pool = pools(spec(timeout=5))

    with ThreadPoolExecutor(max_workers=3) as callers:
        answers = list(callers.map(lambda _: pool.invoke({"sleep": 0.5}), range(3)))

    assert len({answer["pid"] for answer in answers}) == 3


def test_a_handler_past_its_timeout_is_stopped_and_reported_as_lambda_does(spec, pools):
    pool = pools(spec(timeout=1))
    before = pool.invoke({})["pid"]

    with pytest.raises(FunctionError) as timed_out:
        pool.invoke({"sleep": 30})

    assert timed_out.value.error_type == "Sandbox.Timedout"
    assert timed_out.value.message.endswith("Task timed out after 1.00 seconds")
    after = pool.invoke({})["pid"]
    assert after != before  # that instance is gone; a fresh one serves the next invocation


def test_the_init_phase_does_not_count_against_the_timeout(spec, pools):
    pool = pools(spec(timeout=1, INIT_SECONDS="1.5"))

    assert pool.invoke({})["env"] == "hello"


@pytest.mark.parametrize("crash", [{"exit": 3}, {"sys_exit": 4}])
def test_a_crashing_handler_costs_its_instance_not_the_function(spec, pools, crash):
    pool = pools(spec())

    with pytest.raises(FunctionError) as crashed:
        pool.invoke(crash)

    assert crashed.value.error_type == "Runtime.ExitError"
    assert f"exit status {crash.get('exit') or crash.get('sys_exit')}" in crashed.value.message
    assert pool.invoke({})["env"] == "hello"


def test_a_handlers_error_keeps_the_instance_warm(spec, pools):
    pool = pools(spec())
    before = pool.invoke({})["pid"]

    with pytest.raises(FunctionError) as failed:
        pool.invoke({"raise": "no such order"})

    assert (failed.value.error_type, failed.value.message) == ("ValueError", "no such order")
    assert pool.invoke({})["pid"] == before


def test_reserved_concurrency_throttles_what_is_beyond_it(spec, pools):
    pool = pools(spec(timeout=5, reserved=1))
    started = threading.Event()
    busy = threading.Thread(target=lambda: (started.set(), pool.invoke({"sleep": 1.5})))
    pool.invoke({})  # one warm instance: the busy call below takes it at once
    busy.start()
    started.wait()

    try:
        outcomes = []
        for _ in range(50):  # until the busy call holds the only instance
            try:
                outcomes.append(pool.invoke({})["pid"])
            except Throttled as throttled:
                outcomes.append(throttled.error_type)
                break
    finally:
        busy.join()

    assert outcomes[-1] == "TooManyRequestsException"


def test_without_a_reservation_what_is_beyond_the_limit_waits(spec, pools):
    function = spec(timeout=5)
    pool = pools(function)
    pool.limit = 1

    with ThreadPoolExecutor(max_workers=2) as callers:
        answers = list(callers.map(lambda _: pool.invoke({"sleep": 0.3}), range(2)))

    assert answers[0]["pid"] == answers[1]["pid"]  # one instance, taken in turn, none refused


EMF = {
    "_aws": {
        "Timestamp": 0,
        "CloudWatchMetrics": [
            {"Namespace": "Probe", "Dimensions": [["service"]], "Metrics": [{"Name": "Probed", "Unit": "Count"}]}
        ],
    },
    "service": "probe",
    "Probed": [2.0, 3.0],
}


def test_a_workers_invocations_are_metered_as_lambda_meters_them_with_the_metrics_it_printed(spec, pools, aws):
    sink = MetricSink("123456789012", "us-east-1", clock=lambda: 1_700_000_000.0)
    probe = spec(timeout=0.5)
    function = MeteredFunction(probe, pools(probe), sink)

    function.invoke({"emf": EMF})
    for failing in ({"raise": "boom"}, {"sleep": 2}, {"exit": 3}):  # an exception, a timeout, a crash
        with pytest.raises(FunctionError):
            function.invoke(failing)

    series = sink.series()

    def values(namespace, name, dimensions):
        return [point.value for point in series[(namespace, name, dimensions)]]

    by_function = (("FunctionName", "orders-local-ProbeFunction"),)
    assert values("AWS/Lambda", "Invocations", by_function) == [1.0, 1.0, 1.0, 1.0]
    assert values("AWS/Lambda", "Errors", by_function) == [0.0, 1.0, 1.0, 1.0]
    assert values("AWS/Lambda", "Throttles", by_function) == [0.0, 0.0, 0.0, 0.0]
    for metric in ("Invocations", "Errors", "Throttles", "Duration"):  # and Lambda's account-wide series
        assert values("AWS/Lambda", metric, ()) == values("AWS/Lambda", metric, by_function), metric
    assert values("Probe", "Probed", (("service", "probe"),)) == [2.0, 3.0]


@pytest.mark.parametrize(
    ("log_format", "shown"),
    [
        ("", r"\[ProbeFunction\] \d\d:\d\d:\d\d\.\d{3} INFO order validated order_id=o-4"),
        ("json", r'\[ProbeFunction\] \{"level":"INFO","location":"lambda_handler:\d+","message":"order validated".*\}'),
    ],
)
def test_a_workers_function_logs_reach_the_console_in_the_stacks_log_format(
    spec, pools, capfd, monkeypatch, log_format, shown
):
    monkeypatch.setenv("LOG_FORMAT", log_format)  # the stack's environment, which its workers inherit
    pools(spec()).invoke({"log": "order validated"})

    [line] = [line for line in capfd.readouterr().out.splitlines() if line.startswith("[ProbeFunction]")]
    assert re.fullmatch(shown, line), line
