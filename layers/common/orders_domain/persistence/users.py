"""The users table: one profile per customer, by user id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from orders_domain.adapters import aws_clients
from orders_domain.models import (
    User,
)
from orders_domain.persistence.items import from_item, is_condition_failure, to_item

if TYPE_CHECKING:
    pass


class UsersRepository:
    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    def add(self, user: User) -> bool:
        """Store a new profile; False when this user has one already (a repeated trigger)."""
        try:
            aws_clients.dynamodb().put_item(
                TableName=self.table_name,
                Item=to_item(user),
                ConditionExpression="attribute_not_exists(user_id)",
            )
        except ClientError as error:
            if not is_condition_failure(error):
                raise
            return False
        return True

    def get(self, user_id: str) -> User | None:
        item = aws_clients.dynamodb().get_item(TableName=self.table_name, Key={"user_id": {"S": user_id}}).get("Item")
        return User.model_validate(from_item(item)) if item else None
