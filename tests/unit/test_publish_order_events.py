"""PublishOrderEventsFunction: the orders table's stream becomes OrderCreated events on the bus."""

import pytest
from moto.events.models import EventsBackend

from local_stack.lambda_runtime.streams import records_between
from support import seed
from support.aws import BusCapture, drain_queue, stream_event, stream_reader, table_items
from support.instances import log_records


@pytest.fixture
def bus(stack):
    return BusCapture(stack, stack.ref("OrdersBus"), {"source": ["orders.api"], "detail-type": ["OrderCreated"]})


@pytest.fixture
def orders_stream(stack):
    return stream_reader(stack, "OrdersTable", "PublishOrderEventsFunction")


@pytest.fixture
def publisher(function):
    return function("PublishOrderEventsFunction")


def place(storefront, quantity=1):
    """An order placed by the storefront's customer: its id and the customer's."""
    order_id = seed.order(storefront, {"widget-1": quantity})
    return order_id, storefront.claims["sub"]


def test_each_new_order_is_published_once_as_order_created(storefront, stack, bus, orders_stream, publisher):
    order_id, user_id = place(storefront, quantity=3)

    result = publisher.invoke(stream_event(orders_stream))

    assert result == {"batchItemFailures": []}
    [event] = bus.events()
    assert event["source"] == "orders.api"
    assert event["detail-type"] == "OrderCreated"
    [stored] = table_items(stack, "OrdersTable")
    assert event["detail"] == {  # the order as its customer sees it: nothing empty, nothing internal
        "order_id": order_id,
        "user_id": user_id,
        "items": [{"product_id": "widget-1", "quantity": 3}],
        "status": "PENDING",
        "created_at": stored["created_at"],
        "updated_at": stored["updated_at"],
    }


def test_updates_to_an_order_are_not_announced_again(storefront, stack, bus, orders_stream, publisher):
    order_id, _ = place(storefront)
    publisher.invoke(stream_event(orders_stream))
    bus.events()
    stack.client("dynamodb").update_item(
        TableName=stack.ref("OrdersTable"),
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "PROCESSING"}},
    )

    assert orders_stream.read() == []  # the event source mapping's filter drops MODIFY
    unfiltered = stream_reader(stack, "OrdersTable", "PublishOrderEventsFunction")
    unfiltered.filters = []
    modify_only = {"Records": [r for r in stream_event(unfiltered)["Records"] if r["eventName"] == "MODIFY"]}
    assert publisher.invoke(modify_only) == {"batchItemFailures": []}  # and the handler ignores it too
    assert bus.events() == []


def test_a_record_that_cannot_be_published_is_reported_alone_for_retry(
    storefront, stack, bus, orders_stream, publisher, monkeypatch
):
    first, _ = place(storefront)
    second, _ = place(storefront)
    event = stream_event(orders_stream)
    sequence_of = {
        r["dynamodb"]["NewImage"]["order_id"]["S"]: r["dynamodb"]["SequenceNumber"] for r in event["Records"]
    }

    original = EventsBackend.put_events

    def refuse_the_second_order(self, entries):
        # EventBridge answers 200 with a failed entry: the publisher must notice, not move on.
        if second in entries[0]["Detail"]:
            return [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected by the test"}]
        return original(self, entries)

    monkeypatch.setattr(EventsBackend, "put_events", refuse_the_second_order)
    with log_records(publisher) as logged:
        result = publisher.invoke(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": sequence_of[second]}]}
    assert [e["detail"]["order_id"] for e in bus.events()] == [first]
    [warning] = [record for record in logged if record.levelname == "WARNING"]
    assert (warning.getMessage(), warning.order_id, warning.error) == (
        "OrderCreated not published: the record is retried",
        second,
        "InternalFailure: injected by the test",
    )


def test_records_that_keep_failing_end_as_a_pointer_in_the_on_failure_queue_after_exactly_the_retries(
    storefront, stack, local_lambda, monkeypatch
):
    attempts: list[int] = []

    def refuse_everything(self, entries):
        attempts.append(len(entries))
        return [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected by the test"} for _ in entries]

    monkeypatch.setattr(EventsBackend, "put_events", refuse_everything)
    order_id, _ = place(storefront)
    on_failure = stack.ref("PublishOrderEventsDLQ")
    retries = stack.resolve(stack.template.properties("PublishOrderEventsFunctionOrderInserted"))[
        "MaximumRetryAttempts"
    ]

    # The first attempt and all but the last retry: the mapping still holds the record.
    for _ in range(retries):
        local_lambda.poll_sources()
    assert (len(attempts), drain_queue(stack, on_failure)) == (retries, [])

    # The last retry fails too: one pointer to the batch, and the stream moves on.
    local_lambda.poll_sources()
    [failure] = drain_queue(stack, on_failure)
    assert len(attempts) == retries + 1
    batch = failure["Body"]["DDBStreamBatchInfo"]
    assert batch["streamArn"] == stack.get_att("OrdersTable", "StreamArn")
    assert batch["batchSize"] == 1
    assert failure["Body"]["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert local_lambda.poll_sources() == 0
    assert (len(attempts), drain_queue(stack, on_failure)) == (retries + 1, [])
    streams = stack.client("dynamodbstreams")
    [record] = records_between(streams, batch["streamArn"], batch["startSequenceNumber"], batch["endSequenceNumber"])
    assert record["dynamodb"]["NewImage"]["order_id"] == {"S": order_id}
