"""Whoever waits on the local runtime (a test waiting for a workflow to reach a state, make dev's
delivery loop and its report of finished executions) is woken when an invocation is queued or ends,
a message or a stream record arrives, or an execution ends: not after a fixed poll."""

import json
import threading
import time
from unittest.mock import patch

from botocore.client import BaseClient

from local_stack import server
from local_stack.moto_patches.nested import EXECUTION_ENDS
from local_stack.server import ExecutionReporter
from support import seed
from support.aws import table_items
from support.polling import eventually
from support.samples import EVENTS, UNKNOWN_IMPORT
from support.workflow import process


def test_a_waiter_wakes_when_an_invocation_is_queued_and_again_when_it_ends(local_lambda):
    progress = local_lambda.progress
    progress.look()
    assert progress.sleep(0) is False  # nothing happened: the longest wait runs out

    # StartImportFunction's sample names an import that does not exist: it answers at once, starting nothing.
    event = json.loads((EVENTS / "eventbridge_import_uploaded.json").read_text())
    local_lambda.invoke_async("StartImportFunction", event)
    assert progress.sleep(60) is True  # queued: returns at once, never 60 s later
    assert local_lambda.pending.qsize() == 1

    delivery = threading.Timer(0.05, local_lambda.run_pending)
    delivery.start()
    assert progress.sleep(60) is True  # woken by the end of the invocation
    delivery.join()
    assert local_lambda.pending.qsize() == 0
    assert progress.sleep(0) is False  # and that end is not counted twice
    progress.look()

    assert local_lambda.invoke("StartImportFunction", event) == {"import_id": UNKNOWN_IMPORT, "started": False}
    assert progress.sleep(0) is True  # a synchronous invocation's end wakes a waiter too


def test_make_devs_loops_do_nothing_while_idle_and_wake_for_each_record_message_and_execution_end(
    local_lambda, storefront, back_office, stack, monkeypatch
):
    seed.stock(back_office, "widget-1", 100, price=19.99)
    polls = {source.function.logical_id: [] for source in local_lambda.sources}
    reports, lines = [], []
    reporter = ExecutionReporter(stack)

    def counted(source):
        poll = source.poll

        def counted_poll(runtime) -> int:
            polls[source.function.logical_id].append(delivered := poll(runtime))
            return delivered

        return counted_poll

    def counted_report() -> None:
        reports.append(1)
        reporter.report_finished()

    for source in local_lambda.sources:
        monkeypatch.setattr(source, "poll", counted(source))
    monkeypatch.setattr(server, "say", lines.append)
    stop = threading.Event()
    # Each loop sleeps 60 s when idle: whatever happens in this test happens because it woke a loop.
    [delivery] = local_lambda.start_workers(stop, idle_poll_seconds=60)
    reporting = threading.Thread(target=server._after_each_end, args=(counted_report, stop, 60), daemon=True)
    reporting.start()
    try:
        first_pass = {"PublishOrderEventsFunction": [0], "AnalyticsFunction": [0]}
        assert eventually(lambda: polls == first_pass and reports == [1])
        time.sleep(0.5)
        assert (polls, reports) == (first_pass, [1])  # the old timers: five more polls and two more reports

        # The order's stream record wakes the delivery loop for PublishOrderEvents, whose OrderCreated
        # reaches the FIFO AnalyticsQueue: its message wakes the loop for AnalyticsFunction. The
        # workflow's end wakes the reporter.
        order_id = seed.order(storefront, {"widget-1": 2})
        assert eventually(lambda: orders_counted(stack) == 1)
        assert eventually(lambda: any(line.startswith(f"[workflow] {order_id} SUCCEEDED") for line in lines))
        # The queue was polled for its one message and once more (it may have held more), not for
        # each of the order's stream records, invocations and executions.
        assert polls["AnalyticsFunction"] == [0, 1, 0]
        assert polls["PublishOrderEventsFunction"].count(1) == 1
    finally:
        stop.set()
        local_lambda.progress.happened()
        EXECUTION_ENDS.happened()
        delivery.join(5)
        reporting.join(5)
    assert not delivery.is_alive()
    assert not reporting.is_alive()


def orders_counted(stack):
    return sum(item["orders"] for item in table_items(stack, "AnalyticsTable") if item["pk"].startswith("day#"))


def test_a_report_reads_the_history_of_the_executions_ended_since_the_last_one_and_nothing_else(
    local_lambda, storefront, back_office, stack, monkeypatch
):
    """make dev reports at every end: what it reads does not grow with the executions already reported."""
    seed.stock(back_office, "widget-1", 100, price=19.99)
    lines = []
    monkeypatch.setattr(server, "say", lines.append)
    reporter = ExecutionReporter(stack)

    def report() -> list[str]:
        with patch.object(BaseClient, "_make_api_call", autospec=True, side_effect=BaseClient._make_api_call) as calls:
            reporter.report_finished()
        return [call.args[1] for call in calls.call_args_list]

    first = seed.order(storefront, {"widget-1": 1})
    process(local_lambda, stack, first)
    assert report() == ["GetExecutionHistory"] * 2  # the order's execution and its steps' (Express)
    assert report() == []
    second = seed.order(storefront, {"widget-1": 1})
    process(local_lambda, stack, second)
    assert report() == ["GetExecutionHistory"] * 2

    assert sorted(line.split(" ")[1] for line in lines) == sorted(
        name for order_id in (first, second) for name in (order_id, f"{order_id}-order-0")
    )
    assert all(" SUCCEEDED in " in line for line in lines)
