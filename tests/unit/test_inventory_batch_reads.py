"""The workflow's read of stock and prices: one BatchGetItem for the order's products, and the keys
that DynamoDB holds back (UnprocessedKeys, under throttling; moto never does it by itself) asked
again, never dropped: a valid order is never rejected as unknown products."""

from decimal import Decimal

import pytest
from moto.dynamodb.responses import DynamoHandler

from support import seed
from support.aws import table_items


@pytest.fixture
def reads_sent(monkeypatch):
    """Each BatchGetItem request's product ids; DynamoDB's first answer reads only the first key
    and holds the others back as UnprocessedKeys, in the shape of the request."""
    sent: list[list[str]] = []
    original = DynamoHandler.batch_get_item

    def batch_get_item(handler):
        [(table, request)] = handler.body["RequestItems"].items()
        sent.append([key["product_id"]["S"] for key in request["Keys"]])
        if len(sent) > 1:
            return original(handler)
        handler.body = {"RequestItems": {table: {**request, "Keys": request["Keys"][:1]}}}
        answer = original(handler)
        answer.result["UnprocessedKeys"] = {table: {**request, "Keys": request["Keys"][1:]}}
        return answer

    monkeypatch.setattr(DynamoHandler, "batch_get_item", batch_get_item)
    return sent


def test_keys_held_back_by_the_first_answer_are_asked_again_and_every_line_is_priced(
    back_office, storefront, stack, function, reads_sent
):
    prices = {"widget-1": 19.99, "widget-2": 5.5, "gadget": 40.0}
    for product_id, price in prices.items():
        seed.stock(back_office, product_id, 10, price=price)
    order_id = seed.order(storefront, {"widget-1": 2, "widget-2": 1, "gadget": 3})
    stack.client("dynamodb").update_item(  # as ProcessOrderFunction leaves it for the workflow
        TableName=stack.ref("OrdersTable"),
        Key={"order_id": {"S": order_id}},
        UpdateExpression="SET #status = :processing",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues={":processing": {"S": "PROCESSING"}},
    )

    validated = function("ValidateOrderFunction").invoke({"order_id": order_id})

    assert reads_sent == [["widget-1", "widget-2", "gadget"], ["widget-2", "gadget"]]
    assert validated["items"] == [
        {"product_id": "widget-1", "quantity": 2, "price": 19.99},
        {"product_id": "widget-2", "quantity": 1, "price": 5.5},
        {"product_id": "gadget", "quantity": 3, "price": 40.0},
    ]
    assert validated["total"] == 165.48
    [stored] = table_items(stack, "OrdersTable")
    assert stored["total"] == Decimal("165.48")
