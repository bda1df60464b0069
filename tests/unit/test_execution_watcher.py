"""ExecutionWatcherFunction: an order whose execution ended outside the workflow's own paths (timed
out, failed, aborted) is ended by the watcher, invoked asynchronously by the status-change rule:
refunded, its stock released, FAILED with the cause; and a watcher that keeps failing leaves the
event in its dead-letter queue and on-failure destination."""

from aws_lambda_powertools.utilities import parameters
from moto.dynamodb.responses import DynamoHandler

from support import seed
from support.aws import ServerFaultError, drain_queue, failing_backend_call
from support.samples import load_event


def status_change(order_id, status):
    event = load_event("execution_status_change.json")
    event["detail"] |= {"name": order_id, "status": status}
    return event


def charged_order(back_office, stack, function, payments):
    """An order that its workflow had reserved and charged when the execution stopped."""
    seed.stock(back_office, "widget-1", 5, price=12.5)
    seed.processing_order(stack, "o-1", {"widget-1": 2}, total=25)
    function("UpdateInventoryFunction").invoke(
        {
            "order_id": "o-1",
            "items": [{"product_id": "widget-1", "quantity": 2}],
            "reserved_at": "2026-11-29T10:00:00.000Z",
        }
    )
    function("ChargePaymentFunction").invoke({"order_id": "o-1"})
    parameters.clear_caches()  # the watcher reads the API key itself, as on AWS
    return "o-1"


def test_a_timed_out_execution_leaves_its_order_refunded_released_and_failed(
    back_office, stack, function, local_lambda, payments
):
    order_id = charged_order(back_office, stack, function, payments)

    local_lambda.invoke_async(stack.ref("ExecutionWatcherFunction"), status_change(order_id, "TIMED_OUT"))
    local_lambda.run_pending()

    order = back_office.get(f"/orders/{order_id}").body
    assert (order["status"], order["reason"], order["payment_status"]) == (
        "FAILED",
        "EXECUTION_TIMED_OUT",
        "REFUNDED",
    )
    [charge] = payments.charges
    assert [refund["charge"] for refund in payments.refunds] == [charge["id"]]
    assert seed.quantity(back_office, "widget-1") == 5


def test_a_failing_watcher_ends_in_its_dlq_and_on_failure_destination(
    back_office, stack, function, local_lambda, payments, monkeypatch
):
    order_id = charged_order(back_office, stack, function, payments)
    event = status_change(order_id, "ABORTED")
    always = lambda *args, **kwargs: True  # noqa: E731
    with failing_backend_call(monkeypatch, DynamoHandler, "get_item", always, ServerFaultError()):
        local_lambda.invoke_async(stack.ref("ExecutionWatcherFunction"), event)
        local_lambda.run_pending()

    [dead_letter] = drain_queue(stack, stack.ref("ExecutionWatcherDLQ"))
    assert dead_letter["Body"]["detail"] == event["detail"]
    [failure] = drain_queue(stack, stack.ref("AsyncFailuresQueue"))
    assert failure["Body"]["requestContext"]["approximateInvokeCount"] == 3
    assert failure["Body"]["requestPayload"]["detail"]["name"] == order_id
    assert back_office.get(f"/orders/{order_id}").body["status"] == "PROCESSING"  # nothing half-done
    assert payments.refunds == []


def test_invoked_directly_it_answers_how_the_order_ended(back_office, stack, function, local_lambda, payments):
    """What `sam local invoke` prints (the sample's answer, events/execution_status_change.json)."""
    order_id = charged_order(back_office, stack, function, payments)

    answer = function("ExecutionWatcherFunction").invoke(status_change(order_id, "ABORTED"))

    assert answer == {"order_id": order_id, "status": "FAILED", "reason": "EXECUTION_ABORTED"}
