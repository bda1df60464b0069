"""Bulk imports in process: POST /imports through the back office, the file PUT to its presigned URL,
S3's Object Created on the default bus, the starter, the real statemachine/import_workflow.asl.json
fanning out to statemachine/import_chunk_workflow.asl.json (moto, with the local adapter's nested
executions), the real task handlers. Each test checks what staff see (progress, report, SNS), what
changed in the inventory, and the exact states entered."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from moto.dynamodb.responses import DynamoHandler
from moto.s3.models import S3Backend
from moto.sns.models import SNSBackend
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from local_stack.cloudformation.template import PROJECT_ROOT, load
from support import seed
from support.aws import (
    BusCapture,
    ServerFaultError,
    TopicCapture,
    embedded_metrics,
    failing_backend_call,
    table_items,
)
from support.workflow import (
    described_executions,
    history,
    most_at_once,
    settle_until,
    states_entered,
    wait_for_execution,
)

MAX_CONCURRENCY = 2
PREPARED = ["PrepareImport", "IsReadable"]
FINISHED = ["FinishImport", "NotifyStaff", "Done"]
HEADER = "product_id,quantity,price\n"


@pytest.fixture(scope="module")
def sam_template(payment_provider):
    """The template with ImportMaxConcurrency lowered, so that a few chunks show the limit."""
    return load(
        parameter_overrides={"PaymentApiUrl": payment_provider[1], "ImportMaxConcurrency": str(MAX_CONCURRENCY)}
    )


def open_import(back_office) -> dict[str, Any]:
    response = back_office.post("/imports")
    assert response.status == 201, response
    return response.body


def upload(created: dict[str, Any], data: bytes) -> None:
    """What a client does with the answer of POST /imports."""
    response = requests.put(created["upload_url"], data=data, headers={"Content-Type": "text/csv"}, timeout=10)
    assert response.status_code == 200, response.text


def import_arn(stack, import_id: str) -> str:
    return stack.ref("ImportWorkflow").replace(":stateMachine:", ":execution:") + f":{import_id}"


def run_import(back_office, local_lambda, stack, data: bytes) -> tuple[str, dict[str, Any]]:
    """Open an import, upload `data`, deliver the upload event, wait for the workflow; the import id
    and the execution's description."""
    created = open_import(back_office)
    upload(created, data)
    local_lambda.settle()
    description = wait_for_execution(stack, import_arn(stack, created["import_id"]), timeout=120)
    local_lambda.settle()
    return created["import_id"], description


def chunk_executions(stack) -> list[dict[str, Any]]:
    return described_executions(stack.client("stepfunctions"), stack.ref("ImportChunkWorkflow"))


def chunk_paths(stack) -> list[tuple[str, ...]]:
    """The states entered by each chunk execution, sorted."""
    return sorted(tuple(states_entered(stack, execution["executionArn"])) for execution in chunk_executions(stack))


def imported_path(chunks: int) -> Counter[str]:
    return Counter({**Counter(PREPARED), "ImportChunks": 1, "ImportChunk": chunks, "RecordProgress": chunks,
                    **Counter(FINISHED)})  # fmt: skip


def rows_file(rows: list[str]) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def report_rows(url: str) -> list[dict[str, str]]:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.text)))


BAD_ROWS = {  # row number -> (row, message)
    7: ("bad/id,1,1.00", "product_id: String should match pattern '^[A-Za-z0-9][A-Za-z0-9._:-]*$'"),
    1500: ("p-1500,-1,1.00", "quantity: must be a whole number from 0"),
    2001: ("p-2001,5,1.234", "price: Decimal input should have no more than 2 decimal places"),
    4000: ("p-4000,5", "expected 3 fields (product_id,quantity,price), found 2"),
    9999: ("p-9999,1000000001,1", "quantity: Input should be less than or equal to 1000000000"),
    10000: ("p-10000,1,1000000.01", "price: Input should be less than or equal to 1000000"),
}


def test_a_file_of_10000_rows_imports_the_good_rows_and_reports_the_bad_ones(back_office, local_lambda, stack):
    rows = [f"p-{number},{number % 50},{number % 7}.25" for number in range(1, 10_001)]
    for number, (row, _) in BAD_ROWS.items():
        rows[number - 1] = row
    topic = TopicCapture(stack, stack.ref("ImportsTopic"))

    import_id, description = run_import(back_office, local_lambda, stack, rows_file(rows))

    assert description["status"] == "SUCCEEDED"
    progress = back_office.get(f"/imports/{import_id}")
    assert progress.status == 200
    report_url = progress.body.pop("report_url")
    assert parse_qs(urlparse(report_url).query)["X-Amz-Expires"] == ["900"]  # routers/imports.py's LINK_EXPIRY_SECONDS
    assert progress.body == {
        "import_id": import_id,
        "status": "COMPLETED_WITH_ERRORS",
        "rows_total": 10_000,
        "rows_imported": 9_994,
        "rows_rejected": 6,
        "chunks_total": 10,
        "chunks_done": 10,
        "errors": [{"row": number, "message": message} for number, (_, message) in BAD_ROWS.items()],
    }
    assert report_rows(report_url) == [
        {"row": "7", "product_id": "bad/id", "quantity": "1", "price": "1.00", "error": BAD_ROWS[7][1]},
        {"row": "1500", "product_id": "p-1500", "quantity": "-1", "price": "1.00", "error": BAD_ROWS[1500][1]},
        {"row": "2001", "product_id": "p-2001", "quantity": "5", "price": "1.234", "error": BAD_ROWS[2001][1]},
        {"row": "4000", "product_id": "p-4000", "quantity": "5", "price": "", "error": BAD_ROWS[4000][1]},
        {"row": "9999", "product_id": "p-9999", "quantity": "1000000001", "price": "1", "error": BAD_ROWS[9999][1]},
        {"row": "10000", "product_id": "p-10000", "quantity": "1", "price": "1000000.01", "error": BAD_ROWS[10000][1]},
    ]
    stock = {item["product_id"]: item for item in table_items(stack, "InventoryTable")}
    assert len(stock) == 9_994
    assert stock["p-8"] == {"product_id": "p-8", "quantity": 8, "price": 1.25}
    assert stock["p-1499"] == {"product_id": "p-1499", "quantity": 49, "price": 1.25}
    assert not {"bad/id", "p-1500", "p-2001", "p-4000", "p-9999", "p-10000"} & set(stock)
    arn = import_arn(stack, import_id)
    path = states_entered(stack, arn)
    assert path[:3] == [*PREPARED, "ImportChunks"]
    assert path[-3:] == FINISHED
    assert Counter(path) == imported_path(10)
    assert chunk_paths(stack) == [("ImportRows",)] * 10
    assert most_at_once(chunk_executions(stack)) == MAX_CONCURRENCY
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} COMPLETED_WITH_ERRORS"
    assert notification["MessageAttributes"]["status"]["Value"] == "COMPLETED_WITH_ERRORS"


def stock_of(stack) -> dict[str, tuple[int, float]]:
    return {
        item["product_id"]: (item["quantity"], float(item["price"])) for item in table_items(stack, "InventoryTable")
    }


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("product_id,quantity,price\n".encode("utf-16"), "the file is not UTF-8 (byte 0 cannot be decoded)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "the file is not UTF-8 (byte 0 cannot be decoded)"),
        (b"sku,qty,price\nwidget-1,1,1\n", "the header must be product_id,quantity,price (found sku,qty,price)"),
        (b"", "the file is empty: expected the header product_id,quantity,price"),
        (b'product_id,quantity,price\n"widget-1,1,1\n', "the file is not valid CSV (line 2: unexpected end of data)"),
        (rows_file([f"p-{n},1,1" for n in range(100_001)]), "the file has more than 100000 rows"),
        (HEADER.encode().ljust(16 * 1024 * 1024 + 1, b"\n"), "the file is larger than 16 MiB"),  # left unread
    ],
    ids=["utf-16", "png", "other-header", "empty", "open-quote", "100001-rows", "over-16-mib"],
)
def test_a_file_that_is_not_the_import_csv_fails_with_its_reason_and_changes_nothing(
    back_office, local_lambda, stack, data, reason
):
    seed.stock(back_office, "widget-1", 5, price=2)
    topic = TopicCapture(stack, stack.ref("ImportsTopic"))

    import_id, description = run_import(back_office, local_lambda, stack, data)

    assert description["status"] == "SUCCEEDED"  # a staff mistake, handled: no alarm
    progress = back_office.get(f"/imports/{import_id}").body
    assert progress == {
        "import_id": import_id,
        "status": "FAILED",
        "reason": reason,
        "rows_total": 0,
        "rows_imported": 0,
        "rows_rejected": 0,
        "chunks_total": 0,
        "chunks_done": 0,
        "errors": [],
    }
    assert stock_of(stack) == {"widget-1": (5, 2.0)}
    assert states_entered(stack, import_arn(stack, import_id)) == [*PREPARED, "FileRejected", "NotifyStaff", "Done"]
    assert chunk_executions(stack) == []
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} FAILED"
    assert json.loads(notification["Message"])["reason"] == reason


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
    assert states_entered(stack, import_arn(stack, import_id)) == [*PREPARED, "FileRejected", "NotifyStaff", "Done"]
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
    path = states_entered(stack, import_arn(stack, import_id))
    assert path == ["PrepareImport", "MarkFailed", "NotifyFailure", "ImportFailed"]
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} FAILED"


def test_a_header_alone_completes_with_no_rows(back_office, local_lambda, stack):
    import_id, _ = run_import(back_office, local_lambda, stack, HEADER.encode())

    progress = back_office.get(f"/imports/{import_id}").body
    assert (progress["status"], progress["rows_total"], progress["chunks_total"]) == ("COMPLETED", 0, 0)
    assert "report_url" not in progress
    assert states_entered(stack, import_arn(stack, import_id)) == [*PREPARED, "ImportChunks", *FINISHED]


def test_the_last_row_of_a_product_wins_across_chunks_and_a_byte_order_mark_is_read(back_office, local_lambda, stack):
    seed.stock(back_office, "kept", 3, price=1)
    rows = [f"p-{n},{n},1" for n in range(1, 2_501)]
    rows[4] = "twice,1,1.50"  # row 5, chunk 0
    rows[1_499] = "twice,2.0,2.50"  # row 1500, chunk 1: wins (2.0 is the whole number 2, as in JSON)
    rows[2_099] = "kept,7,7"  # row 2100: not the last row of "kept", so not written
    rows[2_199] = "kept,8,cheap"  # row 2200, the last row of "kept", rejected: "kept" keeps its stock
    data = b"\xef\xbb\xbf" + rows_file(rows)

    import_id, _ = run_import(back_office, local_lambda, stack, data)

    progress = back_office.get(f"/imports/{import_id}").body
    assert (progress["status"], progress["rows_imported"], progress["chunks_total"]) == (
        "COMPLETED_WITH_ERRORS",
        2_499,
        3,
    )
    assert progress["errors"] == [{"row": 2_200, "message": "price: must be a number from 0, with at most 2 decimals"}]
    stock = stock_of(stack)
    assert stock["twice"] == (2, 2.5)
    assert stock["kept"] == (3, 1.0)
    assert len(stock) == 2_500 - 4 + 2


def test_a_duplicate_object_created_event_starts_nothing(back_office, local_lambda, stack):
    uploads = BusCapture(stack, "default", {"source": ["aws.s3"], "detail-type": ["Object Created"]})
    created = open_import(back_office)
    upload(created, rows_file(["widget-1,3,1"]))
    [event] = uploads.events()
    local_lambda.settle()
    wait_for_execution(stack, import_arn(stack, created["import_id"]))
    starter = stack.get_att("StartImportFunction", "Arn")

    again = local_lambda.invoke(starter, event)
    upload(created, rows_file(["widget-1,9,1"]))  # the same URL used again: a second Object Created
    local_lambda.settle()

    assert again == {"import_id": created["import_id"], "started": False}
    sfn = stack.client("stepfunctions")
    assert len(sfn.list_executions(stateMachineArn=stack.ref("ImportWorkflow"))["executions"]) == 1
    assert stock_of(stack) == {"widget-1": (3, 1.0)}
    assert back_office.get(f"/imports/{created['import_id']}").body["rows_imported"] == 1


def test_an_object_named_like_an_upload_of_an_import_never_opened_starts_nothing(local_lambda, stack):
    """The sample event (events/eventbridge_import_uploaded.json): an object under uploads/ whose
    name is an import id that no POST /imports made."""
    event = json.loads((PROJECT_ROOT / "events" / "eventbridge_import_uploaded.json").read_text())
    import_id = event["detail"]["object"]["key"].removeprefix("uploads/").removesuffix(".csv")

    answer = local_lambda.invoke(stack.get_att("StartImportFunction", "Arn"), event)

    assert answer == {"import_id": import_id, "started": False}
    sfn = stack.client("stepfunctions")
    assert sfn.list_executions(stateMachineArn=stack.ref("ImportWorkflow"))["executions"] == []


def test_the_upload_of_an_import_waiting_for_its_file_starts_its_workflow_and_says_so(back_office, local_lambda, stack):
    created = open_import(back_office)
    event = json.loads((PROJECT_ROOT / "events" / "eventbridge_import_uploaded.json").read_text())
    key = f"uploads/{created['import_id']}.csv"
    event["detail"]["object"]["key"] = key
    starter = stack.get_att("StartImportFunction", "Arn")

    answer = local_lambda.invoke(starter, event)

    assert answer == {"import_id": created["import_id"], "started": True}
    [execution] = stack.client("stepfunctions").list_executions(stateMachineArn=stack.ref("ImportWorkflow"))[
        "executions"
    ]
    described = stack.client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"]) == {"import_id": created["import_id"], "key": key}


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
    assert len(stock_of(stack)) == 3_000
    assert list(backoff) == [2.0]  # the chunk workflow's retry of ImportRows, once
    failed_tasks = [
        event
        for execution in chunk_executions(stack)
        for event in history(stack, execution["executionArn"])
        if event["type"] == "TaskFailed"
    ]
    assert len(failed_tasks) == 1
    assert "ChunkFailed" not in states_entered(stack, import_arn(stack, import_id))


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
    path = states_entered(stack, import_arn(stack, import_id))
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


def test_progress_is_visible_while_the_import_runs(back_office, local_lambda, stack, monkeypatch):
    rows = [f"p-{n},{n},1" for n in range(1, 3_001)]
    release = threading.Event()
    original = StepFunctionsParserBackend.start_execution

    def held(backend, state_machine_arn, name=None, *args, **kwargs):  # the last chunk starts when released
        if name and name.endswith("-2-0"):
            assert release.wait(60), "the test never released the chunk"
        return original(backend, state_machine_arn, name, *args, **kwargs)

    monkeypatch.setattr(StepFunctionsParserBackend, "start_execution", held)
    created = open_import(back_office)
    upload(created, rows_file(rows))
    local_lambda.settle()

    def two_chunks_done():
        body = back_office.get(f"/imports/{created['import_id']}").body
        return body if body["chunks_done"] == 2 else None

    try:
        midway = settle_until(local_lambda, two_chunks_done, timeout=60)
    finally:
        release.set()
    description = wait_for_execution(stack, import_arn(stack, created["import_id"]), timeout=60)

    assert description["status"] == "SUCCEEDED"
    assert {key: midway[key] for key in ("status", "rows_total", "rows_imported", "chunks_total")} == {
        "status": "RUNNING",
        "rows_total": 3_000,
        "rows_imported": 2_000,
        "chunks_total": 3,
    }
    assert back_office.get(f"/imports/{created['import_id']}").body["status"] == "COMPLETED"


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
    assert states_entered(stack, import_arn(stack, import_id))[-4:] == [
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


def test_an_unknown_import_is_404(back_office):
    response = back_office.get("/imports/no-such-import")

    assert (response.status, response.body) == (404, {"message": "import no-such-import not found"})


def test_the_upload_url_takes_only_a_csv_and_points_at_the_imports_bucket(back_office, stack, capsys):
    created = open_import(back_office)

    assert created["status"] == "WAITING_FOR_FILE"
    assert f"/uploads/{created['import_id']}.csv?" in created["upload_url"]
    assert stack.ref("ImportsBucket") in created["upload_url"]
    query = parse_qs(urlparse(created["upload_url"]).query)
    assert "content-type" in query["X-Amz-SignedHeaders"][0].split(";")
    assert query["X-Amz-Expires"] == ["900"]  # routers/imports.py's LINK_EXPIRY_SECONDS, as expires_at says
    # Who opened it, kept with the import (never shown: staff see every import).
    [stored] = table_items(stack, "ImportsTable")
    assert stored["created_by"] == back_office.claims["sub"]
    # The count that the dashboard's Imports widget plots, in CloudWatch's embedded metric format.
    assert embedded_metrics(capsys.readouterr().out)["ImportOpened"] == ("ServerlessOrders", "Count", [1.0])
