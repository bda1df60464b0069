"""ProcessOrderFunction and NotifyFunction, invoked as EventBridge invokes them: asynchronously,
through the OrderCreated rule, with the template's retries and dead-letter destinations."""

import copy
import json

import pytest
from moto.sns.models import SNSBackend
from moto.stepfunctions.responses import StepFunctionResponse

from support import seed
from support.aws import ServerFaultError, TopicCapture, drain_queue, failing_backend_call
from support.samples import load_event
from support.workflow import execution_arn, wait_for_execution


@pytest.fixture
def order(back_office, storefront):
    seed.stock(back_office, "widget-1", 5)
    order_id = seed.order(storefront, {"widget-1": 2})
    return storefront.get(f"/orders/{order_id}").body


def order_created(order):
    """The sample EventBridge event of events/, carrying this order."""
    event = load_event("eventbridge_order_created.json")
    event["detail"] = copy.deepcopy(order)
    return event


def put_on_bus(stack, event):
    entry = {
        "EventBusName": stack.ref("OrdersBus"),
        "Source": event["source"],
        "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]),
    }
    assert stack.client("events").put_events(Entries=[entry])["FailedEntryCount"] == 0


def executions(stack):
    sfn = stack.client("stepfunctions")
    return sfn.list_executions(stateMachineArn=stack.ref("OrderWorkflow"))["executions"]


def test_order_created_on_the_bus_marks_the_order_processing_and_starts_its_workflow(
    storefront, stack, local_lambda, order
):
    put_on_bus(stack, order_created(order))
    local_lambda.run_pending()

    assert [execution["name"] for execution in executions(stack)] == [order["order_id"]]
    assert storefront.get(f"/orders/{order['order_id']}").body["status"] in ("PROCESSING", "CONFIRMED")
    wait_for_execution(stack, execution_arn(stack, order["order_id"]))


def test_a_second_delivery_starts_nothing_and_is_not_an_error(stack, function, order):
    process_order = function("ProcessOrderFunction")

    first = process_order.invoke(order_created(order))
    second = process_order.invoke(order_created(order))

    assert first == {"order_id": order["order_id"], "started": True}
    # While the first execution runs, StartExecution with the same name and input answers with it
    # (as AWS does); once it has ended, `started` is False (tests/workflow). Either way: one execution.
    assert second["order_id"] == order["order_id"]
    assert len(executions(stack)) == 1
    wait_for_execution(stack, execution_arn(stack, order["order_id"]))


def test_an_order_past_pending_is_not_started_again(storefront, stack, function, order):
    stack.client("dynamodb").update_item(
        TableName=stack.ref("OrdersTable"),
        Key={"order_id": {"S": order["order_id"]}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "REJECTED"}},
    )

    result = function("ProcessOrderFunction").invoke(order_created(order))

    assert result["started"] is False
    assert executions(stack) == []
    assert storefront.get(f"/orders/{order['order_id']}").body["status"] == "REJECTED"


def test_a_failing_process_order_ends_in_its_dlq_and_on_failure_destination_with_the_event(
    stack, local_lambda, order, monkeypatch
):
    event = order_created(order)
    always = lambda *args, **kwargs: True  # noqa: E731
    with failing_backend_call(monkeypatch, StepFunctionResponse, "start_execution", always, ServerFaultError()):
        put_on_bus(stack, event)
        local_lambda.run_pending()

    [dead_letter] = drain_queue(stack, stack.ref("ProcessOrderDLQ"))
    assert dead_letter["Body"]["detail"] == event["detail"]
    assert dead_letter["MessageAttributes"]["ErrorMessage"]["StringValue"]
    [failure] = drain_queue(stack, stack.ref("AsyncFailuresQueue"))
    record = failure["Body"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3  # the first try and MaximumRetryAttempts 2
    assert record["requestContext"]["functionArn"].startswith(stack.get_att("ProcessOrderFunction", "Arn"))
    assert record["requestPayload"]["detail"] == event["detail"]
    assert "InternalServerError" in record["responsePayload"]["errorMessage"]


def test_notify_sends_one_order_received_notification_even_when_delivered_twice(stack, local_lambda, order):
    received = TopicCapture(stack, stack.ref("OrderReceivedTopic"))

    put_on_bus(stack, order_created(order))
    put_on_bus(stack, order_created(order))
    local_lambda.run_pending()

    [notification] = received.notifications()
    assert notification["Subject"] == "Order received"
    assert json.loads(notification["Message"])["order_id"] == order["order_id"]
    assert notification["MessageAttributes"]["event_type"]["Value"] == "ORDER_RECEIVED"


def test_notify_answers_what_it_did_and_a_repeated_event_gets_the_same_answer_without_a_second_notification(
    stack, local_lambda, order
):
    """What `sam local invoke NotifyFunction` shows; a repeat is answered from the idempotency record."""
    received = TopicCapture(stack, stack.ref("OrderReceivedTopic"))
    answer = {"order_id": order["order_id"], "notified": True}

    assert local_lambda.invoke("NotifyFunction", order_created(order)) == answer
    assert local_lambda.invoke("NotifyFunction", order_created(order)) == answer
    assert len(received.notifications()) == 1


def test_a_failing_notify_ends_in_its_dlq_and_on_failure_destination(stack, function, local_lambda, order, monkeypatch):
    always = lambda *args, **kwargs: True  # noqa: E731
    with failing_backend_call(monkeypatch, SNSBackend, "publish", always, ServerFaultError()):
        local_lambda.invoke_async(stack.ref("NotifyFunction"), order_created(order))
        local_lambda.run_pending()

    [dead_letter] = drain_queue(stack, stack.ref("NotifyDLQ"))
    assert dead_letter["Body"]["detail"]["order_id"] == order["order_id"]
    [failure] = drain_queue(stack, stack.ref("AsyncFailuresQueue"))
    assert failure["Body"]["requestPayload"]["detail"]["order_id"] == order["order_id"]
