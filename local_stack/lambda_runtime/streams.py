"""DynamoDB stream records, read through the dynamodbstreams API and shaped as Lambda receives
them from an event source mapping (filter criteria applied)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from moto.events.models import EventPattern


@dataclass
class StreamReader:
    """Reads one table's stream from its start, remembering how far it got (one reader per consumer)."""

    client: Any
    stream_arn: str
    filters: list[dict[str, Any]] = field(default_factory=list)
    _iterators: dict[str, str] = field(default_factory=dict)

    def read(self, limit: int = 100) -> list[dict[str, Any]]:
        """The records written since the last read that pass the filters, oldest first."""
        shards = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        records: list[dict[str, Any]] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self.client.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            response = self.client.get_records(ShardIterator=self._iterators[shard_id], Limit=limit)
            self._iterators[shard_id] = response["NextShardIterator"]
            records.extend(self.as_lambda_record(record) for record in response["Records"])
        return [record for record in records if self.passes(record)]

    def as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """A record of GetRecords as Lambda receives it from the stream's event source mapping."""
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if isinstance(created, datetime):
            change["ApproximateCreationDateTime"] = created.timestamp()
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": "1.1",  # what Lambda delivers (moto's GetRecords says 1.0)
            "eventSource": "aws:dynamodb",
            "awsRegion": record["awsRegion"],
            "dynamodb": change,
            "eventSourceARN": self.stream_arn,
        }

    def passes(self, record: dict[str, Any]) -> bool:
        """Lambda's filter criteria use EventBridge's pattern syntax: moto's matcher applies it."""
        if not self.filters:
            return True
        return any(EventPattern.load(f["Pattern"]).matches_event(record) for f in self.filters)  # type: ignore[arg-type]


def records_between(
    client: Any, stream_arn: str, start: str, end: str, filters: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The records from sequence number `start` to `end` (the batch an on-failure record names), as
    Lambda received them: the stream is read again from `start` in the shard that holds it."""
    reader = StreamReader(client, stream_arn, filters or [])
    for shard in client.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        try:
            iterator = client.get_shard_iterator(
                StreamArn=stream_arn,
                ShardId=shard["ShardId"],
                ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=start,
            )["ShardIterator"]
        except client.exceptions.ClientError:
            continue  # not this shard's
        batch: list[dict[str, Any]] = []
        while iterator:
            response = client.get_records(ShardIterator=iterator, Limit=100)
            for record in response["Records"]:
                if int(record["dynamodb"]["SequenceNumber"]) > int(end):
                    return [r for r in batch if reader.passes(r)]
                batch.append(reader.as_lambda_record(record))
            if not response["Records"]:
                break
            iterator = response.get("NextShardIterator")
        return [r for r in batch if reader.passes(r)]
    return []


def lambda_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The event of a batch, as JSON carries it (a copy: the handler cannot change the reader's). Every
    value is JSON already (as_lambda_record makes the one date a number): another type fails here."""
    return {"Records": json.loads(json.dumps(records))}
