"""The import workflow when AWS fails a step: a write whose answer is lost, a chunk that fails once or
every attempt, a report that cannot be written, SNS down. Every row is imported or reported, never
lost, and staff hear how the import ended."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from moto.dynamodb.responses import DynamoHandler
from moto.s3.models import S3Backend
from moto.sns.models import SNSBackend

from support.aws import ServerFaultError, TopicCapture, failing_backend_call, table_items
from support.imports import (
    PREPARED,
    chunk_executions,
    import_arn,
    import_path,
    imported_path,
    report_rows,
    rows_file,
    run_import,
)
from support.workflow import history

SDK_TRIES = 4  # the first try and retries={"max_attempts": 3}
REJECTED_HEADER = "the header must be product_id,quantity,price (found sku,qty,price)"


def reject_losing_answers(back_office, local_lambda, stack, monkeypatch, lost):
    """Import a file with the wrong header while the first `lost` writes marking an import FAILED
    take effect and lose their answer: the import id, the execution's description, the failures."""

    def marks_failed(handler: DynamoHandler, *args: Any, **kwargs: Any) -> bool:
        body = handler.body  # moto parsed it
        return (
            len(failures) < lost
            and body["TableName"] == stack.ref("ImportsTable")
            and {"S": "FAILED"} in body.get("ExpressionAttributeValues", {}).values()
        )

    with failing_backend_call(
        monkeypatch, DynamoHandler, "update_item", marks_failed, ServerFaultError(), after=True
    ) as failures:
        import_id, description = run_import(back_office, local_lambda, stack, b"sku,qty,price\nwidget-1,1,1\n")
    return import_id, description, failures


def test_a_rejected_file_is_failed_once_when_its_step_is_retried_after_marking_it(
    back_office, local_lambda, stack, backoff, monkeypatch
):
    """The write that marks the import FAILED takes effect but its answer is lost, on each of the
    SDK's four tries: the first PrepareImport fails, and Step Functions retries it. The retry marks
    the import FAILED again with the same reason, which is no conflict: the file is rejected once."""
    topic = TopicCapture(stack, stack.ref("ImportsTopic"))
    import_id, description, failures = reject_losing_answers(back_office, local_lambda, stack, monkeypatch, SDK_TRIES)

    assert len(failures) == SDK_TRIES
    assert description["status"] == "SUCCEEDED"
    progress = back_office.get(f"/imports/{import_id}").body
    assert (progress["status"], progress["reason"]) == ("FAILED", REJECTED_HEADER)
    assert import_path(stack, import_id) == [*PREPARED, "FileRejected", "NotifyStaff", "Done"]
    assert [event["type"] for event in history(stack, import_arn(stack, import_id))].count("TaskFailed") == 1
    assert list(backoff) == [2.0]  # PrepareImport's retry, once
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} FAILED"
    assert json.loads(notification["Message"])["reason"] == REJECTED_HEADER


def test_a_step_that_fails_after_the_import_ended_leaves_its_status_and_still_tells_staff(
    back_office, local_lambda, stack, backoff, monkeypatch
):
    """PrepareImport marks a rejected file FAILED with its reason, then fails every attempt (the
    write's answer lost each time). MarkFailed finds the import already ended: its condition keeps
    the reason staff need, and that refusal is caught, so staff still hear that the import failed."""
    topic = TopicCapture(stack, stack.ref("ImportsTopic"))
    attempts = 3  # PrepareImport's first and its two retries
    import_id, description, _ = reject_losing_answers(
        back_office, local_lambda, stack, monkeypatch, attempts * SDK_TRIES
    )

    assert (description["status"], description["error"]) == ("FAILED", "ImportFailed")
    progress = back_office.get(f"/imports/{import_id}").body
    assert (progress["status"], progress["reason"]) == ("FAILED", REJECTED_HEADER)
    path = import_path(stack, import_id)
    assert path == ["PrepareImport", "MarkFailed", "NotifyFailure", "ImportFailed"]
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} FAILED"


def _writes_product(product_id: str):
    """Whether a BatchWriteItem request (moto's handler) sets `product_id`."""

    def when(handler: DynamoHandler, *args: Any, **kwargs: Any) -> bool:
        return any(
            request["PutRequest"]["Item"]["product_id"]["S"] == product_id
            for requests_of_table in handler.body["RequestItems"].values()  # moto parsed it
            for request in requests_of_table
        )

    return when


def test_a_chunk_that_fails_once_is_retried_with_backoff_and_imports_every_row(
    back_office, local_lambda, stack, backoff, monkeypatch
):
    rows = [f"p-{n},{n},1" for n in range(1, 3_001)]
    attempts = 5  # the SDK's four tries (max_attempts 3 is three retries) fail; the task's retry succeeds
    with failing_backend_call(
        monkeypatch,
        DynamoHandler,
        "batch_write_item",
        lambda *args, **kwargs: _writes_product("p-1500")(*args, **kwargs) and len(failures) < attempts - 1,
        ServerFaultError(),
    ) as failures:
        import_id, description = run_import(back_office, local_lambda, stack, rows_file(rows))

    assert description["status"] == "SUCCEEDED"
    assert len(failures) == attempts - 1
    progress = back_office.get(f"/imports/{import_id}").body
    assert (progress["status"], progress["rows_imported"], progress["rows_rejected"]) == ("COMPLETED", 3_000, 0)
    assert len(table_items(stack, "InventoryTable")) == 3_000
    assert list(backoff) == [2.0]  # the chunk workflow's retry of ImportRows, once
    failed_tasks = [
        event
        for execution in chunk_executions(stack)
        for event in history(stack, execution["executionArn"])
        if event["type"] == "TaskFailed"
    ]
    assert len(failed_tasks) == 1
    assert "ChunkFailed" not in import_path(stack, import_id)


def test_a_chunk_that_fails_every_attempt_is_counted_and_reported_not_lost(
    back_office, local_lambda, stack, backoff, monkeypatch
):
    rows = [f"p-{n},{n},1" for n in range(1, 3_001)]
    with failing_backend_call(
        monkeypatch, DynamoHandler, "batch_write_item", _writes_product("p-1500"), ServerFaultError()
    ):
        import_id, description = run_import(back_office, local_lambda, stack, rows_file(rows))

    assert description["status"] == "SUCCEEDED"
    progress = back_office.get(f"/imports/{import_id}").body
    message = "not imported: its chunk failed every attempt (importing the row again is safe)"
    assert progress["status"] == "COMPLETED_WITH_ERRORS"
    assert (progress["rows_imported"], progress["rows_rejected"], progress["chunks_done"]) == (2_000, 1_000, 3)
    assert progress["errors"] == [{"row": row, "message": message} for row in range(1_001, 1_021)]
    report = report_rows(progress["report_url"])
    assert [int(line["row"]) for line in report] == list(range(1_001, 2_001))
    assert report[0] == {"row": "1001", "product_id": "p-1001", "quantity": "1001", "price": "1", "error": message}
    path = import_path(stack, import_id)
    assert Counter(path) == imported_path(3) + Counter({"ChunkFailed": 1})
    # The parent retried the chunk once, after 2 s: a second execution of the chunk workflow, which
    # retried ImportRows itself (2 s, then 4 s) before it failed too.
    executions = {execution["name"].removeprefix(import_id): execution for execution in chunk_executions(stack)}
    assert {name: execution["status"] for name, execution in executions.items()} == {
        "-0-0": "SUCCEEDED",
        "-1-0": "FAILED",
        "-1-1": "FAILED",
        "-2-0": "SUCCEEDED",
    }
    for name in ("-1-0", "-1-1"):
        attempts = [
            event for event in history(stack, executions[name]["executionArn"]) if event["type"] == "TaskFailed"
        ]
        assert len(attempts) == 3, name
    assert sorted(backoff) == [2.0, 2.0, 2.0, 4.0, 4.0]


def import_whose_report_cannot_be_written(back_office, local_lambda, stack, monkeypatch, sns_down):
    """FinishImport cannot write the report on any try (and SNS refuses the staff topic when
    `sns_down`): the import's id, the execution, and the notifications SNS refused."""
    topic_arn = stack.ref("ImportsTopic")

    def report(backend: S3Backend, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> bool:
        return key_name.startswith("reports/")

    def to_staff(backend: SNSBackend, message: str, arn: str | None = None, **kwargs: Any) -> bool:
        return sns_down and arn == topic_arn

    with (
        failing_backend_call(monkeypatch, S3Backend, "put_object", report, ServerFaultError()),
        failing_backend_call(monkeypatch, SNSBackend, "publish", to_staff, ServerFaultError()) as unpublished,
    ):
        import_id, description = run_import(back_office, local_lambda, stack, rows_file(["bad/id,1,1"]))
    progress = back_office.get(f"/imports/{import_id}").body
    assert (description["status"], description["error"]) == ("FAILED", "ImportFailed")
    assert (progress["status"], progress["reason"]) == ("FAILED", "PROCESSING_ERROR")
    assert import_path(stack, import_id)[-4:] == [
        "FinishImport", "MarkFailed", "NotifyFailure", "ImportFailed"
    ]  # fmt: skip
    return import_id, unpublished


def test_a_step_that_fails_after_its_retries_fails_the_import_and_tells_staff(
    back_office, local_lambda, stack, backoff, monkeypatch
):
    topic = TopicCapture(stack, stack.ref("ImportsTopic"))

    import_id, _ = import_whose_report_cannot_be_written(back_office, local_lambda, stack, monkeypatch, sns_down=False)

    assert list(backoff) == [2.0, 4.0]  # FinishImport's two retries
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} FAILED"
    assert notification["Message"].startswith(f"Import {import_id} FAILED (PROCESSING_ERROR): ")


def test_an_import_that_fails_while_sns_is_down_still_ends_as_failed(
    back_office, local_lambda, stack, backoff, monkeypatch
):
    """SNS refuses every try of NotifyFailure as well: the execution still ends as ImportFailed."""
    topic = TopicCapture(stack, stack.ref("ImportsTopic"))

    _, unpublished = import_whose_report_cannot_be_written(back_office, local_lambda, stack, monkeypatch, sns_down=True)

    assert (len(unpublished), topic.notifications()) == (4, [])  # NotifyFailure's attempt and 3 retries
    assert list(backoff) == [2.0, 4.0, 1.0, 2.0, 4.0]  # FinishImport's two retries, NotifyFailure's three
