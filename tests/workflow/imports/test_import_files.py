"""Bulk imports in process, what the file holds: POST /imports through the back office, the file PUT
to its presigned URL, S3's Object Created on the default bus, the starter, the real
statemachine/import_workflow.asl.json fanning out to statemachine/import_chunk_workflow.asl.json
(moto, with the local adapter's nested executions), the real task handlers. Good rows imported, bad
rows reported, a file that is not the import CSV refused whole: each test checks what staff see
(progress, report, SNS), what changed in the inventory, and the exact states entered."""

from __future__ import annotations

import json
from collections import Counter
from urllib.parse import parse_qs, urlparse

import pytest

from support import seed
from support.aws import TopicCapture, table_items
from support.imports import (
    FINISHED,
    HEADER,
    MAX_CONCURRENCY,
    PREPARED,
    chunk_executions,
    chunk_paths,
    import_path,
    imported_path,
    report_rows,
    report_text,
    rows_file,
    run_import,
    stock_of,
)
from support.workflow import most_at_once

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
    path = import_path(stack, import_id)
    assert path[:3] == [*PREPARED, "ImportChunks"]
    assert path[-3:] == FINISHED
    assert Counter(path) == imported_path(10)
    assert chunk_paths(stack) == [("ImportRows",)] * 10
    assert most_at_once(chunk_executions(stack)) == MAX_CONCURRENCY
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} COMPLETED_WITH_ERRORS"
    assert notification["MessageAttributes"]["status"]["Value"] == "COMPLETED_WITH_ERRORS"


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
    assert import_path(stack, import_id) == [*PREPARED, "FileRejected", "NotifyStaff", "Done"]
    assert chunk_executions(stack) == []
    [notification] = topic.notifications()
    assert notification["Subject"] == f"Import {import_id} FAILED"
    assert json.loads(notification["Message"])["reason"] == reason


def test_a_header_alone_completes_with_no_rows(back_office, local_lambda, stack):
    topic = TopicCapture(stack, stack.ref("ImportsTopic"))

    import_id, _ = run_import(back_office, local_lambda, stack, HEADER.encode())

    progress = back_office.get(f"/imports/{import_id}").body
    assert (progress["status"], progress["rows_total"], progress["chunks_total"]) == ("COMPLETED", 0, 0)
    assert "report_url" not in progress
    assert import_path(stack, import_id) == [*PREPARED, "ImportChunks", *FINISHED]
    # Staff are told the counts, and of no report: there is none.
    [notification] = topic.notifications()
    assert json.loads(notification["Message"]) == {
        "import_id": import_id,
        "status": "COMPLETED",
        "rows_total": 0,
        "rows_imported": 0,
        "rows_rejected": 0,
        "chunks_total": 0,
        "chunks_done": 0,
    }


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
    # The report is a CSV of the upload's own shape: a header, then one LF-ended line per rejected row.
    assert report_text(progress["report_url"]) == (
        "row,product_id,quantity,price,error\n"
        '2200,kept,8,cheap,"price: must be a number from 0, with at most 2 decimals"\n'
    )
    stock = stock_of(stack)
    assert stock["twice"] == (2, 2.5)
    assert stock["kept"] == (3, 1.0)
    assert len(stock) == 2_500 - 4 + 2
