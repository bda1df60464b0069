"""DynamoDB items: Python values and models to DynamoDB JSON and back, and what a refused
conditional write says."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = Mapping[str, Any]


def to_item(values: BaseModel | Mapping[str, Any]) -> dict[str, AttributeValueTypeDef]:
    plain = values.model_dump(exclude_none=True) if isinstance(values, BaseModel) else values
    return {name: _serializer.serialize(value) for name, value in plain.items()}


def from_item(item: Item) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def is_condition_failure(error: ClientError) -> bool:
    return error.response["Error"]["Code"] == "ConditionalCheckFailedException"


def item_on_condition_failure(error: ClientError) -> Item | None:
    """The stored item that a conditional write returned with ReturnValuesOnConditionCheckFailure."""
    item: Item | None = error.response.get("Item")  # type: ignore[assignment]
    return item
