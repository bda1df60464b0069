"""Opening a bulk import and starting it: the presigned upload URL, the Object Created event that
starts the import workflow once (a repeated event, or an object no import waits for, starts nothing),
and the progress staff follow while it runs."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from local_stack.cloudformation.template import PROJECT_ROOT
from support.aws import BusCapture, embedded_metrics, table_items
from support.imports import import_arn, open_import, rows_file, stock_of, upload
from support.workflow import settle_until, wait_for_execution


def test_the_upload_url_takes_only_a_csv_and_points_at_the_imports_bucket(back_office, stack, capsys):
    opened = datetime.now(UTC).replace(microsecond=0)
    created = open_import(back_office)
    answered = datetime.now(UTC)

    assert created["status"] == "WAITING_FOR_FILE"
    # When the upload URL stops working: 900 s on, in UTC ("Z"), to the second.
    assert created["expires_at"].endswith("Z")
    expiry = timedelta(seconds=900)
    assert opened + expiry <= datetime.fromisoformat(created["expires_at"]) <= answered + expiry
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


def test_an_unknown_import_is_404(back_office):
    response = back_office.get("/imports/no-such-import")

    assert (response.status, response.body) == (404, {"message": "import no-such-import not found"})


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
