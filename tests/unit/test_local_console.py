"""make dev's console (local_stack/logs.py): a function's Powertools log record, about 600 characters
of JSON, is one readable line (time, level, message, the order or import id, the handler's own keys);
its metrics one METRIC line; LOG_FORMAT=json prints each line exactly as the function wrote it."""

import io
import itertools
import json
import logging
import threading
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools import Logger, Metrics

from local_stack.lambda_runtime.functions import running
from local_stack.logs import FunctionLogs, console_line

_loggers = itertools.count()
LOGGED_AT = datetime(2026, 12, 5, 21, 5, 23, 666000, tzinfo=UTC)


class _Context:
    """What Lambda hands a handler, as much as Powertools' inject_lambda_context reads."""

    function_name = "orders-local-UpdateInventoryFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:orders-local-UpdateInventoryFunction"
    aws_request_id = "33f7b5e7-b22a-4733-bada-21d2ea82fea6"


def _at_logged_time(record: logging.LogRecord) -> bool:
    record.created, record.msecs = LOGGED_AT.timestamp(), 666.0
    return True


def powertools_lines(correlation_id_path, event, log) -> list[str]:
    """The JSON lines a handler decorated as ours are prints through a real Powertools Logger."""
    stream = io.StringIO()
    # Powertools keeps one logging.Logger per service, with the stream it was first given: a name of its own.
    logger = Logger(service=f"console-test-{next(_loggers)}", stream=stream, utc=True)
    logger.addFilter(_at_logged_time)

    @logger.inject_lambda_context(correlation_id_path=correlation_id_path)
    def handler(event, context):
        log(logger)

    handler(event, _Context())
    return stream.getvalue().splitlines()


def test_a_workflow_tasks_record_is_its_time_level_message_order_id_and_its_own_keys():
    [line] = powertools_lines(
        "order_id",
        {"order_id": "1c53f3d5-4d0e-5b52-9c68-6bdc2f5623b9"},
        lambda logger: logger.info("reservation", outcome="OUT_OF_STOCK", detail="not enough stock for gizmo-3"),
    )
    assert len(line) > 400  # what the console printed before

    assert console_line("UpdateInventoryFunction", line) == (
        "[UpdateInventoryFunction] 21:05:23.666 INFO reservation "
        "correlation_id=1c53f3d5-4d0e-5b52-9c68-6bdc2f5623b9 outcome=OUT_OF_STOCK "
        'detail="not enough stock for gizmo-3"'
    )


def test_an_order_id_or_import_id_key_comes_first_and_a_correlation_id_equal_to_it_is_not_repeated():
    order_id = "dc13ba8d-dad2-5b2d-8e70-31c97d32c5dd"
    lines = powertools_lines(
        "detail.order_id",
        {"detail": {"order_id": order_id}},
        lambda logger: (
            logger.info("order counted", count=2, order_id=order_id),
            logger.warning("import running", import_id="9e0f1a2b", key="uploads/9e0f1a2b.csv"),
        ),
    )

    assert [console_line("AnalyticsFunction", line) for line in lines] == [
        f"[AnalyticsFunction] 21:05:23.666 INFO order counted order_id={order_id} count=2",
        f"[AnalyticsFunction] 21:05:23.666 WARNING import running import_id=9e0f1a2b correlation_id={order_id} "
        "key=uploads/9e0f1a2b.csv",
    ]


def test_a_logged_exception_is_its_line_then_its_traceback_indented():
    def fail(logger):
        try:
            raise ValueError("the table is gone")
        except ValueError:
            logger.exception("request failed", error_type="ValueError")

    [line] = powertools_lines("order_id", {"order_id": "o-1"}, fail)

    first, *trace = console_line("BackOfficeFunction", line).split("\n")
    assert first == "[BackOfficeFunction] 21:05:23.666 ERROR request failed correlation_id=o-1 error_type=ValueError"
    assert trace[0] == "    Traceback (most recent call last):"
    assert trace[-1] == "    ValueError: the table is gone"


def test_metrics_in_the_embedded_metric_format_are_one_metric_line(capsys):
    metrics = Metrics(namespace="ServerlessOrders", service="serverless-orders")
    metrics.add_metric(name="OrderCreated", unit="Count", value=1)
    metrics.add_metric(name="PaymentCircuitOpen", unit="Count", value=0)
    metrics.set_timestamp(LOGGED_AT)
    metrics.flush_metrics()
    [line] = capsys.readouterr().out.splitlines()

    assert console_line("StorefrontFunction", line) == (
        "[StorefrontFunction] 21:05:23.666 METRIC OrderCreated=1 PaymentCircuitOpen=0"
    )


@pytest.mark.parametrize("line", ["plain text from print()", "{not json", '{"level": "INFO"}', "[1, 2]", ""])
def test_anything_else_a_function_prints_is_shown_as_it_is(line):
    assert console_line("NotifyFunction", line) == f"[NotifyFunction] {line}"


def _written_by(function, text, raw):
    terminal = io.StringIO()
    logs = FunctionLogs(terminal, raw=raw)
    running.function = function
    try:
        logs.write(text)
    finally:
        running.function = None
    return terminal.getvalue()


def test_function_output_goes_through_the_console_line_and_other_output_is_untouched():
    [line] = powertools_lines("order_id", {"order_id": "o-2"}, lambda logger: logger.info("order closed"))

    assert _written_by("CloseOrderFunction", line + "\n", raw=False) == (
        "[CloseOrderFunction] 21:05:23.666 INFO order closed correlation_id=o-2\n"
    )
    assert _written_by(None, line + "\n", raw=False) == line + "\n"  # the stack's own output


def test_log_format_json_prints_each_line_as_the_function_wrote_it(monkeypatch):
    lines = powertools_lines(
        "order_id", {"order_id": "o-3"}, lambda logger: logger.info("reservation", outcome="DONE", total=39.98)
    )
    monkeypatch.setenv("LOG_FORMAT", "json")

    assert FunctionLogs(io.StringIO()).raw
    written = _written_by("UpdateInventoryFunction", "".join(f"{line}\n" for line in lines), raw=None)
    assert written == "".join(f"[UpdateInventoryFunction] {line}\n" for line in lines)
    assert json.loads(written.removeprefix("[UpdateInventoryFunction] "))["total"] == 39.98


def test_lines_written_in_pieces_by_two_threads_stay_whole():
    terminal = io.StringIO()
    logs = FunctionLogs(terminal, raw=True)

    def write(function):
        running.function = function
        for piece in ("first ", "half", "\n"):
            logs.write(piece)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("AFunction", "BFunction")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(terminal.getvalue().splitlines()) == ["[AFunction] first half", "[BFunction] first half"]
