"""make redrive against the local stack in process: what the template says each dead-letter queue
holds, and a failure's events replayed from there once the fault is gone, so the order completes."""

import json

import pytest
import requests
from moto.events.models import EventsBackend
from moto.stepfunctions.responses import StepFunctionResponse

from support import seed
from support.aws import ServerFaultError, drain_queue, failing_backend_call
from support.workflow import process, wait_for_execution
from tools.redrive import DeadLetters, DeployedStack, dead_letter_queues, main, replay, summarize

CSV = {"Content-Type": "text/csv"}


def always(*args, **kwargs):
    return True


@pytest.fixture
def redrive(stack, aws):
    return DeployedStack(stack.template, aws)


def queue_of(sam_template, name):
    return next(letters for letters in dead_letter_queues(sam_template) if letters.queue == name)


def waiting(stack, logical_id):
    """The queue's messages, left on it (peeked with no visibility timeout)."""
    return (
        stack.client("sqs")
        .receive_message(QueueUrl=stack.ref(logical_id), MaxNumberOfMessages=10, VisibilityTimeout=0)
        .get("Messages", [])
    )


def test_every_dead_letter_queue_of_the_template_is_found_with_what_feeds_it(sam_template):
    assert {letters.queue: (letters.kind, letters.source) for letters in dead_letter_queues(sam_template)} == {
        "AnalyticsDLQ": ("queue", "AnalyticsQueue"),
        "ShippingDLQ": ("queue", "ShippingQueue"),
        "PublishOrderEventsDLQ": ("stream", "PublishOrderEventsFunction"),
        "ProcessOrderDLQ": ("function", "ProcessOrderFunction"),
        "NotifyDLQ": ("function", "NotifyFunction"),
        "ExecutionWatcherDLQ": ("function", "ExecutionWatcherFunction"),
        "StartImportDLQ": ("function", "StartImportFunction"),
        "AsyncFailuresQueue": ("on-failure", "the function each record names"),
        "OrderCreatedDeliveryDLQ": ("rule", "OrderCreatedRule"),
        "ExecutionEventsDeliveryDLQ": ("rule", "ExecutionWatcherFunctionExecutionEnded"),
        "ImportEventsDeliveryDLQ": ("rule", "ImportUploadedRule"),
        "ConfirmationDLQ": ("none", "a workflow step's record: read it, act by hand"),
    }


def test_an_order_whose_starter_failed_completes_once_its_events_are_replayed(
    storefront, back_office, stack, local_lambda, redrive, sam_template, monkeypatch
):
    seed.stock(back_office, "widget-1", 5)
    with failing_backend_call(monkeypatch, StepFunctionResponse, "start_execution", always, ServerFaultError()):
        order_id = seed.order(storefront, {"widget-1": 1})
        local_lambda.settle()
        dead_letters = queue_of(sam_template, "ProcessOrderDLQ")
        assert summarize(redrive, dead_letters).depth == 1
        assert summarize(redrive, queue_of(sam_template, "AsyncFailuresQueue")).depth == 1
        # Marked PROCESSING, no workflow: stuck until the event is replayed.
        assert storefront.get(f"/orders/{order_id}").body["status"] == "PROCESSING"

        dry = replay(redrive, dead_letters, dry_run=True)  # changes nothing
        assert [(one.action, one.done) for one in dry] == [
            ("invoke orders-local-ProcessOrderFunction:live asynchronously", False)
        ]
        assert len(waiting(stack, "ProcessOrderDLQ")) == 1

        # Replayed while the fault lasts: the event fails again and is back in the DLQ, not lost.
        [again] = replay(redrive, dead_letters)
        assert again.done
        local_lambda.settle()
        [back] = waiting(stack, "ProcessOrderDLQ")
        assert json.loads(back["Body"])["detail"]["order_id"] == order_id

    [replayed] = replay(redrive, dead_letters)
    assert replayed.done
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"
    assert storefront.get(f"/orders/{order_id}").body["status"] == "CONFIRMED"
    assert waiting(stack, "ProcessOrderDLQ") == []

    # The on-failure records of both failures: replaying them starts nothing new (one execution per order).
    records = replay(redrive, queue_of(sam_template, "AsyncFailuresQueue"))
    assert [one.done for one in records] == [True, True]
    local_lambda.settle()
    sfn = stack.client("stepfunctions")
    assert len(sfn.list_executions(stateMachineArn=stack.ref("OrderWorkflow"))["executions"]) == 1
    assert drain_queue(stack, stack.ref("ProcessOrderDLQ")) == []


def test_stream_records_that_failed_every_retry_are_published_again_from_their_pointer(
    storefront, back_office, stack, local_lambda, redrive, sam_template, monkeypatch
):
    seed.stock(back_office, "widget-1", 5)
    original = EventsBackend.put_events

    def refuse_everything(self, entries):
        return [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected by the test"} for _ in entries]

    monkeypatch.setattr(EventsBackend, "put_events", refuse_everything)
    order_id = seed.order(storefront, {"widget-1": 2})
    local_lambda.settle()
    pointers = queue_of(sam_template, "PublishOrderEventsDLQ")
    assert summarize(redrive, pointers).depth == 1
    assert storefront.get(f"/orders/{order_id}").body["status"] == "PENDING"
    monkeypatch.setattr(EventsBackend, "put_events", original)

    [replayed] = replay(redrive, pointers)

    assert replayed.done
    assert replayed.action.startswith("invoke PublishOrderEventsFunction with the 1 stream records ")
    assert process(local_lambda, stack, order_id)["status"] == "SUCCEEDED"
    assert storefront.get(f"/orders/{order_id}").body["status"] == "CONFIRMED"
    assert waiting(stack, "PublishOrderEventsDLQ") == []


def test_without_a_running_make_dev_or_a_stack_it_says_what_to_start(tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--outputs-file", str(tmp_path / "local-outputs.json"), "list"])

    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(
        f"make redrive: error: {tmp_path / 'local-outputs.json'} not found: start the local stack first (make dev),"
        " or give STACK=\n"
    )


def test_a_queue_fed_by_nothing_replayable_is_refused(redrive):
    with pytest.raises(ValueError, match="ConfirmationDLQ: nothing to replay it to"):
        replay(redrive, DeadLetters("ConfirmationDLQ", "none", "a workflow step's record: read it, act by hand"))


def test_an_upload_whose_starter_failed_is_imported_once_its_event_is_replayed(
    back_office, stack, local_lambda, redrive, sam_template, monkeypatch
):
    created = back_office.post("/imports").body
    with failing_backend_call(monkeypatch, StepFunctionResponse, "start_execution", always, ServerFaultError()):
        uploaded = requests.put(
            created["upload_url"], data=b"product_id,quantity,price\nwidget-9,4,2.50\n", headers=CSV, timeout=10
        )
        assert uploaded.status_code == 200
        local_lambda.settle()
        # Three tries (the first and Lambda's two retries), then the event and its record.
        [event] = waiting(stack, "StartImportDLQ")
        assert json.loads(event["Body"])["detail"]["object"]["key"] == f"uploads/{created['import_id']}.csv"
        [record] = waiting(stack, "AsyncFailuresQueue")
        assert json.loads(record["Body"])["requestContext"]["approximateInvokeCount"] == 3
        assert back_office.get(f"/imports/{created['import_id']}").body["status"] == "WAITING_FOR_FILE"

    [replayed] = replay(redrive, queue_of(sam_template, "StartImportDLQ"))
    assert replayed.done
    local_lambda.settle()
    execution = stack.ref("ImportWorkflow").replace(":stateMachine:", ":execution:") + f":{created['import_id']}"
    assert wait_for_execution(stack, execution, timeout=120)["status"] == "SUCCEEDED"
    assert back_office.get("/inventory/widget-9").body["quantity"] == 4
    assert waiting(stack, "StartImportDLQ") == []
