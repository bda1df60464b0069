"""DynamoDB update expressions, built in one place: the attributes to SET and the condition
(boto3's condition builders) become placeholders with their names and values beside them, so no
code writes an expression by hand or looks inside one to find which placeholders it uses."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from boto3.dynamodb.conditions import ConditionBase, ConditionExpressionBuilder
from boto3.dynamodb.types import TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_serializer = TypeSerializer()


class UpdateArguments(TypedDict):
    """The expression arguments of UpdateItem (or of a transaction's Update)."""

    UpdateExpression: str
    ConditionExpression: str
    ExpressionAttributeNames: dict[str, str]
    ExpressionAttributeValues: dict[str, AttributeValueTypeDef]


def attribute_value(value: Any) -> AttributeValueTypeDef:
    """A value in DynamoDB's JSON; a float as the number it prints as (DynamoDB has no floats)."""
    return _serializer.serialize(Decimal(repr(value)) if isinstance(value, float) else value)


def set_values(
    values: Mapping[str, Any], condition: ConditionBase, keep_first: Collection[str] = ()
) -> UpdateArguments:
    """SET each attribute of `values` (those named in `keep_first` only where the item has none yet:
    a retried write keeps the first value), if `condition` holds (every write here has one)."""
    names: dict[str, str] = {}
    placeholders: dict[str, Any] = {}
    assignments = []
    for index, (name, value) in enumerate(values.items()):
        names[f"#set{index}"], placeholders[f":set{index}"] = name, value
        written = f"if_not_exists(#set{index}, :set{index})" if name in keep_first else f":set{index}"
        assignments.append(f"#set{index} = {written}")
    # A builder of its own: the same update gets the same placeholders every time (a retried
    # transaction must send identical parameters under its ClientRequestToken).
    built = ConditionExpressionBuilder().build_expression(condition)
    return UpdateArguments(
        UpdateExpression="SET " + ", ".join(assignments),
        ConditionExpression=built.condition_expression,
        ExpressionAttributeNames=names | built.attribute_name_placeholders,
        ExpressionAttributeValues={
            key: attribute_value(value) for key, value in (placeholders | built.attribute_value_placeholders).items()
        },
    )
