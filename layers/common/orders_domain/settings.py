"""What functions read from their environment, as typed models. A function's settings model lists
only the variables it reads (composed from the groups below), each required and typed, and is
validated once, when the function's module is imported: a missing or malformed variable fails the
init, a misspelt setting fails mypy. The template is the source of every value: a test checks that
each function reads exactly the variables the template gives it."""

import os
from decimal import Decimal
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field

# DynamoDB table names are 3-255 characters.
TableName = Annotated[str, Field(min_length=3)]
Arn = Annotated[str, Field(pattern=r"^arn:")]
Seconds = Annotated[int, Field(gt=0)]


class FunctionSettings(BaseModel):
    """A settings model: each field's alias is its environment variable. Validators are built on
    first use (defer_build), so a function pays only for the models it reads."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, defer_build=True)

    @classmethod
    def from_environment(cls) -> Self:
        variables = {field.alias for field in cls.model_fields.values()}
        return cls.model_validate({name: value for name, value in os.environ.items() if name in variables})


# -- Groups that several functions read (the three tables come from the template's Globals).


class UsersTable(FunctionSettings):
    users_table: TableName = Field(alias="USERS_TABLE")


class InventoryTable(FunctionSettings):
    inventory_table: TableName = Field(alias="INVENTORY_TABLE")


class OrdersTable(FunctionSettings):
    orders_table: TableName = Field(alias="ORDERS_TABLE")


class IdempotencyTable(FunctionSettings):
    idempotency_table: TableName = Field(alias="IDEMPOTENCY_TABLE")


class ImportsTable(FunctionSettings):
    imports_table: TableName = Field(alias="IMPORTS_TABLE")


class ImportsBucket(FunctionSettings):
    imports_bucket: str = Field(alias="IMPORTS_BUCKET", min_length=3)


class StateMachine(FunctionSettings):
    """The workflow that the function starts."""

    state_machine_arn: Arn = Field(alias="STATE_MACHINE_ARN")


class ApprovalThreshold(FunctionSettings):
    approval_threshold: Decimal = Field(alias="APPROVAL_THRESHOLD", ge=0)


class PaymentProviderAccess(FunctionSettings):
    payment_api_url: str = Field(alias="PAYMENT_API_URL", pattern=r"^https?://")
    payment_api_key_secret: str = Field(alias="PAYMENT_API_KEY_SECRET", min_length=1)


class PaymentCircuitBreaker(FunctionSettings):
    breaker_table: TableName = Field(alias="CIRCUIT_BREAKER_TABLE")
    breaker_wait: Seconds = Field(alias="PAYMENT_BREAKER_WAIT")
    breaker_threshold: int = Field(alias="PAYMENT_BREAKER_THRESHOLD", gt=0)


class ApprovalRules(ApprovalThreshold):
    """When an order waits for staff (its total above the threshold), and for how long at most."""

    approval_timeout: Seconds = Field(alias="APPROVAL_TIMEOUT")


# -- What one part of the domain needs, read whole by each function that runs that part.


class ImportStorage(ImportsTable, ImportsBucket):
    """An import's progress and its files (the upload, its chunks, the report of rejected rows)."""


class StockReservation(OrdersTable, InventoryTable):
    """An order and the stock it holds, changed together in one transaction."""


class OrderCompensation(StockReservation, PaymentProviderAccess):
    """Ending an order that will not be confirmed: its stock released, its charge refunded."""
