"""A gap of moto that the local adapter fills: DynamoDB applies each conditional write atomically;
moto checks and writes in two steps, so concurrent writers (make dev's worker processes reach it
on many threads) could both pass one condition. With the adapter, they take turns."""

from concurrent.futures import ThreadPoolExecutor

from botocore.exceptions import ClientError

from support import seed


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
