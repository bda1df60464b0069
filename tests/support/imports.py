"""Bulk imports driven as staff drive them (POST /imports, the file PUT to its presigned URL, the
upload event delivered), and what the import workflow's tests read back: progress, report, stock,
the chunks' executions."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

import requests

from local_stack.cloudformation.deploy import Stack
from local_stack.lambda_runtime.runtime import LocalLambda
from support.api import ApiClient
from support.aws import table_items
from support.workflow import described_executions, states_entered, wait_for_execution

MAX_CONCURRENCY = 2  # ImportMaxConcurrency of the template the tests deploy (tests/conftest.py)
PREPARED = ["PrepareImport", "IsReadable"]
FINISHED = ["FinishImport", "NotifyStaff", "Done"]
HEADER = "product_id,quantity,price\n"


def open_import(back_office: ApiClient) -> dict[str, Any]:
    response = back_office.post("/imports")
    assert response.status == 201, response
    return dict(response.body)


def upload(created: dict[str, Any], data: bytes) -> None:
    """What a client does with the answer of POST /imports."""
    response = requests.put(created["upload_url"], data=data, headers={"Content-Type": "text/csv"}, timeout=10)
    assert response.status_code == 200, response.text


def import_arn(stack: Stack, import_id: str) -> str:
    return str(stack.ref("ImportWorkflow")).replace(":stateMachine:", ":execution:") + f":{import_id}"


def import_path(stack: Stack, import_id: str) -> list[str]:
    """The states the import's execution entered, in order."""
    return states_entered(stack, import_arn(stack, import_id))


def run_import(
    back_office: ApiClient, local_lambda: LocalLambda, stack: Stack, data: bytes
) -> tuple[str, dict[str, Any]]:
    """Open an import, upload `data`, deliver the upload event, wait for the workflow; the import id
    and the execution's description."""
    created = open_import(back_office)
    upload(created, data)
    local_lambda.settle()
    description = wait_for_execution(stack, import_arn(stack, created["import_id"]), timeout=120)
    local_lambda.settle()
    return created["import_id"], description


def rows_file(rows: list[str]) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def report_text(url: str) -> str:
    """The rejected-rows report exactly as staff download it."""
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    return response.text


def report_rows(url: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(report_text(url))))


def stock_of(stack: Stack) -> dict[str, tuple[int, float]]:
    return {
        item["product_id"]: (item["quantity"], float(item["price"])) for item in table_items(stack, "InventoryTable")
    }


def chunk_executions(stack: Stack) -> list[dict[str, Any]]:
    return described_executions(stack.client("stepfunctions"), stack.ref("ImportChunkWorkflow"))


def chunk_paths(stack: Stack) -> list[tuple[str, ...]]:
    """The states entered by each chunk execution, sorted."""
    return sorted(tuple(states_entered(stack, execution["executionArn"])) for execution in chunk_executions(stack))


def imported_path(chunks: int) -> Counter[str]:
    """The states an import of `chunks` chunks enters, counted."""
    return Counter({**Counter(PREPARED), "ImportChunks": 1, "ImportChunk": chunks, "RecordProgress": chunks,
                    **Counter(FINISHED)})  # fmt: skip
