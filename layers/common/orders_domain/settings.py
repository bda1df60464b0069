"""Settings read from environment variables once per process and validated as a typed model."""

import os
from decimal import Decimal
from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from orders_domain.errors import ConfigurationError


class Settings(BaseModel):
    """What the template passes to a function. Shared names come from Globals and are required;
    the rest are set only on the functions that need them (a state machine ARN in Globals would
    make a dependency cycle), so they are optional here and fetched with `require`."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    users_table: str = Field(alias="USERS_TABLE", min_length=3)
    inventory_table: str = Field(alias="INVENTORY_TABLE", min_length=3)
    orders_table: str = Field(alias="ORDERS_TABLE", min_length=3)
    idempotency_table: str | None = Field(default=None, alias="IDEMPOTENCY_TABLE")
    analytics_table: str | None = Field(default=None, alias="ANALYTICS_TABLE")
    event_bus_name: str | None = Field(default=None, alias="EVENT_BUS_NAME")
    state_machine_arn: str | None = Field(default=None, alias="STATE_MACHINE_ARN")
    order_received_topic_arn: str | None = Field(default=None, alias="ORDER_RECEIVED_TOPIC_ARN")
    user_pool_id: str | None = Field(default=None, alias="USER_POOL_ID")
    cors_allow_origin: str = Field(default="*", alias="CORS_ALLOW_ORIGIN")
    approval_threshold: Decimal = Field(default=Decimal(1000), alias="APPROVAL_THRESHOLD", ge=0)
    approval_timeout: int = Field(default=86400, alias="APPROVAL_TIMEOUT", gt=0)
    approval_topic_arn: str | None = Field(default=None, alias="APPROVAL_TOPIC_ARN")
    payment_api_url: str | None = Field(default=None, alias="PAYMENT_API_URL")
    payment_api_key_secret: str | None = Field(default=None, alias="PAYMENT_API_KEY_SECRET")
    payment_timeout_seconds: float = Field(default=5, alias="PAYMENT_TIMEOUT_SECONDS", gt=0)
    payment_max_wait: int = Field(default=1800, alias="PAYMENT_MAX_WAIT", gt=0)
    breaker_table: str | None = Field(default=None, alias="CIRCUIT_BREAKER_TABLE")
    breaker_wait: int = Field(default=60, alias="PAYMENT_BREAKER_WAIT", gt=0)
    breaker_threshold: int = Field(default=5, alias="PAYMENT_BREAKER_THRESHOLD", gt=0)
    imports_table: str | None = Field(default=None, alias="IMPORTS_TABLE")
    imports_bucket: str | None = Field(default=None, alias="IMPORTS_BUCKET")
    import_url_expiry: int = Field(default=900, alias="IMPORT_URL_EXPIRY", gt=0, le=3600)
    idempotency_ttl_seconds: int = Field(default=3600, alias="IDEMPOTENCY_TTL_SECONDS", gt=0)

    def require(self, name: str) -> str:
        """The value of an optional setting that this function cannot work without."""
        value = getattr(self, name)
        if not value:
            alias = type(self).model_fields[name].alias
            raise ConfigurationError(f"environment variable {alias} is not set")
        return str(value)


@cache
def get_settings() -> Settings:
    """The process's settings; validated on first use, then reused (a Lambda environment never changes)."""
    fields = {field.alias for field in Settings.model_fields.values()}
    return Settings.model_validate({name: value for name, value in os.environ.items() if name in fields})
