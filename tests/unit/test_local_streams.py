"""The local stack's DynamoDB stream reader (moto): GetRecords' records shaped as Lambda receives
them, the event source mapping's filter criteria, and a failed batch read again for make redrive."""

import json

import pytest
from botocore.exceptions import ClientError

from local_stack.lambda_runtime.streams import StreamReader, records_between

INSERTS_ONLY = [{"Pattern": json.dumps({"eventName": ["INSERT"]})}]


@pytest.fixture
def table(aws):
    """A table with a stream of new and old images, and its stream's ARN."""
    dynamodb = aws.client("dynamodb")
    description = dynamodb.create_table(
        TableName="things",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return dynamodb, description["TableDescription"]["LatestStreamArn"]


def raw_records(streams, stream_arn):
    """Every record of the stream, as GetRecords answers it."""
    [shard] = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    iterator = streams.get_shard_iterator(
        StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    return streams.get_records(ShardIterator=iterator)["Records"]


def test_a_record_is_shaped_as_lambda_receives_it_and_filtered_as_the_mapping_says(aws, table):
    dynamodb, stream_arn = table
    streams = aws.client("dynamodbstreams")
    dynamodb.put_item(TableName="things", Item={"id": {"S": "a"}, "n": {"N": "1"}})
    dynamodb.put_item(TableName="things", Item={"id": {"S": "a"}, "n": {"N": "2"}})
    reader = StreamReader(streams, stream_arn, INSERTS_ONLY)
    inserted, modified = raw_records(streams, stream_arn)

    shaped = [reader.as_lambda_record(record) for record in (inserted, modified)]

    assert [record["eventName"] for record in shaped] == ["INSERT", "MODIFY"]
    assert shaped[0] == {
        "eventID": inserted["eventID"],
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": shaped[0]["dynamodb"],
        "eventSourceARN": stream_arn,
    }
    assert shaped[0]["dynamodb"]["NewImage"] == {"id": {"S": "a"}, "n": {"N": "1"}}
    created = inserted["dynamodb"]["ApproximateCreationDateTime"]  # boto3's datetime; Lambda's is epoch seconds
    assert shaped[0]["dynamodb"]["ApproximateCreationDateTime"] == created.timestamp()
    assert [reader.passes(record) for record in shaped] == [True, False]
    assert all(StreamReader(streams, stream_arn).passes(record) for record in shaped)  # no filters: every one
    assert reader.read() == [shaped[0]]


def test_a_batch_is_read_again_between_its_sequence_numbers_with_the_filters(aws, table):
    dynamodb, stream_arn = table
    streams = aws.client("dynamodbstreams")
    for n in range(4):
        dynamodb.put_item(TableName="things", Item={"id": {"S": f"t-{n % 2}"}, "n": {"N": str(n)}})
    records = raw_records(streams, stream_arn)
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    reader = StreamReader(streams, stream_arn)

    batch = records_between(streams, stream_arn, numbers[1], numbers[2])
    inserts = records_between(streams, stream_arn, numbers[0], numbers[3], INSERTS_ONLY)

    assert batch == [reader.as_lambda_record(record) for record in records[1:3]]
    assert [record["dynamodb"]["Keys"]["id"]["S"] for record in inserts] == ["t-0", "t-1"]
    assert all(record["eventName"] == "INSERT" for record in inserts)


def test_a_batch_longer_than_a_page_of_get_records_is_read_to_its_end(aws, table):
    dynamodb, stream_arn = table
    streams = aws.client("dynamodbstreams")
    for n in range(130):  # GetRecords answers at most 100 records a call
        dynamodb.put_item(TableName="things", Item={"id": {"S": f"t-{n}"}})
    numbers = [record["dynamodb"]["SequenceNumber"] for record in raw_records(streams, stream_arn)]

    batch = records_between(streams, stream_arn, numbers[0], numbers[-1])

    assert len(numbers) == 130
    assert [record["dynamodb"]["SequenceNumber"] for record in batch] == numbers


class SplitStream:
    """The stream's client after a shard split: the closed parent shard is listed first, and does not
    hold the sequence numbers asked for (moto has one shard, and fails its assert on any other)."""

    PARENT = "shardId-00000001000000000000-00000000"

    def __init__(self, streams):
        self._streams = streams

    def __getattr__(self, name):
        return getattr(self._streams, name)

    def describe_stream(self, **kwargs):
        description = self._streams.describe_stream(**kwargs)
        description["StreamDescription"]["Shards"].insert(0, {"ShardId": self.PARENT})
        return description

    def get_shard_iterator(self, **kwargs):
        if kwargs["ShardId"] == self.PARENT:
            error = {"Code": "ValidationException", "Message": "Invalid SequenceNumber for this shard"}
            raise ClientError({"Error": error}, "GetShardIterator")
        return self._streams.get_shard_iterator(**kwargs)


def test_a_batch_is_found_in_the_shard_that_holds_it_after_a_split(aws, table):
    dynamodb, stream_arn = table
    streams = aws.client("dynamodbstreams")
    for n in range(3):
        dynamodb.put_item(TableName="things", Item={"id": {"S": f"t-{n}"}})
    records = raw_records(streams, stream_arn)
    numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    reader = StreamReader(streams, stream_arn)

    batch = records_between(SplitStream(streams), stream_arn, numbers[1], numbers[2])

    assert batch == [reader.as_lambda_record(record) for record in records[1:]]
