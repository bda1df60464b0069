"""What each sample of events/ does to a fresh `make dev` (its demo data, local_stack/demo.py): one
sample at least per function of the template, with the answer it gets. `tests/e2e` invokes them
through the local stack's Lambda API; `make sam-local-check` through `sam local invoke` (Docker).
Listed in an order that works from a fresh start: each expectation holds after the ones before."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONFIRMED_ORDER = "1c53f3d5-4d0e-5b52-9c68-6bdc2f5623b9"  # the demo customer's demo-order-1
REJECTED_ORDER = "8490f89f-cc5e-5bcd-8792-c0b62af80106"  # demo-order-2: gizmo-3 is out of stock
AWAITING_ORDER = "dc13ba8d-dad2-5b2d-8e70-31c97d32c5dd"  # demo-order-3: above the approval threshold
UNKNOWN_IMPORT = "0f8fad5b-d9cb-469f-a165-70867728950e"  # no such import: the import samples refuse
NEW_ORDER = "2d631818-d353-5519-bba0-a93a7e61b453"  # storefront_create_order.json's Idempotency-Key


def load_event(name: str) -> Any:
    """A sample event of events/ (the ones `sam local invoke -e` uses), decoded."""
    return json.loads((EVENTS / name).read_text())


@dataclass(frozen=True)
class Sample:
    function: str
    event: str
    expected: dict[str, Any]  # a subset of the answer; an API answer's body is compared decoded

    def payload(self) -> bytes:
        return (EVENTS / self.event).read_bytes()

    @property
    def fails(self) -> bool:
        """The sample shows a step refusing (a function error whose type is expected)."""
        return "errorType" in self.expected

    def mismatch(self, answer: dict[str, Any]) -> str | None:
        """None when the answer has every expected value, otherwise what differs."""
        if isinstance(answer.get("body"), str) and answer["body"][:1] in "{[":
            answer = answer | {"body": json.loads(answer["body"])}
        return _mismatch(self.expected, answer, self.event)


def _mismatch(expected: Any, actual: Any, where: str) -> str | None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if key not in actual:
                return f"{where}: no {key!r} in {actual}"
            if problem := _mismatch(value, actual[key], f"{where}.{key}"):
                return problem
        return None
    return None if expected == actual else f"{where}: expected {expected!r}, got {actual!r}"


SAMPLES = (
    Sample(
        "CreateProfileFunction",
        "cognito_post_confirmation.json",
        {"triggerSource": "PostConfirmation_ConfirmSignUp", "response": {}},  # Cognito's event, given back
    ),
    Sample(
        "StorefrontFunction",
        "storefront_get_order.json",
        {"statusCode": 200, "body": {"order_id": CONFIRMED_ORDER, "status": "CONFIRMED", "total": 39.98}},
    ),
    Sample(
        "StorefrontFunction",
        "storefront_create_order.json",
        {"statusCode": 202, "body": {"order_id": NEW_ORDER, "status": "PENDING"}},
    ),
    Sample(
        "BackOfficeFunction",
        "back_office_put_stock.json",
        {"statusCode": 200, "body": {"product_id": "widget-1", "quantity": 5, "price": 19.99}},
    ),
    Sample(
        "BackOfficeFunction",
        "back_office_create_user.json",
        {"statusCode": 201, "body": {"email": "new.customer@example.com", "name": "New Customer"}},
    ),
    Sample("PublishOrderEventsFunction", "dynamodb_stream_order_inserted.json", {"batchItemFailures": []}),
    # The demo order went through already: a repeated OrderCreated starts and sends nothing new.
    Sample("ProcessOrderFunction", "eventbridge_order_created.json", {"order_id": CONFIRMED_ORDER, "started": False}),
    Sample("NotifyFunction", "eventbridge_order_created.json", {"order_id": CONFIRMED_ORDER, "notified": True}),
    # The demo order is no longer the workflow's: validating it again would re-price it, so the step
    # answers ENDED (a result, not an error), changing nothing.
    Sample("ValidateOrderFunction", "workflow_input.json", {"outcome": "ENDED", "total": None}),
    # The rejected demo order has ended: the step answers ENDED (a result, not an error), reserving
    # nothing. (The confirmed one's reservation, made moments ago under the same idempotency token,
    # would be refused: DynamoDB takes a token again only with the same parameters for ten minutes.)
    Sample(
        "UpdateInventoryFunction",
        "update_inventory_task.json",
        {"outcome": "ENDED", "message": f"order {REJECTED_ORDER} is no longer processed by the workflow"},
    ),
    # An order that ended stays as it ended: closing, or a watcher's event for it, changes nothing.
    Sample(
        "CloseOrderFunction",
        "close_order_task.json",
        {"order_id": REJECTED_ORDER, "status": "REJECTED", "reason": "OUT_OF_STOCK"},
    ),
    Sample(
        "ExecutionWatcherFunction",
        "execution_status_change.json",
        {"order_id": REJECTED_ORDER, "status": "REJECTED", "reason": "OUT_OF_STOCK"},
    ),
    Sample("CheckPaymentCircuitFunction", "payment_circuit_task.json", {"decision": "CALL"}),
    # The demo order is charged already: the charge is not repeated, its id is returned.
    Sample("ChargePaymentFunction", "charge_payment_task.json", {"outcome": "DONE"}),
    # The demo order is no longer the workflow's: the step answers its wait ENDED, changing nothing.
    Sample(
        "RequestApprovalFunction",
        "request_approval_task.json",
        {"order_id": CONFIRMED_ORDER, "awaiting_approval": False},
    ),
    Sample("AnalyticsFunction", "sqs_analytics_batch.json", {"batchItemFailures": []}),
    # The quote workflow's tasks: the body as API Gateway passes it on, then the products it read.
    Sample(
        "ValidateQuoteFunction",
        "validate_quote_task.json",
        {"valid": True, "items": [{"product_id": "widget-1", "quantity": 2}, {"product_id": "gizmo-3", "quantity": 1}]},
    ),
    Sample(
        "PriceQuoteFunction",
        "price_quote_task.json",
        {
            "statusCode": 200,
            "body": {
                "items": [
                    {
                        "product_id": "widget-1",
                        "quantity": 2,
                        "unit_price": 19.99,
                        "line_total": 39.98,
                        "available": True,
                    },
                    {"product_id": "no-such-product", "quantity": 1, "available": False},
                ],
                "total": 39.98,
                "approval_required": False,
            },
        },
    ),
    # The import workflows' steps, for an import that was never opened: each refuses, changing nothing.
    Sample("StartImportFunction", "eventbridge_import_uploaded.json", {"import_id": UNKNOWN_IMPORT, "started": False}),
    Sample("PrepareImportFunction", "prepare_import_task.json", {"errorType": "NoSuchKey"}),
    Sample("ImportChunkFunction", "import_chunk_task.json", {"errorType": "NoSuchKey"}),
    Sample("FinishImportFunction", "finish_import_task.json", {"errorType": "NoSuchKey"}),
)
