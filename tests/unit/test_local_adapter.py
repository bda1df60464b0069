"""Gaps of moto's DynamoDB that the local adapter fills: DynamoDB applies each conditional write
atomically, while moto checks and writes in two steps, so concurrent writers (make dev's worker
processes reach it on many threads) could both pass one condition: with the adapter, they take
turns; and a read sees a write whole, never the half that moto has applied. And a cancelled
transaction must leave the table's stream as it was, and still read. And a task failed through
SendTaskFailure keeps the cause that moto's handler drops. And a transaction's ClientRequestToken,
which moto ignores, is honoured as DynamoDB honours it for ten minutes. And moto's dump of its resources never
reaches for Docker."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from unittest.mock import patch

import pytest
import requests
from botocore.exceptions import ClientError
from moto.dynamodb.parsing.executors import SetExecutor

from local_stack.lambda_runtime.streams import StreamReader
from local_stack.moto_patches.dynamodb import CLIENT_REQUEST_TOKENS
from support import seed
from support.workflow import FakeClock, history, wait_for_execution


def test_concurrent_conditional_decrements_never_take_more_than_the_stock(back_office, stack, local_lambda):
    seed.stock(back_office, "widget-1", 5)
    dynamodb = stack.client("dynamodb")

    def take_one(n):
        try:
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": stack.ref("InventoryTable"),
                            "Key": {"product_id": {"S": "widget-1"}},
                            "UpdateExpression": "SET quantity = quantity - :one",
                            "ConditionExpression": "quantity >= :one",
                            "ExpressionAttributeValues": {":one": {"N": "1"}},
                        }
                    }
                ]
            )
        except ClientError as error:
            return error.response["Error"]["Code"]
        return "taken"

    with ThreadPoolExecutor(max_workers=25) as pool:
        outcomes = list(pool.map(take_one, range(50)))

    assert outcomes.count("taken") == 5
    assert outcomes.count("TransactionCanceledException") == 45
    assert seed.quantity(back_office, "widget-1") == 0


def test_a_read_during_an_update_sees_the_item_before_or_after_it_never_half_updated(stack, local_lambda):
    """moto sets an update's attributes one by one on the stored item: here a read is made on another
    thread right after the first one is set (an import marked ended, its report not yet named)."""
    dynamodb, imports = stack.client("dynamodb"), stack.ref("ImportsTable")
    key = {"import_id": {"S": "i-1"}}
    dynamodb.put_item(TableName=imports, Item={**key, "status": {"S": "RUNNING"}})
    seen = []
    reader = threading.Thread(target=lambda: seen.append(dynamodb.get_item(TableName=imports, Key=key)["Item"]))
    set_one = SetExecutor.execute

    def set_then_read(executor, item):
        set_one(executor, item)
        if not reader.is_alive() and not seen:
            reader.start()
            reader.join(0.5)  # long enough for an unguarded read to answer

    with patch.object(SetExecutor, "execute", set_then_read):
        dynamodb.update_item(
            TableName=imports,
            Key=key,
            UpdateExpression="SET #status = :ended, report_key = :report",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":ended": {"S": "COMPLETED_WITH_ERRORS"}, ":report": {"S": "reports/i-1.csv"}},
        )
    reader.join(10)

    assert seen == [{**key, "status": {"S": "COMPLETED_WITH_ERRORS"}, "report_key": {"S": "reports/i-1.csv"}}]


def test_a_cancelled_transaction_leaves_the_stream_as_it_was_and_still_read(stack, local_lambda):
    """moto rolls a transaction back by swapping in copies of its tables, whose stream the readers
    never see: the adapter keeps the tables, so later writes are still published, and the writes
    of the cancelled transaction never are."""
    dynamodb, orders = stack.client("dynamodb"), stack.ref("OrdersTable")
    stream_arn = dynamodb.describe_table(TableName=orders)["Table"]["LatestStreamArn"]
    reader = StreamReader(stack.client("dynamodbstreams"), stream_arn)

    def published():
        return [(record["eventName"], record["dynamodb"]["Keys"]["order_id"]["S"]) for record in reader.read()]

    dynamodb.put_item(TableName=orders, Item={"order_id": {"S": "o-1"}, "status": {"S": "PROCESSING"}})
    assert published() == [("INSERT", "o-1")]
    update = {"TableName": orders, "Key": {"order_id": {"S": "o-1"}}, "UpdateExpression": "SET reserved = :yes",
              "ExpressionAttributeValues": {":yes": {"BOOL": True}}}  # fmt: skip
    refused = {
        "TableName": orders,
        "Key": {"order_id": {"S": "o-9"}},
        "ConditionExpression": "attribute_exists(order_id)",
    }
    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=[{"Update": update}, {"ConditionCheck": refused}])
    dynamodb.put_item(TableName=orders, Item={"order_id": {"S": "o-2"}, "status": {"S": "PROCESSING"}})

    assert published() == [("INSERT", "o-2")]
    assert "reserved" not in dynamodb.get_item(TableName=orders, Key={"order_id": {"S": "o-1"}})["Item"]


def test_a_task_failed_through_send_task_failure_keeps_its_cause(stack, local_lambda):
    sfn, sqs = stack.client("stepfunctions"), stack.client("sqs")
    queue = sqs.create_queue(QueueName="tokens")["QueueUrl"]
    waits = {
        "Type": "Task",
        "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
        "Parameters": {"QueueUrl": queue, "MessageBody": {"token.$": "$$.Task.Token"}},
        "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
        "End": True,
    }
    definition = {"StartAt": "Waits", "States": {"Waits": waits, "Caught": {"Type": "Pass", "End": True}}}
    machine = sfn.create_state_machine(
        name="waits", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/machine"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    token = wait_for_message(sqs, queue)["token"]

    sfn.send_task_failure(taskToken=token, error="OrderCancelled", cause="cancelled by its customer")

    ended = wait_for_execution(stack, execution)
    assert json.loads(ended["output"]) == {"error": {"Error": "OrderCancelled", "Cause": "cancelled by its customer"}}
    [failed] = [event for event in history(stack, execution) if event["type"] == "TaskFailed"]
    assert failed["taskFailedEventDetails"]["cause"] == "cancelled by its customer"


def wait_for_message(sqs, queue):
    for _ in range(50):
        if messages := sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get("Messages"):
            return json.loads(messages[0]["Body"])
        time.sleep(0.1)
    raise AssertionError("the task sent no token")


@pytest.fixture
def tokens_clock(monkeypatch, back_office):
    """The clock by which tokens expire, moved by the test; 5 of widget-1 in stock."""
    clock = FakeClock()
    monkeypatch.setattr(CLIENT_REQUEST_TOKENS, "clock", clock)
    seed.stock(back_office, "widget-1", 5)
    return clock


def take(stack, wanted, token="reserve-o-1"):
    """One transaction taking `wanted` widgets, with an idempotency token: its HTTP status."""
    update = {
        "TableName": stack.ref("InventoryTable"),
        "Key": {"product_id": {"S": "widget-1"}},
        "UpdateExpression": "SET quantity = quantity - :wanted",
        "ConditionExpression": "quantity >= :wanted",
        "ExpressionAttributeValues": {":wanted": {"N": str(wanted)}},
    }
    answer = stack.client("dynamodb").transact_write_items(TransactItems=[{"Update": update}], ClientRequestToken=token)
    return answer["ResponseMetadata"]["HTTPStatusCode"]


def test_a_token_sent_again_with_the_same_parameters_is_answered_as_before_and_not_applied_again(
    back_office, stack, local_lambda, tokens_clock
):
    assert take(stack, 2) == 200
    tokens_clock.advance(599)

    assert take(stack, 2) == 200  # a retry whose first answer was lost
    assert seed.quantity(back_office, "widget-1") == 3
    assert take(stack, 2, token="reserve-o-2") == 200  # another token is another transaction
    assert seed.quantity(back_office, "widget-1") == 1


def test_a_token_sent_again_with_other_parameters_is_refused_and_changes_nothing(
    back_office, stack, local_lambda, tokens_clock
):
    take(stack, 2)

    with pytest.raises(ClientError) as refused:
        take(stack, 1)

    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert seed.quantity(back_office, "widget-1") == 3


def test_a_token_is_forgotten_ten_minutes_after_its_transaction(back_office, stack, local_lambda, tokens_clock):
    take(stack, 2)
    tokens_clock.advance(599.5)
    take(stack, 2)
    assert seed.quantity(back_office, "widget-1") == 3  # still known: not applied again

    tokens_clock.advance(0.5)
    take(stack, 2)

    assert seed.quantity(back_office, "widget-1") == 1  # forgotten: a new transaction, known from now on
    with pytest.raises(ClientError, match="IdempotentParameterMismatch"):
        take(stack, 1)


def test_moto_lists_the_stacks_functions_on_a_machine_without_docker(stack, local_lambda, monkeypatch):
    """/moto-api/data.json (make dev serves it: where its emails are read) reads every attribute of
    every resource moto holds, and a Lambda function's `docker_client` connects to Docker: without a
    daemon the whole dump failed. Functions never run in Docker here, so none is asked for."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")  # a machine without Docker

    response = requests.get("http://motoapi.amazonaws.com/moto-api/data.json", timeout=10)  # moto's, in process

    assert response.status_code == 200
    listed = response.json()["awslambda"]["LambdaFunction"]
    assert {function["function_name"] for function in listed} == {spec.name for spec in stack.functions.values()}
